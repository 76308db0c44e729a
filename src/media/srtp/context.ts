/**
 * One direction of SRTP and SRTCP (RFC 3711): the crypto context of one master key, for every SSRC that uses it
 * (RFC 4568 §6.4: an SDES key covers the stream's SSRCs, each with its own rollover counter and replay list).
 *
 * - Encryption: AES-CM (§4.1.1), IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16), AES from Node's crypto.
 * - Authentication: HMAC-SHA1 (§4.2.1) over the packet and, for SRTP, its rollover counter (§4.2); the tag is
 *   checked before anything else is done with the packet (§3.3 step 5), in constant time.
 * - SRTP index (§3.3.1): ROC · 2^16 + SEQ, the ROC estimated from the highest sequence number seen (Appendix A);
 *   the stream's state moves on only once a packet has been authenticated, so a forged packet changes nothing.
 * - Replay (§3.3.2): a 64-packet window per SSRC, for SRTP and SRTCP.
 * - SRTCP (§3.4): the 31-bit SRTCP index with the E flag after the encrypted part, always encrypted when we send.
 *
 * `unprotect*` returns undefined for a packet that is too short, not authentic, or a replay: such packets are
 * dropped (§3.3 step 5), and the caller counts them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AesCm } from './aes-cm.ts';
import { sessionKeys, type SessionKeys } from './key-derivation.ts';
import { ReplayWindow } from './replay.ts';
import { SRTP_SUITES, type SrtpKeys } from './suites.ts';

/** SSRCs tracked per direction; the least recently added is forgotten beyond this (a peer uses one or two). */
const MAX_STREAMS = 16;
const RTP_HEADER_BYTES = 12;
const RTCP_HEADER_BYTES = 8;
const SRTCP_INDEX_BYTES = 4;
const E_FLAG = 0x8000_0000;
const MAX_SRTCP_INDEX = 0x7fff_ffff;

interface ReceivedRtpStream {
  roc: number;
  /** s_l: the highest sequence number authenticated (§3.3.1). */
  highestSeq: number;
  replay: ReplayWindow;
}

interface SentRtpStream {
  roc: number;
  lastSeq: number;
}

export class SrtpContext {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly rtpCipher: AesCm;
  private readonly rtcpCipher: AesCm;
  private readonly rtpTag: number;
  private readonly rtcpTag: number;
  private readonly received = new Map<number, ReceivedRtpStream>();
  private readonly sent = new Map<number, SentRtpStream>();
  private readonly rtcpReceived = new Map<number, ReplayWindow>();
  private readonly rtcpSent = new Map<number, number>();

  constructor(readonly keys: SrtpKeys) {
    this.rtp = sessionKeys(keys.masterKey, keys.masterSalt, false);
    this.rtcp = sessionKeys(keys.masterKey, keys.masterSalt, true);
    this.rtpCipher = new AesCm(this.rtp.encryption);
    this.rtcpCipher = new AesCm(this.rtcp.encryption);
    this.rtpTag = SRTP_SUITES[keys.suite].rtpTagBytes;
    this.rtcpTag = SRTP_SUITES[keys.suite].rtcpTagBytes;
  }

  /** An RTP packet as SRTP. The sender's ROC goes up when its sequence numbers wrap. */
  protectRtp(packet: Buffer): Buffer {
    const headerBytes = rtpHeaderLength(packet);
    if (headerBytes === undefined) throw new RangeError('protectRtp: not an RTP packet');
    const seq = packet.readUInt16BE(2);
    const ssrc = packet.readUInt32BE(8);
    const roc = this.sendingRoc(ssrc, seq);
    const out = Buffer.allocUnsafe(packet.length + this.rtpTag);
    packet.copy(out, 0, 0, headerBytes);
    this.rtpCipher.apply(this.rtp.salt, ssrc, roc, seq, packet.subarray(headerBytes), out, headerBytes);
    this.rtpDigest(out.subarray(0, packet.length), roc).copy(out, packet.length, 0, this.rtpTag);
    return out;
  }

  /** The RTP packet inside an SRTP one, or undefined (too short, not authentic, a replay). */
  unprotectRtp(packet: Buffer): Buffer | undefined {
    const end = packet.length - this.rtpTag;
    const headerBytes = rtpHeaderLength(packet);
    if (headerBytes === undefined || headerBytes > end) return undefined;
    const seq = packet.readUInt16BE(2);
    const ssrc = packet.readUInt32BE(8);
    const stream = this.received.get(ssrc);
    const roc = stream === undefined ? 0 : estimateRoc(stream, seq);
    if (roc < 0) return undefined;
    const index = roc * 0x10000 + seq;
    if (stream !== undefined && !stream.replay.fresh(index)) return undefined;
    const tag = this.rtpDigest(packet.subarray(0, end), roc).subarray(0, this.rtpTag);
    if (!timingSafeEqual(tag, packet.subarray(end))) return undefined;
    const out = Buffer.allocUnsafe(end);
    packet.copy(out, 0, 0, headerBytes);
    this.rtpCipher.apply(this.rtp.salt, ssrc, roc, seq, packet.subarray(headerBytes, end), out, headerBytes);
    this.receivedRtp(ssrc, stream, roc, seq, index);
    return out;
  }

  /** An RTCP compound packet as SRTCP, encrypted, with the next SRTCP index of its sender SSRC. */
  protectRtcp(packet: Buffer): Buffer {
    if (packet.length < RTCP_HEADER_BYTES) throw new RangeError('protectRtcp: not an RTCP packet');
    const ssrc = packet.readUInt32BE(4);
    const index = this.rtcpSent.get(ssrc) ?? 0;
    remember(this.rtcpSent, ssrc, index === MAX_SRTCP_INDEX ? 0 : index + 1);
    const trailer = packet.length;
    const out = Buffer.allocUnsafe(trailer + SRTCP_INDEX_BYTES + this.rtcpTag);
    packet.copy(out, 0, 0, RTCP_HEADER_BYTES);
    this.srtcpCrypt(ssrc, index, packet.subarray(RTCP_HEADER_BYTES), out);
    out.writeUInt32BE((E_FLAG | index) >>> 0, trailer);
    const authenticated = trailer + SRTCP_INDEX_BYTES;
    digest(this.rtcp, out.subarray(0, authenticated)).copy(out, authenticated, 0, this.rtcpTag);
    return out;
  }

  /** The RTCP compound packet inside an SRTCP one, or undefined (too short, not authentic, a replay). */
  unprotectRtcp(packet: Buffer): Buffer | undefined {
    const authenticated = packet.length - this.rtcpTag;
    const trailer = authenticated - SRTCP_INDEX_BYTES;
    if (trailer < RTCP_HEADER_BYTES) return undefined;
    const ssrc = packet.readUInt32BE(4);
    const word = packet.readUInt32BE(trailer);
    const index = word & MAX_SRTCP_INDEX;
    const replay = this.rtcpReceived.get(ssrc);
    if (replay !== undefined && !replay.fresh(index)) return undefined;
    const tag = digest(this.rtcp, packet.subarray(0, authenticated)).subarray(0, this.rtcpTag);
    if (!timingSafeEqual(tag, packet.subarray(authenticated))) return undefined;
    const out = Buffer.allocUnsafe(trailer);
    packet.copy(out, 0, 0, RTCP_HEADER_BYTES);
    const body = packet.subarray(RTCP_HEADER_BYTES, trailer);
    if ((word & E_FLAG) !== 0) this.srtcpCrypt(ssrc, index, body, out);
    else body.copy(out, RTCP_HEADER_BYTES);
    const window = replay ?? new ReplayWindow();
    window.accept(index);
    if (replay === undefined) remember(this.rtcpReceived, ssrc, window);
    return out;
  }

  /** §3.4: SRTCP is AES-CM with the SRTCP index as the packet index; the first 8 bytes stay clear. */
  private srtcpCrypt(ssrc: number, index: number, body: Buffer, out: Buffer): void {
    this.rtcpCipher.apply(this.rtcp.salt, ssrc, Math.floor(index / 0x10000), index & 0xffff, body, out, RTCP_HEADER_BYTES);
  }

  /** §4.2: the tag covers the authenticated portion followed by the ROC. */
  private rtpDigest(authenticated: Buffer, roc: number): Buffer {
    const rocBytes = Buffer.allocUnsafe(4);
    rocBytes.writeUInt32BE(roc >>> 0, 0);
    return createHmac('sha1', this.rtp.authentication).update(authenticated).update(rocBytes).digest();
  }

  private sendingRoc(ssrc: number, seq: number): number {
    const stream = this.sent.get(ssrc);
    if (stream === undefined) {
      remember(this.sent, ssrc, { roc: 0, lastSeq: seq });
      return 0;
    }
    const ahead = (seq - stream.lastSeq) & 0xffff;
    if (ahead === 0) return stream.roc;
    if (ahead < 0x8000) {
      // Newer: a sequence number below the last one has wrapped (RFC 3711 §3.3.1: the sender counts the wraps).
      if (seq < stream.lastSeq) stream.roc = (stream.roc + 1) >>> 0;
      stream.lastSeq = seq;
      return stream.roc;
    }
    // Older (sent out of order): from before the last wrap when it is above the last one.
    return seq > stream.lastSeq ? Math.max(stream.roc - 1, 0) : stream.roc;
  }

  /** The stream's state after an authentic packet (Appendix A's update of ROC and s_l, and the replay list). */
  private receivedRtp(ssrc: number, stream: ReceivedRtpStream | undefined, roc: number, seq: number, index: number): void {
    if (stream === undefined) {
      // §3.3.1: the first packet sets s_l; its ROC is 0 (SDES has no other starting value, RFC 4568 §6.4).
      const created = { roc, highestSeq: seq, replay: new ReplayWindow() };
      created.replay.accept(index);
      remember(this.received, ssrc, created);
      return;
    }
    if (roc > stream.roc) {
      stream.roc = roc;
      stream.highestSeq = seq;
    } else if (roc === stream.roc && seq > stream.highestSeq) stream.highestSeq = seq;
    stream.replay.accept(index);
  }
}

/** RFC 3711 Appendix A: the ROC a sequence number belongs to, given the highest one seen. */
function estimateRoc(stream: ReceivedRtpStream, seq: number): number {
  if (stream.highestSeq < 0x8000) return seq - stream.highestSeq > 0x8000 ? stream.roc - 1 : stream.roc;
  return stream.highestSeq - 0x8000 > seq ? stream.roc + 1 : stream.roc;
}

function digest(keys: SessionKeys, data: Buffer): Buffer {
  return createHmac('sha1', keys.authentication).update(data).digest();
}

/** The length of an RTP header with its CSRCs and extension (RFC 3550 §5.1, §5.3.1), or undefined if it is cut. */
function rtpHeaderLength(packet: Buffer): number | undefined {
  if (packet.length < RTP_HEADER_BYTES) return undefined;
  let length = RTP_HEADER_BYTES + (packet[0]! & 0x0f) * 4;
  if ((packet[0]! & 0x10) !== 0) {
    if (packet.length < length + 4) return undefined;
    length += 4 + packet.readUInt16BE(length + 2) * 4;
  }
  return length <= packet.length ? length : undefined;
}

/** Adds to a per-SSRC map, forgetting the oldest entry beyond MAX_STREAMS. */
function remember<T>(map: Map<number, T>, ssrc: number, value: T): void {
  if (!map.has(ssrc) && map.size >= MAX_STREAMS) map.delete(map.keys().next().value!);
  map.set(ssrc, value);
}
