/**
 * STUN messages (RFC 8489, which obsoletes RFC 5389 without changing the wire format), reduced to what an ICE-lite
 * agent needs: parsing a Binding request, checking its MESSAGE-INTEGRITY (short-term credentials, HMAC-SHA1) and
 * FINGERPRINT, and writing the success or error response.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |0 0|     STUN Message Type     |         Message Length        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         Magic Cookie                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     Transaction ID (96 bits)                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * then attributes, each a 16-bit type, a 16-bit value length and the value padded to 4 bytes (§14).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { MediaError } from '../errors.ts';
import type { UdpPeer } from '../latched-destination.ts';

/** A datagram that is not a well-formed STUN message: the message says what was wrong. */
export class StunError extends MediaError {
  constructor(message: string) {
    super('MEDIA_STUN_PARSE', message);
  }
}

export const STUN_HEADER_SIZE = 20;
export const MAGIC_COOKIE = 0x2112a442;
/** The one method ICE uses (§18.2). */
export const BINDING = 0x001;

/** Attribute types, named as in RFC 8489 §18.3 and RFC 8445 §16.1. */
export const USERNAME = 0x0006;
export const MESSAGE_INTEGRITY = 0x0008;
export const ERROR_CODE = 0x0009;
export const XOR_MAPPED_ADDRESS = 0x0020;
export const PRIORITY = 0x0024;
export const USE_CANDIDATE = 0x0025;
export const FINGERPRINT = 0x8028;
export const ICE_CONTROLLED = 0x8029;
export const ICE_CONTROLLING = 0x802a;

const INTEGRITY_SIZE = 20; // HMAC-SHA1
const FINGERPRINT_SIZE = 4;
/** "STUN" in ASCII: XORed into the CRC so that a CRC over a non-STUN packet is not mistaken for one (§14.7). */
const FINGERPRINT_XOR = 0x5354554e;

/** The two class bits C1 C0 (§5), in their numeric order. */
const CLASSES = ['request', 'indication', 'success', 'error'] as const;
export type StunClass = (typeof CLASSES)[number];

export interface StunAttribute {
  type: number;
  /** Shares memory with the datagram, without the padding. */
  value: Buffer;
  /** Where the attribute's header starts in the datagram: integrity and fingerprint cover the bytes before it. */
  offset: number;
}

export interface StunMessage {
  method: number;
  class: StunClass;
  /** 12 bytes, sharing memory with the datagram. */
  transactionId: Buffer;
  attributes: StunAttribute[];
  /** The datagram itself. */
  raw: Buffer;
}

/** What is wrong with the fixed header (§5, §6.3), or undefined when it is a STUN message's. */
function headerProblem(buf: Buffer): string | undefined {
  if (buf.length < STUN_HEADER_SIZE) return `STUN message of ${buf.length} bytes < ${STUN_HEADER_SIZE}`;
  if ((buf[0]! & 0xc0) !== 0) return 'STUN message type has its two top bits set';
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return 'no STUN magic cookie';
  const length = buf.readUInt16BE(2);
  if (length % 4 !== 0) return `STUN message length ${length} is not a multiple of 4`;
  if (length !== buf.length - STUN_HEADER_SIZE) return `STUN message length ${length} does not match its ${buf.length - STUN_HEADER_SIZE} bytes`;
  return undefined;
}

/** Whether a datagram is a STUN message by its header alone (RFC 8489 §6.3; the agent then checks FINGERPRINT). */
export function isStunMessage(buf: Buffer): boolean {
  return headerProblem(buf) === undefined;
}

/**
 * Parses a STUN message; throws StunError. Attributes after MESSAGE-INTEGRITY other than FINGERPRINT, and anything
 * after FINGERPRINT, are left out: they are not covered by the checks, and §14.5 and §14.7 say to ignore them.
 */
export function parseStun(buf: Buffer): StunMessage {
  const problem = headerProblem(buf);
  if (problem !== undefined) throw new StunError(problem);
  const type = buf.readUInt16BE(0);
  // M11..M0 interleaved with C1 at bit 8 and C0 at bit 4 (§5)
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const attributes: StunAttribute[] = [];
  let afterIntegrity = false;
  for (let offset = STUN_HEADER_SIZE; offset < buf.length;) {
    if (buf.length - offset < 4) throw new StunError(`STUN attribute header at ${offset} is cut short`);
    const attrType = buf.readUInt16BE(offset);
    const length = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + length;
    if (end > buf.length) throw new StunError(`STUN attribute 0x${attrType.toString(16)} of ${length} bytes at ${offset} is cut short`);
    const fixed = attrType === MESSAGE_INTEGRITY ? INTEGRITY_SIZE : attrType === FINGERPRINT ? FINGERPRINT_SIZE : length;
    if (length !== fixed) throw new StunError(`STUN attribute 0x${attrType.toString(16)} has ${length} bytes, not ${fixed}`);
    if (!afterIntegrity || attrType === FINGERPRINT) attributes.push({ type: attrType, value: buf.subarray(offset + 4, end), offset });
    if (attrType === FINGERPRINT) break;
    if (attrType === MESSAGE_INTEGRITY) afterIntegrity = true;
    offset = end + padding(length);
  }
  return { method, class: CLASSES[((type >> 4) & 1) | ((type >> 7) & 2)]!, transactionId: buf.subarray(8, 20), attributes, raw: buf };
}

/** The first attribute of this type. */
export function stunAttribute(message: StunMessage, type: number): StunAttribute | undefined {
  return message.attributes.find((a) => a.type === type);
}

/**
 * Whether MESSAGE-INTEGRITY is present and right for `key` (§14.5): HMAC-SHA1 over the message before the
 * attribute, with the header's length as if the message ended just after it. Short-term key: the password (§9.1.1).
 */
export function checkMessageIntegrity(message: StunMessage, key: Buffer): boolean {
  const attr = stunAttribute(message, MESSAGE_INTEGRITY);
  if (attr === undefined) return false;
  return timingSafeEqual(integrity(message.raw, attr.offset, key), attr.value);
}

/** Whether FINGERPRINT is present and right (§14.7): CRC-32 over the message before it, length adjusted likewise. */
export function checkFingerprint(message: StunMessage): boolean {
  const attr = stunAttribute(message, FINGERPRINT);
  return attr !== undefined && attr.value.readUInt32BE(0) === fingerprint(message.raw, attr.offset);
}

/** The header's length field while the checks are computed, reused: every use is synchronous. */
const adjustedLength = Buffer.alloc(2);

function integrity(buf: Buffer, offset: number, key: Buffer): Buffer {
  adjustedLength.writeUInt16BE(offset + 4 + INTEGRITY_SIZE - STUN_HEADER_SIZE);
  return createHmac('sha1', key).update(buf.subarray(0, 2)).update(adjustedLength).update(buf.subarray(4, offset)).digest();
}

function fingerprint(buf: Buffer, offset: number): number {
  adjustedLength.writeUInt16BE(offset + 4 + FINGERPRINT_SIZE - STUN_HEADER_SIZE);
  return (crc32(buf.subarray(4, offset), crc32(adjustedLength, crc32(buf.subarray(0, 2)))) ^ FINGERPRINT_XOR) >>> 0;
}

/** CRC-32 of ISO 3309 / ITU-T V.42 (the IEEE one, reflected polynomial 0xEDB88320) that FINGERPRINT uses. */
const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 of `bytes`, continuing from the CRC of what came before them (as zlib's `crc32(data, value)`). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

function padding(length: number): number {
  return (4 - (length % 4)) % 4;
}

export interface StunMessageToSend {
  method: number;
  class: StunClass;
  transactionId: Buffer;
  attributes: ReadonlyArray<{ type: number; value: Uint8Array }>;
}

/**
 * Writes a message: its attributes, then MESSAGE-INTEGRITY when `integrityKey` is given, then FINGERPRINT, which
 * ICE puts in every check and response (RFC 8445 §7.2.2, §7.3).
 */
export function serializeStun(message: StunMessageToSend, integrityKey?: Buffer): Buffer {
  let size = STUN_HEADER_SIZE;
  for (const a of message.attributes) size += 4 + a.value.length + padding(a.value.length);
  const integrityAt = size;
  if (integrityKey !== undefined) size += 4 + INTEGRITY_SIZE;
  const fingerprintAt = size;
  size += 4 + FINGERPRINT_SIZE;
  const out = Buffer.alloc(size);
  const m = message.method;
  const c = CLASSES.indexOf(message.class);
  out.writeUInt16BE((m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7), 0);
  out.writeUInt16BE(size - STUN_HEADER_SIZE, 2);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  message.transactionId.copy(out, 8);
  let at = STUN_HEADER_SIZE;
  for (const a of message.attributes) {
    out.writeUInt16BE(a.type, at);
    out.writeUInt16BE(a.value.length, at + 2);
    out.set(a.value, at + 4);
    at += 4 + a.value.length + padding(a.value.length);
  }
  if (integrityKey !== undefined) {
    out.writeUInt16BE(MESSAGE_INTEGRITY, integrityAt);
    out.writeUInt16BE(INTEGRITY_SIZE, integrityAt + 2);
    integrity(out, integrityAt, integrityKey).copy(out, integrityAt + 4);
  }
  out.writeUInt16BE(FINGERPRINT, fingerprintAt);
  out.writeUInt16BE(FINGERPRINT_SIZE, fingerprintAt + 2);
  out.writeUInt32BE(fingerprint(out, fingerprintAt), fingerprintAt + 4);
  return out;
}

/** The Binding success response to `request` (§7.3.1): where it came from as XOR-MAPPED-ADDRESS, signed with `key`. */
export function bindingSuccess(request: StunMessage, source: UdpPeer, key: Buffer): Buffer {
  const value = xorMappedAddress(source, request.transactionId);
  return serializeStun({ method: BINDING, class: 'success', transactionId: request.transactionId, attributes: [{ type: XOR_MAPPED_ADDRESS, value }] }, key);
}

/**
 * The error response to `request` (§7.3.1.1) with ERROR-CODE (§14.8): the class (hundreds) and number in their two
 * bytes, then the reason phrase. `key` only when the request's own integrity checked: a 400 or 401 is unsigned (§9.1.3).
 */
export function bindingError(request: StunMessage, code: number, reason: string, key?: Buffer): Buffer {
  const phrase = Buffer.from(reason, 'utf8');
  const value = Buffer.alloc(4 + phrase.length);
  value[2] = Math.floor(code / 100);
  value[3] = code % 100;
  phrase.copy(value, 4);
  return serializeStun({ method: BINDING, class: 'error', transactionId: request.transactionId, attributes: [{ type: ERROR_CODE, value }] }, key);
}

/**
 * XOR-MAPPED-ADDRESS (§14.2): family 1 (IPv4) or 2 (IPv6), the port XORed with the cookie's top 16 bits, the address
 * XORed with the cookie (IPv4) or the cookie and transaction id (IPv6), so that NATs rewriting addresses they find in
 * payloads leave it alone.
 */
function xorMappedAddress(source: UdpPeer, transactionId: Buffer): Buffer {
  const v4 = isIPv4(source.address);
  if (!v4 && !isIPv6(source.address)) throw new StunError(`"${source.address}" is not an IP address`);
  const value = Buffer.alloc(v4 ? 8 : 20);
  value[1] = v4 ? 1 : 2;
  value.writeUInt16BE(source.port ^ (MAGIC_COOKIE >>> 16), 2);
  if (v4) {
    value.writeUInt32BE((ipv4Number(source.address) ^ MAGIC_COOKIE) >>> 0, 4);
    return value;
  }
  ipv6Groups(source.address).forEach((g, i) => value.writeUInt16BE(g, 4 + 2 * i));
  for (let i = 0; i < 16; i++) value[4 + i]! ^= i < 4 ? (MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff : transactionId[i - 4]!;
  return value;
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** The eight 16-bit groups of a valid IPv6 address: `::` shorthand, a zone, an IPv4 tail (RFC 4291 §2.2). */
function ipv6Groups(address: string): number[] {
  const groups = (text: string): number[] =>
    text === '' ? [] : text.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const n = ipv4Number(g);
      return [n >>> 16, n & 0xffff];
    });
  const [head = '', tail] = address.replace(/%.*$/, '').split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
