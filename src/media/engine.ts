/**
 * The media-engine seam: what the relay needs of a WebRTC implementation, so the engine can be swapped (config
 * `webrtcEngine`: ./datachannel-engine.ts, ./werift-engine.ts; ./webrtc-leg.ts holds what their legs share). A leg
 * is callhook's end of one browser's peer connection: host candidates only in its SDP, DTLS-SRTP, rtcp-mux, one
 * audio stream.
 *
 * States (one guard, in ./webrtc-leg.ts):
 *   new → connecting        our SDP exists; waiting for the browser's ICE checks and DTLS
 *   connecting → connected  DTLS-SRTP is up: RTP flows
 *   new | connecting | connected → failed   ICE or DTLS failed or timed out (`info` says which, in WCS words)
 *   any → closed            close()
 */
import type { CodecName, PayloadFormat } from './codecs.ts';
import type { RtpPacket } from './rtp/packet.ts';

export type WebRtcLegState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export const WEBRTC_LEG_TRANSITIONS: Readonly<Record<WebRtcLegState, readonly WebRtcLegState[]>> = {
  new: ['connecting', 'failed', 'closed'],
  connecting: ['connected', 'failed', 'closed'],
  connected: ['failed', 'closed'],
  failed: ['closed'],
  closed: [],
};

export interface WebRtcLegOptions {
  /** The codecs the leg may use, in preference order: what the SIP side can take. */
  codecs: readonly CodecName[];
  /**
   * The highest sampling rate of the SIP-side codecs the call may be transcoded to (8000 for G.711, 16000 with
   * G.722): an Opus browser is told to send no wider a band (RFC 7587 §6.1 maxplaybackrate). Unset: no limit.
   */
  opusRate?: number;
}

/** What a leg agreed with the browser, with the browser's payload type numbers. */
export interface WebRtcMedia {
  /** The codec the browser sends and receives. */
  codec: PayloadFormat;
  /** telephone-event/8000, when the browser has it. */
  telephoneEvent?: PayloadFormat;
}

export interface WebRtcLegStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** RTP packets from the browser lost on the way, from the gaps in sequence numbers (RFC 3550 A.3). */
  packetsLost: number;
}

export interface WebRtcLeg {
  readonly state: WebRtcLegState;
  /** The UDP port of our ICE candidate (from webrtcPortMin..Max), once our SDP exists. */
  readonly localPort: number | undefined;
  /** Our SDP (answer or offer) as sent to the browser. */
  readonly localSdp: string | undefined;
  /** The negotiated formats, once both SDPs are known. */
  readonly media: WebRtcMedia | undefined;
  /**
   * Outgoing call: answers the browser's offer, restricted to `codecs`; resolves with our answer. Throws
   * MediaError MEDIA_SDP_PARSE or NoCommonCodecError (the browser offers none of `codecs`), MediaError MEDIA_PORTS_EXHAUSTED.
   */
  setRemoteOffer(offerSdp: string): Promise<string>;
  /** Incoming call: our offer to the browser. Throws MediaError MEDIA_PORTS_EXHAUSTED. */
  createOffer(): Promise<string>;
  /** Incoming call: the browser's answer to createOffer. Throws MediaError MEDIA_SDP_PARSE, NoCommonCodecError. */
  setRemoteAnswer(answerSdp: string): Promise<void>;
  /** RTP from the browser, decrypted; only the negotiated payload types. */
  onRtp(fn: (packet: RtpPacket) => void): () => void;
  /** Every state change; `info` is the WCS failure text on `failed`. */
  onStateChange(fn: (state: WebRtcLegState, info?: string) => void): () => void;
  /**
   * Sends one packet to the browser with its own payload type, which must be a negotiated one (DTMF keeps its
   * telephone-event type). The SSRC is the leg's own. Dropped while not connected.
   */
  sendRtp(packet: RtpPacket): void;
  stats(): WebRtcLegStats;
  /** Ends the peer connection and releases its ports. Safe to call more than once. */
  close(): Promise<void>;
}

export interface MediaEngine {
  createLeg(options: WebRtcLegOptions): WebRtcLeg;
  /** Lets go of what the engine holds for its whole life (the shared port of ICE UDP mux), once its legs are closed. */
  close(): void;
}
