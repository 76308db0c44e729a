/**
 * Ids the client makes (a call's `callId`, a message's `id`): random UUIDs, version 4 (RFC 9562 §5.4).
 * Built from crypto.getRandomValues rather than crypto.randomUUID, which browsers only offer on secure origins: a
 * phone page opened over plain http on a LAN address must still be able to send a message.
 */
export function newId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant (10xx)
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
