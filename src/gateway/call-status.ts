/**
 * How SIP outcomes become call statuses (docs/client-protocol.md "The call object and the status frames", with
 * WCS's `info` texts; RFC 3261 §21 for the codes): pure functions, so the whole table is checked without a network.
 *
 *   100                      → TRYING
 *   180                      → RING             (RING_MEDIA when it carries SDP: early media)
 *   183                      → SESSION_PROGRESS (with or without SDP)
 *   other 1xx                → RING
 *   2xx                      → ESTABLISHED
 *   486, 600                 → BUSY             info `SIP 486 Busy Here`
 *   488, 606                 → FAILED           info `No common codecs` (the peer refused our offer's media;
 *                                               `No common crypto` when the offer was SRTP only: sipSrtp required)
 *   other 3xx-6xx            → FAILED           info `SIP 404 Not Found`
 *   no final response        → FAILED           info `Failed by request timeout`
 *   BYE either way, CANCEL   → FINISH           info `Normal call clearing`
 */
import { NO_COMMON_CODECS, NO_COMMON_CRYPTO, NoCommonCodecError, NoCommonCryptoError, type MediaError } from '../media/index.ts';
import type { InviteSessionEvent } from '../sip/ua/index.ts';
import type { CallStatus } from './types.ts';
import { sipMessageRaw } from './views.ts';

/** The WCS `info` texts (SDK 2.0 CALL_STATUS_INFO) that callhook uses. */
export const NORMAL_CALL_CLEARING = 'Normal call clearing';
const FAILED_BY_REQUEST_TIMEOUT = 'Failed by request timeout';
export const FAILED_BY_SESSION_CREATION = 'Failed by session creation';

/** What a status report carries besides the status (all optional: a status the server decided has no SIP message). */
export interface StatusDetail {
  info?: string;
  /** The SIP status code behind the status. */
  sipStatus?: number;
  /** The SIP message behind the status, as text (credentials redacted). */
  sipMessageRaw?: string;
}

/** The status a provisional response means; `withSdp` when it carried an SDP answer (early media). */
export function provisionalStatus(status: number, withSdp: boolean): CallStatus {
  if (status === 100) return 'TRYING';
  if (status === 180) return withSdp ? 'RING_MEDIA' : 'RING';
  if (status === 183) return 'SESSION_PROGRESS';
  return 'RING';
}

/** RFC 3261 §21.4.24 Busy Here and §21.6.1 Busy Everywhere: the callee is busy, not unreachable. */
function isBusy(status: number | undefined): boolean {
  return status === 486 || status === 600;
}

/**
 * RFC 3261 §21.4.26 Not Acceptable Here and §21.6.4 Not Acceptable: the peer refused the session our offer described,
 * which callhook only shapes by its codecs (the codec policy): the same failure as when callhook finds no common
 * codec itself, so the client sees one text whichever side found out.
 */
function refusesOffer(status: number | undefined): boolean {
  return status === 488 || status === 606;
}

/**
 * The final status of a call whose SIP session ended first (the far end, the network, or our CANCEL/BYE);
 * `srtpOnly`: our offer was RTP/SAVP only (sipSrtp `required`), so a refusal of it is about the crypto.
 */
export function endStatus(
  e: Extract<InviteSessionEvent, { type: 'terminated' }>,
  o: { srtpOnly?: boolean } = {},
): { status: CallStatus; detail: StatusDetail } {
  const detail: StatusDetail = {};
  if (e.status !== undefined) detail.sipStatus = e.status;
  if (e.raw !== undefined) detail.sipMessageRaw = sipMessageRaw(e.raw);
  switch (e.cause) {
    case 'rejected':
      return { status: isBusy(e.status) ? 'BUSY' : 'FAILED', detail: { ...detail, info: refusesOffer(e.status) ? (o.srtpOnly ? NO_COMMON_CRYPTO : NO_COMMON_CODECS) : e.info } };
    case 'timeout':
    case 'ack-timeout':
      return { status: 'FAILED', detail: { ...detail, info: FAILED_BY_REQUEST_TIMEOUT } };
    case 'transport-error':
      // RFC 3261 §8.1.3.1: a transport failure counts as 503.
      return { status: 'FAILED', detail: { ...detail, info: `SIP 503 Service Unavailable (${e.info})` } };
    case 'dialog-gone':
    case 'session-expired':
    case 'internal-error':
    case 'disposed':
      return { status: 'FAILED', detail: { ...detail, info: e.info } };
    case 'cancelled':
    case 'remote-cancel':
    case 'declined':
    case 'local-bye':
    case 'remote-bye':
      return { status: 'FINISH', detail: { ...detail, info: NORMAL_CALL_CLEARING } };
  }
}

/** FINISH, BUSY and FAILED end a call (the SDK releases its side on any of them). */
export function isFinal(status: CallStatus): boolean {
  return status === 'FINISH' || status === 'BUSY' || status === 'FAILED';
}


/** The `info` of a media failure: the WCS text for codecs (and ours for crypto), else what failed while the call was being set up. */
export function mediaFailureInfo(e: MediaError): string {
  return e instanceof NoCommonCodecError || e instanceof NoCommonCryptoError ? e.message : `${FAILED_BY_SESSION_CREATION}: ${e.message}`;
}
