/**
 * Expected failures of the SIP stack, as values a caller may catch and branch on (`code`). A plain `Error` thrown
 * from here is a bug, not an expected condition.
 */
export abstract class SipException extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A message that is not valid SIP (RFC 3261 §7, §25). `reason` is the short text for a `400 <reason>` response;
 * `partial` holds what could be read before the error, so a request still gets its 400 (RFC 3261 §8.2, §21.4.1).
 */
export class SipParseError extends SipException {
  readonly code = 'SIP_PARSE';
  constructor(
    readonly reason: string,
    readonly partial?: import('./message/message.ts').SipMessage,
  ) {
    super(reason);
  }
}

/** The transport could not send (connection refused, reset, ICMP unreachable): RFC 3261 §8.1.3.1, §17.1.4. */
export class TransportError extends SipException {
  readonly code = 'SIP_TRANSPORT';
}

/** A client transaction ended without a final response (Timer B or F, RFC 3261 §17.1.1.2, §17.1.2.2). */
export class TransactionTimeoutError extends SipException {
  readonly code = 'SIP_TIMEOUT';
}

/**
 * A header field an application asked to add that cannot go into a message as given (a name that is not a token,
 * one the stack writes itself, a value with control characters). `header` is the name as the application spelt it;
 * the message says what is wrong with it.
 */
export class InvalidHeaderError extends SipException {
  readonly code = 'SIP_HEADER';
  constructor(
    readonly header: string,
    message: string,
  ) {
    super(message);
  }
}

/** An operation that is not allowed in the current state (e.g. a REGISTER while one is pending, RFC 3261 §10.2). */
export class StateError extends SipException {
  readonly code = 'SIP_STATE';
}
