/**
 * RTP and RTCP wire formats (RFC 3550), RFC 4733 telephone-events, and the pure processors the relay is built from
 * (stream rewriting, reception statistics, event detection). No I/O, no timers.
 */
export {
  isRtcp, NO_CSRCS, parseRtp, rtpPacketSize, RtpWriter, serializeRtp, writeRtp, RTP_FIXED_HEADER_SIZE, RTP_VERSION, type RtpHeader,
  type RtpHeaderExtension, type RtpPacket,
} from './packet.ts';
export { parseRtcp, RTCP_RR, RTCP_SR, type ReportBlock, type RtcpPacket, type SenderInfo } from './rtcp.ts';
export {
  decodeTelephoneEvent, digitPackets, dtmfDigit, dtmfEvents, encodeTelephoneEvent,
  TelephoneEventDetector, TELEPHONE_EVENT_SIZE, type DetectedEvent, type DigitOptions, type DigitPacket,
  type TelephoneEvent,
} from './telephone-event.ts';
export { RtpStreamRewriter, type RewriterOptions, type RewrittenHeader } from './rewriter.ts';
export { ReceptionStats } from './reception.ts';
