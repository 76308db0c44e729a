/**
 * RTCP (RFC 3550 §6.4), read only as far as a relay needs: sender and receiver reports are decoded (the peer's view
 * of the stream we send), every other packet type is recognised by its header and skipped. RTCP is never relayed
 * between the legs: each leg's SSRCs, sequence numbers and timestamps are its own.
 *
 * Sender report (§6.4.1); a receiver report (§6.4.2, PT=201) is the same without the sender info:
 *
 *          0                   1                   2                   3
 *          0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                         SSRC of sender                        |
 *         +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *  sender |              NTP timestamp, most significant word             |
 *  info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |             NTP timestamp, least significant word             |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                         RTP timestamp                         |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                     sender's packet count                     |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                      sender's octet count                     |
 *         +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *  report |                 SSRC_1 (SSRC of first source)                 |
 *  block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    1    | fraction lost |       cumulative number of packets lost       |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |           extended highest sequence number received           |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                      interarrival jitter                      |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                         last SR (LSR)                         |
 *         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *         |                   delay since last SR (DLSR)                  |
 *         +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * `length` counts 32-bit words minus one. Several packets may follow each other in one datagram (a compound
 * packet, §6.1).
 */
import { MediaError } from '../errors.ts';

export const RTCP_SR = 200;
export const RTCP_RR = 201;

export interface ReportBlock {
  ssrc: number;
  /** Fraction of packets lost since the previous report, in 1/256 units. */
  fractionLost: number;
  /** Cumulative packets lost (signed 24-bit: duplicates can make it negative). */
  packetsLost: number;
  highestSequence: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface SenderInfo {
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export type RtcpPacket =
  | { type: typeof RTCP_SR; ssrc: number; sender: SenderInfo; reports: ReportBlock[] }
  | { type: typeof RTCP_RR; ssrc: number; reports: ReportBlock[] }
  /** SDES, BYE, APP, feedback (RFC 4585) …: recognised, not decoded. */
  | { type: 'other'; packetType: number; byteLength: number };

const HEADER_SIZE = 4;
const SENDER_INFO_SIZE = 20;
const REPORT_BLOCK_SIZE = 24;

/** Parses a compound RTCP packet. Throws MediaError MEDIA_RTP_PARSE when a header or length does not fit. */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < HEADER_SIZE) throw new MediaError('MEDIA_RTP_PARSE', 'RTCP packet header is cut short');
    const b0 = buf[offset]!;
    if (b0 >> 6 !== 2) throw new MediaError('MEDIA_RTP_PARSE', `RTCP version ${b0 >> 6} is not 2`);
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1]!;
    const byteLength = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + byteLength > buf.length) throw new MediaError('MEDIA_RTP_PARSE', `RTCP packet of ${byteLength} bytes is cut short`);
    const body = buf.subarray(offset + HEADER_SIZE, offset + byteLength);
    if (packetType === RTCP_SR || packetType === RTCP_RR) {
      const fixed = 4 + (packetType === RTCP_SR ? SENDER_INFO_SIZE : 0);
      if (body.length < fixed + count * REPORT_BLOCK_SIZE) {
        throw new MediaError('MEDIA_RTP_PARSE', `RTCP ${packetType === RTCP_SR ? 'SR' : 'RR'} with ${count} report blocks is cut short`);
      }
      const ssrc = body.readUInt32BE(0);
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(readReportBlock(body, fixed + i * REPORT_BLOCK_SIZE));
      if (packetType === RTCP_SR) {
        const sender: SenderInfo = {
          ntpSeconds: body.readUInt32BE(4),
          ntpFraction: body.readUInt32BE(8),
          rtpTimestamp: body.readUInt32BE(12),
          packetCount: body.readUInt32BE(16),
          octetCount: body.readUInt32BE(20),
        };
        out.push({ type: RTCP_SR, ssrc, sender, reports });
      } else {
        out.push({ type: RTCP_RR, ssrc, reports });
      }
    } else {
      out.push({ type: 'other', packetType, byteLength });
    }
    offset += byteLength;
  }
  return out;
}

function readReportBlock(b: Buffer, at: number): ReportBlock {
  return {
    ssrc: b.readUInt32BE(at),
    fractionLost: b[at + 4]!,
    packetsLost: b.readIntBE(at + 5, 3),
    highestSequence: b.readUInt32BE(at + 8),
    jitter: b.readUInt32BE(at + 12),
    lastSr: b.readUInt32BE(at + 16),
    delaySinceLastSr: b.readUInt32BE(at + 20),
  };
}
