/**
 * The one base of callhook's expected failures, below every layer (it imports nothing). Each layer has one
 * subclass (`SipError`, `MediaError`, `GatewayError`, …) with a union of codes; callers branch on `code`. A
 * layer adds a narrower subclass only where the error carries typed data its callers read (a SIP parse error's
 * `partial` message, the `Allow` list of a 405), and that subclass still has a code of the layer's union.
 *
 * Anything thrown from `src/` that is not an `ExpectedError` — a plain `Error`, a TypeError — is a bug: it is
 * logged with its stack and ends only the call or session it hit (docs/security.md "Failure containment").
 * docs/errors.md lists every code, what it means and what a user sees.
 */
export abstract class ExpectedError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    // the subclass's own name (`SipError`, `MediaError`…), as stack traces and logs show it
    this.name = new.target.name;
  }
}
