/**
 * RTP packets (RFC 3550 §5.1), parsed from and written into buffers the caller owns.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           synchronization source (SSRC) identifier            |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |            contributing source (CSRC) identifiers             |
 *   |                             ....                              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * With X set, a header extension follows the CSRCs (§5.3.1); it is kept raw (RFC 8285 element parsing is the WebRTC
 * engine's business):
 *
 *   |      defined by profile       |           length              |
 *   |                        header extension                       |
 *
 * With P set, the last payload octet counts the padding octets at the end, itself included (§5.1).
 */
import { MediaError } from '../errors.ts';

export interface RtpHeaderExtension {
  profile: number;
  /** The extension words (length × 4 bytes). */
  data: Buffer;
}

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Read-only: packets without CSRCs (nearly all) share NO_CSRCS rather than each allocating an empty list. */
  csrcs: readonly number[];
  extension?: RtpHeaderExtension;
}

export interface RtpPacket {
  header: RtpHeader;
  payload: Buffer;
  /** Padding octets after the payload (0: the P bit is clear). */
  paddingSize: number;
}

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_SIZE = 12;

const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
const EXTENSION_BIT = 0x10;
const CC_MASK = 0x0f;
const MARKER_BIT = 0x80;
const PT_MASK = 0x7f;
const SEQ_OFFSET = 2;
const TIMESTAMP_OFFSET = 4;
const SSRC_OFFSET = 8;

/** The CSRC list of every packet without contributing sources: one shared, frozen list instead of one per packet. */
export const NO_CSRCS: readonly number[] = Object.freeze([]);

/** Parses one RTP packet. The payload shares memory with `buf`. Throws MediaError MEDIA_RTP_PARSE. */
export function parseRtp(buf: Buffer): RtpPacket {
  if (buf.length < RTP_FIXED_HEADER_SIZE) throw new MediaError('MEDIA_RTP_PARSE', `RTP packet of ${buf.length} bytes < 12`);
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  if (b0 >> VERSION_SHIFT !== RTP_VERSION) throw new MediaError('MEDIA_RTP_PARSE', `RTP version ${b0 >> VERSION_SHIFT} is not 2`);
  const csrcCount = b0 & CC_MASK;
  let offset = RTP_FIXED_HEADER_SIZE + csrcCount * 4;
  if (buf.length < offset) throw new MediaError('MEDIA_RTP_PARSE', `RTP packet of ${buf.length} bytes < ${offset} with ${csrcCount} CSRCs`);
  let csrcs = NO_CSRCS;
  if (csrcCount > 0) {
    const list: number[] = [];
    for (let i = 0; i < csrcCount; i++) list.push(buf.readUInt32BE(RTP_FIXED_HEADER_SIZE + i * 4));
    csrcs = list;
  }
  const header: RtpHeader = {
    marker: (b1 & MARKER_BIT) !== 0,
    payloadType: b1 & PT_MASK,
    sequenceNumber: buf.readUInt16BE(SEQ_OFFSET),
    timestamp: buf.readUInt32BE(TIMESTAMP_OFFSET),
    ssrc: buf.readUInt32BE(SSRC_OFFSET),
    csrcs,
  };
  if (b0 & EXTENSION_BIT) {
    if (buf.length < offset + 4) throw new MediaError('MEDIA_RTP_PARSE', 'RTP header extension is cut short');
    const profile = buf.readUInt16BE(offset);
    const words = buf.readUInt16BE(offset + 2);
    const end = offset + 4 + words * 4;
    if (buf.length < end) throw new MediaError('MEDIA_RTP_PARSE', `RTP header extension of ${words} words is cut short`);
    header.extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let paddingSize = 0;
  if (b0 & PADDING_BIT) {
    paddingSize = buf[buf.length - 1]!;
    if (paddingSize === 0 || offset + paddingSize > buf.length) {
      throw new MediaError('MEDIA_RTP_PARSE', `RTP padding count ${paddingSize} does not fit the packet`);
    }
  }
  return { header, payload: buf.subarray(offset, buf.length - paddingSize), paddingSize };
}

/** Bytes `writeRtp` writes for `packet`. */
export function rtpPacketSize(packet: RtpPacket): number {
  const ext = packet.header.extension;
  return RTP_FIXED_HEADER_SIZE + packet.header.csrcs.length * 4 + (ext ? 4 + ext.data.length : 0) +
    packet.payload.length + packet.paddingSize;
}

/** Writes `packet` into `buf` at `offset`; returns the number of bytes written (rtpPacketSize). */
export function writeRtp(packet: RtpPacket, buf: Buffer, offset = 0): number {
  const h = packet.header;
  const size = rtpPacketSize(packet);
  if (buf.length - offset < size) throw new RangeError(`buffer of ${buf.length - offset} bytes < RTP packet of ${size}`);
  if (h.csrcs.length > CC_MASK) throw new RangeError(`${h.csrcs.length} CSRCs > 15`);
  if (h.extension && h.extension.data.length % 4 !== 0) throw new RangeError('RTP header extension is not whole words');
  buf[offset] = (RTP_VERSION << VERSION_SHIFT) | (packet.paddingSize > 0 ? PADDING_BIT : 0) |
    (h.extension ? EXTENSION_BIT : 0) | h.csrcs.length;
  buf[offset + 1] = (h.marker ? MARKER_BIT : 0) | (h.payloadType & PT_MASK);
  buf.writeUInt16BE(h.sequenceNumber & 0xffff, offset + SEQ_OFFSET);
  buf.writeUInt32BE(h.timestamp >>> 0, offset + TIMESTAMP_OFFSET);
  buf.writeUInt32BE(h.ssrc >>> 0, offset + SSRC_OFFSET);
  let at = offset + RTP_FIXED_HEADER_SIZE;
  for (const csrc of h.csrcs) {
    buf.writeUInt32BE(csrc >>> 0, at);
    at += 4;
  }
  if (h.extension) {
    buf.writeUInt16BE(h.extension.profile, at);
    buf.writeUInt16BE(h.extension.data.length / 4, at + 2);
    h.extension.data.copy(buf, at + 4);
    at += 4 + h.extension.data.length;
  }
  packet.payload.copy(buf, at);
  at += packet.payload.length;
  if (packet.paddingSize > 0) {
    buf.fill(0, at, at + packet.paddingSize - 1);
    buf[at + packet.paddingSize - 1] = packet.paddingSize;
    at += packet.paddingSize;
  }
  return at - offset;
}

export function serializeRtp(packet: RtpPacket): Buffer {
  const buf = Buffer.allocUnsafe(rtpPacketSize(packet));
  writeRtp(packet, buf);
  return buf;
}

/** What an RtpWriter holds without allocating: an Ethernet MTU, more than any RTP packet a leg relays. */
const WRITER_CAPACITY = 1500;

/**
 * Writes a leg's outgoing packets into one buffer of its own, so that the packet path allocates nothing per packet
 * (a Buffer per packet is a malloc and, later, work for the garbage collector, 50 times a second per direction of
 * each call). What `write` returns is valid until its next call: the caller sends it (or copies it) at once.
 */
export class RtpWriter {
  private readonly buf = Buffer.allocUnsafeSlow(WRITER_CAPACITY);
  /** `buf` cut to the last packet's size: a stream's packets are mostly of one size, so one view serves them all. */
  private view = this.buf.subarray(0, 0);

  /**
   * `packet` in wire form, with `ssrc` in place of its header's when given (a leg sending as the source its SDP
   * announced); a packet larger than the buffer gets a buffer of its own.
   */
  write(packet: RtpPacket, ssrc?: number): Buffer {
    const size = rtpPacketSize(packet);
    let out: Buffer;
    if (size > this.buf.length) out = serializeRtp(packet);
    else {
      writeRtp(packet, this.buf);
      if (this.view.length !== size) this.view = this.buf.subarray(0, size);
      out = this.view;
    }
    if (ssrc !== undefined) out.writeUInt32BE(ssrc >>> 0, SSRC_OFFSET);
    return out;
  }
}

/**
 * Whether a datagram on a muxed port is RTCP rather than RTP (RFC 5761 §4): RTCP packet types 192–223 land on
 * the byte that RTP uses for M and PT, where RTP payload types 64–95 are not used for that reason.
 */
export function isRtcp(buf: Buffer): boolean {
  const b1 = buf[1];
  return b1 !== undefined && b1 >= 192 && b1 <= 223;
}
