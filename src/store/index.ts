/** The store's public surface: the interfaces, the SQLite and PostgreSQL implementations, their errors. */
export type * from './types.ts';
export { CDR_QUERY_MAX, HOOK_LOG_CAPACITY } from './types.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { openStore, DB_FILE, DEFAULT_APP_KEY, type OpenStoreOptions } from './sqlite-store.ts';
export { openPostgresStore, redactedUrl, type OpenPostgresStoreOptions } from './postgres-store.ts';
