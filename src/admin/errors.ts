/**
 * Expected failures of the admin API: one class, `AdminError`, with a stable code (fastify's `FST_ERR_*`
 * catalogue is the model) and the HTTP status that code maps to. The message is what the client reads in
 * `{"error": "<message>"}`, so it names what was wrong. A plain `Error` reaching the server is a bug and becomes a
 * 500 without details.
 */
import { ExpectedError } from '../errors.ts';

export type AdminErrorCode =
  /** Bad JSON, a field that fails validation, an unknown field or parameter. */
  | 'ADMIN_BAD_REQUEST'
  /** Missing or wrong bearer token (docs/admin.md: every `/api/` route and `/metrics`). */
  | 'ADMIN_UNAUTHORIZED'
  /** Unknown app, method or route. */
  | 'ADMIN_NOT_FOUND'
  /** The path exists but not with this HTTP method: `MethodNotAllowedError`. */
  | 'ADMIN_METHOD_NOT_ALLOWED'
  /** An app with the same name or key already exists. */
  | 'ADMIN_CONFLICT'
  /** The request body is larger than the server accepts (RFC 9110 §15.5.14). */
  | 'ADMIN_PAYLOAD_TOO_LARGE'
  /** A body that is not `application/json` (RFC 9110 §15.5.16). */
  | 'ADMIN_UNSUPPORTED_MEDIA_TYPE'
  /** Not available now: the gateway is not running yet, or too many Server-Sent Events streams are open (config
   * `adminMaxEventStreams`, RFC 9110 §15.6.4). */
  | 'ADMIN_UNAVAILABLE'
  /** The admin token cannot be used, read or written (token.ts); the server does not start, the CLI exits 1. */
  | 'ADMIN_TOKEN';

/** The HTTP status of each code. ADMIN_TOKEN comes up at start or in the CLI, never while serving a request. */
const HTTP_STATUS: Record<AdminErrorCode, number> = {
  ADMIN_BAD_REQUEST: 400,
  ADMIN_UNAUTHORIZED: 401,
  ADMIN_NOT_FOUND: 404,
  ADMIN_METHOD_NOT_ALLOWED: 405,
  ADMIN_CONFLICT: 409,
  ADMIN_PAYLOAD_TOO_LARGE: 413,
  ADMIN_UNSUPPORTED_MEDIA_TYPE: 415,
  ADMIN_UNAVAILABLE: 503,
  ADMIN_TOKEN: 500,
};

export class AdminError extends ExpectedError<AdminErrorCode> {
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** The path exists but not with this HTTP method; `allow` feeds the `Allow` header (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends AdminError {
  constructor(
    readonly allow: readonly string[],
    message: string,
  ) {
    super('ADMIN_METHOD_NOT_ALLOWED', message);
  }
}
