/**
 * Expected failures of the SIP stack: one class, `SipError`, with a code callers branch on. A plain `Error` thrown
 * from here is a bug, not an expected condition. Two subclasses carry data their callers read: `SipParseError`
 * (the partial message, for a 400 or 505 answer) and `DigestAuthError` (auth/digest-client.ts: the 401/407 that
 * ended authentication).
 */
import { ExpectedError } from '../errors.ts';
import type { SipMessage } from './message/message.ts';

export type SipErrorCode =
  /** Not valid SIP (RFC 3261 §7, §25): answered 400 when it was a request. */
  | 'SIP_PARSE'
  /** A request in a SIP version other than 2.0: answered 505 (RFC 3261 §21.5.6, RFC 4475 §3.1.2.16). */
  | 'SIP_VERSION_NOT_SUPPORTED'
  /** The transport could not send (connection refused, reset, ICMP unreachable): RFC 3261 §8.1.3.1, §17.1.4. */
  | 'SIP_TRANSPORT'
  /** A client transaction ended without a final response (Timer B or F, RFC 3261 §17.1.1.2, §17.1.2.2). */
  | 'SIP_TIMEOUT'
  /**
   * A header field an application asked to add that cannot go into a message as given (a name that is not a token,
   * one the stack writes itself, a value with control characters); the message names the header and what is wrong.
   */
  | 'SIP_HEADER'
  /** An operation not allowed in the current state (a REGISTER while one is pending, RFC 3261 §10.2). */
  | 'SIP_STATE'
  /** Digest authentication cannot succeed: credentials refused, or no challenge we can answer (RFC 7616). */
  | 'SIP_AUTH'
  /** A DTMF digit string or duration that cannot be sent as INFO (RFC 6086 with application/dtmf-relay). */
  | 'SIP_DTMF';

export class SipError extends ExpectedError<SipErrorCode> {}

/**
 * A message that is not valid SIP (RFC 3261 §7, §25). `reason` is the short text for a `400 <reason>` response
 * (or the 505's, code SIP_VERSION_NOT_SUPPORTED); `partial` holds what could be read before the error, so a
 * request still gets its answer (RFC 3261 §8.2, §21.4.1).
 */
export class SipParseError extends SipError {
  constructor(
    readonly reason: string,
    readonly partial?: SipMessage,
    code: 'SIP_PARSE' | 'SIP_VERSION_NOT_SUPPORTED' = 'SIP_PARSE',
  ) {
    super(code, reason);
  }
}


/**
 * Whether an error an application handed back (a rejected `onOffer`) is one of its expected failures: an
 * `ExpectedError` of any layer (MEDIA_*, SIP_*, ...). Anything else — a TypeError, a plain Error, a Node system
 * error — is a programming error.
 */
export function isExpectedFailure(error: unknown): error is ExpectedError {
  return error instanceof ExpectedError;
}
