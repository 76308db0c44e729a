/**
 * What the store holds (apps, the hook log, the event outbox; docs/admin.md) and the repositories through which the rest of callhook
 * reaches it. Callers depend on these interfaces only; `openStore()` (./sqlite-store.ts) is the SQLite
 * implementation, injected by whoever starts the server or the test.
 *
 * The records and the storage interfaces of hooks (apps, restClientConfig, hook log, outbox, wills) are the hook
 * engine's (../hooks/model.ts, ../hooks/storage.ts): the store implements them, so it depends on the engine and
 * never the other way. They are re-exported here because the store's own interfaces speak in them and its users
 * (the admin API, tests) reach them through the store. This file adds what only the admin API needs: editing apps.
 *
 * Times are milliseconds since the Unix epoch (UTC) everywhere in the store.
 * Expected failures are thrown as `StoreError` (./errors.ts) with a `code` the admin API maps to 4xx statuses.
 */
import type { App, NewApp, SignatureMode } from '../hooks/model.ts';
import type { AppLookup, HookStore } from '../hooks/storage.ts';

export type { App, MethodConfig, NewApp, RestClientConfig, RestOnError, RestPolicy, SignatureMode } from '../hooks/model.ts';
export {
  HOOK_LOG_CAPACITY,
  type EventOutbox,
  type HookLog,
  type HookLogEntry,
  type HookLogQuery,
  type NewOutboxEvent,
  type OutboxEvent,
  type OutboxListQuery,
  type OutboxReplayQuery,
  type OutboxState,
  type SessionWill,
  type SessionWills,
} from '../hooks/storage.ts';

// ---------------------------------------------------------------------------------------------------------------
// Apps

/** Input of `AppRepository.update`: the fields to change; `null` clears an optional credential. */
export interface AppPatch {
  appKey?: string;
  url?: string;
  restUsername?: string | null;
  restPassword?: string | null;
  restSecret?: string | null;
  signature?: SignatureMode;
  /** Replaces the whole default config. */
  restClientConfig?: unknown;
}

export interface AppRepository extends AppLookup {
  list(): App[];
  getByName(name: string): App | undefined;
  /** Throws StoreError INVALID_APP (a field is bad; the message names it) or APP_EXISTS (name or key taken). */
  add(app: NewApp): App;
  /** Throws APP_NOT_FOUND, INVALID_APP or APP_EXISTS (new key taken). */
  update(name: string, patch: AppPatch): App;
  /** Throws APP_NOT_FOUND. */
  remove(name: string): void;
  /** Enables one method, or every method with '*'. Throws APP_NOT_FOUND or UNKNOWN_METHOD. */
  enableMethod(appKey: string, method: string): App;
  /** Disables one method, or every method with '*'. Throws APP_NOT_FOUND or UNKNOWN_METHOD. */
  disableMethod(appKey: string, method: string): App;
}

// ---------------------------------------------------------------------------------------------------------------

/** The hook engine's storage, plus editing apps (admin API), the file and closing it. */
export interface Store extends HookStore {
  readonly apps: AppRepository;
  /** Path of the database file. */
  readonly path: string;
  close(): void;
}
