/**
 * Expected failures of the media library, as values a caller may catch and branch on (`code`). A plain `Error`
 * thrown from here is a bug, not an expected condition.
 */
export abstract class MediaException extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Text that is not a valid SDP (RFC 8866 §5, §9). The message names the line and what was wrong with it. */
export class SdpParseError extends MediaException {
  readonly code = 'MEDIA_SDP_PARSE';
}

/**
 * The two sides share no codec the relay can pass through (G.711, RFC 3551 §4.5.14), or an offer has no usable
 * audio stream. `message` is the WCS call-failure text `No common codecs`; `detail` says what was offered.
 */
export class NoCommonCodecError extends MediaException {
  readonly code = 'MEDIA_NO_COMMON_CODEC';
  constructor(readonly detail: string) {
    super(NO_COMMON_CODECS);
  }
}

/** Bytes that are not an RTP or RTCP packet (RFC 3550 §5.1, §6.4). */
export class RtpParseError extends MediaException {
  readonly code = 'MEDIA_RTP_PARSE';
}

/** Every port (pair) of a configured range is in use or could not be bound. */
export class PortsExhaustedError extends MediaException {
  readonly code = 'MEDIA_PORTS_EXHAUSTED';
}

/** An operation not allowed in the current state (a leg that is closed, DTMF without telephone-event, …). */
export class MediaStateError extends MediaException {
  readonly code = 'MEDIA_STATE';
}

/** The configured WebRTC engine cannot run here (its native module did not load). */
export class EngineUnavailableError extends MediaException {
  readonly code = 'MEDIA_ENGINE_UNAVAILABLE';
}

/** WCS call-failure texts (wcs-notes.md): the `info` of a FAILED call whose media failed. */
export const NO_COMMON_CODECS = 'No common codecs';
export const FAILED_BY_ICE = 'Failed by ICE error';
export const FAILED_BY_DTLS = 'Failed by DTLS error';
export const FAILED_BY_RTP_ACTIVITY = 'Failed by RTP activity';
