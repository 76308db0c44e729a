/**
 * Expected failures of the admin API, each with the HTTP status it maps to and a stable `code` (fastify's
 * `FST_ERR_*` catalogue is the model). The message is what the client reads in `{"error": "<message>"}`, so it
 * names what was wrong. A plain `Error` reaching the server is a bug and becomes a 500 without details.
 */
export abstract class AdminException extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad JSON, a field that fails validation, an unknown field or parameter. */
export class BadRequestError extends AdminException {
  readonly code = 'ADMIN_BAD_REQUEST';
  readonly status = 400;
}

/** Missing or wrong bearer token (admin.md: every `/api/` route and `/metrics`). */
export class UnauthorizedError extends AdminException {
  readonly code = 'ADMIN_UNAUTHORIZED';
  readonly status = 401;
}

/** Unknown app, method or route. */
export class NotFoundError extends AdminException {
  readonly code = 'ADMIN_NOT_FOUND';
  readonly status = 404;
}

/** The path exists but not with this HTTP method; `allow` feeds the `Allow` header (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends AdminException {
  readonly code = 'ADMIN_METHOD_NOT_ALLOWED';
  readonly status = 405;
  constructor(readonly allow: readonly string[], message: string) {
    super(message);
  }
}

/** An app with the same name or key already exists. */
export class ConflictError extends AdminException {
  readonly code = 'ADMIN_CONFLICT';
  readonly status = 409;
}

/** The request body is larger than the server accepts (RFC 9110 §15.5.14). */
export class PayloadTooLargeError extends AdminException {
  readonly code = 'ADMIN_PAYLOAD_TOO_LARGE';
  readonly status = 413;
}

/** A body that is not `application/json` (RFC 9110 §15.5.16). */
export class UnsupportedMediaTypeError extends AdminException {
  readonly code = 'ADMIN_UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}
