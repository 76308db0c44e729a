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
  | 'BAD_INVITE_PARAMETERS'
  /** The REST API names a call or session that is not live (docs/rest-api.md). */
  | 'NOT_FOUND'
  /** The REST API asks a call for what its state does not allow (a sound before ESTABLISHED). */
  | 'CALL_STATE'
  /** A sound file the REST API names that cannot be played: missing, unreadable, or in a format named as unsupported. */
  | 'BAD_SOUND'
  /** The REST API's call/startup was refused: by the connect or call hook, a call limit, the callId in use. */
  | 'CALL_REFUSED';

export class GatewayError extends ExpectedError<GatewayErrorCode> {}

/**
 * The `info` of a call or session ended by a bug in callhook (an error no step expects, logged with its stack): that
 * call or session ends, the process and everything else go on (docs/security.md "Failure containment").
 */
export const INTERNAL_ERROR = 'Internal error';
