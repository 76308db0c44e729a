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

/** JavaScript's own error classes: thrown by the language and by Node for misuse, never as an expected condition. */
const LANGUAGE_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/**
 * Whether an error an application handed back (a rejected `onOffer`) is one of its expected failures, by the house
 * rule of docs/architecture.md: an exception class of one of our layers with a `code` (SIP_*, MEDIA_*, ...). Read by
 * its shape, since the SIP stack imports no other layer. JavaScript's own errors, Node's (`ERR_*` codes, system
 * errors with an `errno`) and plain Errors are programming errors, whatever code they carry.
 */
export function isExpectedFailure(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error) || LANGUAGE_ERRORS.some((type) => error instanceof type)) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return typeof code === 'string' && !code.startsWith('ERR_') && errno === undefined && Object.getPrototypeOf(error) !== Error.prototype;
}
