/**
 * Expected failures of the store, with a `code` callers branch on (the admin API maps them to statuses:
 * INVALID_APP / UNKNOWN_METHOD → 400, APP_NOT_FOUND → 404, APP_EXISTS → 409). A plain `Error` from the store is a
 * bug or a broken database, not bad input.
 */
export type StoreErrorCode = 'INVALID_APP' | 'APP_EXISTS' | 'APP_NOT_FOUND' | 'UNKNOWN_METHOD';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
