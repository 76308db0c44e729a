/**
 * Ids the client makes (a call's `callId`, a message's `id`): random UUIDs, version 4 (RFC 9562 §5.4).
 * Built from crypto.getRandomValues rather than crypto.randomUUID, which browsers only offer on secure origins: a
 * phone page opened over plain http on a LAN address must still be able to send a message.
 */
export declare function newId(): string;
