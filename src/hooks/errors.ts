/**
 * Expected failures of the hook engine's inputs, with a `code`. Backend trouble (a 403, a timeout) is not an
 * exception: it is an interaction error, returned as a value (HookFailure) because the caller must act on it.
 */
import { ExpectedError } from '../errors.ts';

/** Unprefixed: these codes predate the LAYER_ rule and tests pin them (docs/errors.md). */
export type HookErrorCode =
  /** An app (from the admin API or the store) that cannot be used; the message names the field. */
  | 'INVALID_APP'
  /** A restClientConfig (from a page or the store) that cannot be used; the message names the field. */
  | 'INVALID_REST_CLIENT_CONFIG'
  /** A header value with control characters, refused before sending. */
  | 'UNSAFE_HEADER_VALUE'
  /** The backend did not answer within restTimeout (http.ts; reaches callers as HookHttpError.code). */
  | 'TIMEOUT'
  /** The exchange was cut because callhook is stopping. */
  | 'ABORTED'
  /** The backend's answer is larger than the engine reads. */
  | 'TOO_LARGE';

export class HookError extends ExpectedError<HookErrorCode> {}
