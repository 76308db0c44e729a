/**
 * Expected failures of the store, with a `code` callers branch on (the admin API maps them to statuses:
 * INVALID_APP / UNKNOWN_METHOD → 400, APP_NOT_FOUND → 404, APP_EXISTS → 409). A plain `Error` from the store is a
 * bug or a broken database, not bad input.
 */
import { ExpectedError } from '../errors.ts';

/** Unprefixed: these codes predate the LAYER_ rule and tests pin them (docs/errors.md). */
export type StoreErrorCode =
  /** An app whose fields fail validation (name, key, URL, REST methods); the message names the field. */
  | 'INVALID_APP'
  /** An app with the same name or key already exists. */
  | 'APP_EXISTS'
  /** No app with that name or key. */
  | 'APP_NOT_FOUND'
  /** A REST method name that is not one of the engine's (case-sensitive). */
  | 'UNKNOWN_METHOD';

export class StoreError extends ExpectedError<StoreErrorCode> {}
