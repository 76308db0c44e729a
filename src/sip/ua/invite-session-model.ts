/**
 * The vocabulary of an INVITE session (./invite-session.ts): its states, why it ends, what it reports to its
 * application and what it asks of it. Apart from the session class so that the parts it is made of (./reinvite.ts,
 * ./transfer.ts) and its users read the same types without importing the class.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import type { DtmfDigit } from './info.ts';
import type { TransferStatus } from './refer.ts';

/** The states of a session; their transitions are the table in ./invite-session.ts. */
export enum InviteSessionState {
  Initial = 'Initial',
  Establishing = 'Establishing',
  Cancelling = 'Cancelling',
  Answered = 'Answered',
  Established = 'Established',
  Terminating = 'Terminating',
  Terminated = 'Terminated',
}

/** Why a session ended. */
export type InviteSessionEndCause =
  /** Outgoing: the far end answered 3xx-6xx (`status`, `info` = `SIP 486 Busy Here`). */
  | 'rejected'
  /** Outgoing: we cancelled before the answer (487, or no final response 64*T1 after CANCEL). */
  | 'cancelled'
  /** Incoming: the caller sent CANCEL before we answered; we answered 487. */
  | 'remote-cancel'
  /** Incoming: we answered 3xx-6xx (`reject`). */
  | 'declined'
  | 'local-bye'
  | 'remote-bye'
  /** Incoming: our 2xx (to the INVITE or a re-INVITE) got no ACK within 64*T1 (§13.3.1.4); a BYE was sent. */
  | 'ack-timeout'
  /** An in-dialog request got 481/408 or no response (§12.2.1.2). */
  | 'dialog-gone'
  /** RFC 4028 §10: the session timer ran out without a successful refresh; a BYE was sent. */
  | 'session-expired'
  /** Outgoing: no final response to the INVITE (Timer B; a 408 for §8.1.3.1). */
  | 'timeout'
  /** The request could not be sent (no route, connection refused; a 503 for §8.1.3.1). */
  | 'transport-error'
  /**
   * A programming error in the session's work or its application's handlers (logged with its stack): the dialog
   * was ended as its state allowed — BYE, a 500 to the INVITE, or CANCEL. Other sessions go on.
   */
  | 'internal-error'
  /** `dispose()` ended it locally. */
  | 'disposed';

/** How a session tells its application what happened. Every event is emitted after the state changed. */
export type InviteSessionEvent =
  /** Outgoing: a provisional response (100, 180, 183 ...), with its SDP when it carried one (early media). */
  | { type: 'provisional'; response: SipResponse; raw: string; sdp?: Buffer }
  /**
   * The session is up. Outgoing: the first 2xx (`sdp` = the answer). Incoming: the ACK for our 2xx (`sdp` = the
   * answer when the INVITE had no offer and ours went in the 200).
   */
  | { type: 'established'; message: SipResponse | SipRequest; sdp?: Buffer }
  /** A re-INVITE without SDP got our SDP as offer in the 200; this is the far end's answer from the ACK. */
  | { type: 'remote-answer'; sdp: Buffer; ack: SipRequest }
  /** An INFO arrived (answered 200); `dtmf` when it was application/dtmf-relay or application/dtmf. */
  | { type: 'info'; request: SipRequest; contentType?: string; body: Buffer; dtmf?: DtmfDigit }
  /** Progress of a transfer we asked for with `refer`. */
  | TransferEvent
  | {
      type: 'terminated';
      cause: InviteSessionEndCause;
      /** `SIP 486 Busy Here`, `Normal call clearing`, or what went wrong without a response. */
      info: string;
      /** The SIP status that ended it, when a response did (the final response, the 487 ...). */
      status?: number;
      /** The message that ended it (final response, BYE, CANCEL), and its text for `sipMessageRaw`. */
      message?: SipMessage;
      raw?: string;
    };

export type TransferEvent = { type: 'transfer'; status: TransferStatus; info: string; message?: SipMessage };

export interface InviteSessionDelegate {
  /**
   * Each event, in order. An exception thrown here is a programming error of the application: it is logged and the
   * session ends (`internal-error`).
   */
  onEvent?(event: InviteSessionEvent): void;
  /**
   * The far end re-INVITEd with a new SDP offer (hold, new media address ...): resolve with the SDP answer, and the
   * session goes on with it. An offer the application cannot take is refused by rejecting with one of its expected
   * failures (an Error with a `code`, such as the media library's MEDIA_SDP_PARSE or MEDIA_NO_COMMON_CODEC): the
   * re-INVITE is answered 488 Not Acceptable Here with a Warning naming why (RFC 3261 §21.4.26, §20.43) and the
   * session goes on as before (§14.2); so it is without `onOffer`. Any other rejection (a TypeError ...) is a
   * programming error: 500, and the session ends (`internal-error`).
   */
  onOffer?(offer: Buffer, request: SipRequest): Promise<Buffer> | Buffer;
}
