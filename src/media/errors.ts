/**
 * Expected failures of the media library: one class, `MediaError`, with a code callers branch on. A plain `Error`
 * thrown from here is a bug, not an expected condition.
 */
import { ExpectedError } from '../errors.ts';

export type MediaErrorCode =
  /** Text that is not a valid SDP (RFC 8866 §5, §9). The message names the line and what was wrong with it. */
  | 'MEDIA_SDP_PARSE'
  /** No codec both sides can relay or transcode between (with `codecPolicy`), or no usable audio stream: `NoCommonCodecError`. */
  | 'MEDIA_NO_COMMON_CODEC'
  /**
   * No SRTP crypto suite both sides can use (RFC 4568): `sipSrtp` is `required` and the peer offered or answered
   * without a usable a=crypto, or the peer's RTP/SAVP stream has none: `NoCommonCryptoError`.
   */
  | 'MEDIA_NO_COMMON_CRYPTO'
  /** Bytes that are not an RTP or RTCP packet (RFC 3550 §5.1, §6.4), or a bad telephone-event payload (RFC 4733). */
  | 'MEDIA_RTP_PARSE'
  /**
   * Bytes that are not a well-formed STUN message (RFC 8489 §5, §14): `StunError` of ./ice/stun.ts; the ICE agent
   * drops them.
   */
  | 'MEDIA_STUN_PARSE'
  /** A digit string with a character that is not a DTMF event (RFC 4733 §3.2: 0–9, *, #, A–D). */
  | 'MEDIA_DTMF_DIGIT'
  /** Every port (pair) of a configured range is in use or could not be bound. */
  | 'MEDIA_PORTS_EXHAUSTED'
  /** The WebRTC engine gathered no ICE candidate: it could bind neither port of its pair. */
  | 'MEDIA_NO_CANDIDATE'
  /** The one UDP port all browser legs share (config `webrtcPort`, ICE UDP mux) cannot be bound at start. */
  | 'MEDIA_PORT_TAKEN'
  /** An operation not allowed in the current state (a leg that is closed, DTMF without telephone-event, …). */
  | 'MEDIA_STATE'
  /** The configured WebRTC engine cannot run here (its native module did not load). */
  | 'MEDIA_ENGINE_UNAVAILABLE'
  /** A codec library a transcoded call needs (libopus) did not load. */
  | 'MEDIA_CODEC_UNAVAILABLE'
  /** A payload the codec cannot decode (a corrupt Opus packet); the frame is concealed instead. */
  | 'MEDIA_CODEC_DATA'
  /** A sound file to play that is missing, unreadable, not a regular file, too large or empty. */
  | 'MEDIA_SOUND_FILE'
  /** A sound file in a format callhook does not play (the message names it and what is supported). */
  | 'MEDIA_AUDIO_FORMAT';

export class MediaError extends ExpectedError<MediaErrorCode> {}

/**
 * The two sides share no codec the relay can pass through (G.711, RFC 3551 §4.5.14), or an offer has no usable
 * audio stream. `message` is the WCS call-failure text `No common codecs`, which the client is shown; `detail`
 * says what was offered, for the log.
 */
export class NoCommonCodecError extends MediaError {
  constructor(readonly detail: string) {
    super('MEDIA_NO_COMMON_CODEC', NO_COMMON_CODECS);
  }
}

/**
 * The SIP side wants SRTP that we cannot do, or `sipSrtp: required` meets a peer without SDES (RFC 4568). `message` is
 * the call-failure text `No common crypto`; `detail` says what the peer's stream had, for the log.
 */
export class NoCommonCryptoError extends MediaError {
  constructor(readonly detail: string) {
    super('MEDIA_NO_COMMON_CRYPTO', NO_COMMON_CRYPTO);
  }
}

/** WCS's call-failure texts (docs/client-protocol.md "Media failures"): the `info` of a FAILED call whose media failed. */
export const NO_COMMON_CODECS = 'No common codecs';
/** callhook's own: SRTP towards SIP could not be agreed (`sipSrtp`). */
export const NO_COMMON_CRYPTO = 'No common crypto';
export const FAILED_BY_ICE = 'Failed by ICE error';
export const FAILED_BY_DTLS = 'Failed by DTLS error';
export const FAILED_BY_RTP_ACTIVITY = 'Failed by RTP activity';
