/**
 * Expected failures of the gateway, each with a `code`; their message is what the client and the backend are
 * shown as `info`, so it names the field and what was wrong. A plain Error from the gateway is a bug.
 */
import { ExpectedError } from '../errors.ts';

/** Unprefixed: these codes predate the LAYER_ rule and tests pin them (docs/errors.md). */
export type GatewayErrorCode =
  /** A sip* field (from the client or the connect hook) cannot be used, e.g. `sipPort` "abc". */
  | 'INVALID_SIP_SETTINGS'
  /** The session lacks what a SIP operation needs (sipLogin / sipDomain). */
  | 'NO_SIP_IDENTITY'
  /** A message `to`, call `callee` or transfer `target` that is not a SIP address. */
  | 'INVALID_TARGET'
  /** A hook answered a field the operation cannot use (OVERWRITE of `to`, `body` or `contentType`). */
  | 'BAD_HOOK_ANSWER'
  /** A call's `inviteParameters` that cannot become header fields of the INVITE. */
  | 'BAD_INVITE_PARAMETERS';

export class GatewayError extends ExpectedError<GatewayErrorCode> {}

/**
 * The `info` of a call or session ended by a bug in callhook (an error no step expects, logged with its stack): that
 * call or session ends, the process and everything else go on (docs/security.md "Failure containment").
 */
export const INTERNAL_ERROR = 'Internal error';
