/**
 * What the store holds (../shared/spec/admin.md "Store") and the repositories through which the rest of callhook
 * reaches it. Callers depend on these interfaces only; `openStore()` (./sqlite-store.ts) is the SQLite
 * implementation, injected by whoever starts the server or the test.
 *
 * Times are milliseconds since the Unix epoch (UTC) everywhere in the store.
 * Expected failures are thrown as `StoreError` (./errors.ts) with a `code` the admin API maps to 4xx statuses.
 */
import type { RestMethod } from '../hooks/methods.ts';

// ---------------------------------------------------------------------------------------------------------------
// restClientConfig (rest-hooks.md "Response"; wcs-notes.md §2.1)

export type RestOnError = 'LOG' | 'FAIL';
export type RestPolicy = 'NOTIFY' | 'OVERWRITE' | 'DISABLE';

/**
 * One method's entry in WCS's wire form: every field optional, lists as comma-separated field names. Absent
 * values mean the WCS defaults (restOnError LOG, restPolicy NOTIFY, empty lists). Values are validated when they
 * enter (admin input, a connect response) by `parseRestClientConfig` (../hooks/rest-client-config.ts).
 */
export interface MethodConfig {
  restExclude?: string;
  clientExclude?: string;
  restOnError?: RestOnError;
  restPolicy?: RestPolicy;
  restOverwrite?: string;
}

/** Keyed by method name; a method without an entry uses the defaults. */
export type RestClientConfig = Partial<Record<RestMethod, MethodConfig>>;

// ---------------------------------------------------------------------------------------------------------------
// Apps

/**
 * How hooks are signed when the app has a `restSecret`. Both modes send `X-Callhook-Signature`; `wcs` also sends
 * WCS's `Authorization: WCS <hex HMAC-MD5>`, and because that takes the Authorization header it cannot be
 * combined with HTTP Basic (restUsername/restPassword): such an app is refused when added or updated.
 */
export type SignatureMode = 'callhook' | 'wcs';

export interface App {
  name: string;
  appKey: string;
  /** http(s) base URL; a hook goes to `<url>/<method>`. */
  url: string;
  restUsername?: string;
  restPassword?: string;
  restSecret?: string;
  signature: SignatureMode;
  /** The app's default per-method config; a connect response's restClientConfig overrides it per method. */
  restClientConfig: RestClientConfig;
  /** Enabled methods, in the order of REST_METHODS. A new app has none (WCS rule). */
  methods: RestMethod[];
}

/** Input of `AppRepository.add`. `restClientConfig` is validated (it usually comes straight from JSON). */
export interface NewApp {
  name: string;
  appKey: string;
  url: string;
  restUsername?: string;
  restPassword?: string;
  restSecret?: string;
  signature?: SignatureMode;
  restClientConfig?: unknown;
}

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

export interface AppRepository {
  list(): App[];
  getByName(name: string): App | undefined;
  getByKey(appKey: string): App | undefined;
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
// Hook log (rest-hooks.md "Troubleshooting": every attempt, the last 10,000)

export const HOOK_LOG_CAPACITY = 10_000;

export interface HookLogEntry {
  id: number;
  /** When the attempt started (ms since epoch). */
  time: number;
  appKey: string;
  method: string;
  url: string;
  /** HTTP status, or null when no response came (network error, timeout). */
  status: number | null;
  latencyMs: number;
  /** Why the attempt is an interaction error, or null when it succeeded (200 + JSON object). */
  error: string | null;
}

export interface HookLogQuery {
  /** Only attempts with an error. */
  failed?: boolean;
  appKey?: string;
  /** Newest first; default 100, at most HOOK_LOG_CAPACITY. */
  limit?: number;
}

export interface HookLog {
  /** Appends one attempt; the oldest rows beyond HOOK_LOG_CAPACITY are dropped. */
  append(entry: Omit<HookLogEntry, 'id'>): void;
  /** Newest first. */
  query(q?: HookLogQuery): HookLogEntry[];
}

// ---------------------------------------------------------------------------------------------------------------
// Event outbox (rest-hooks.md "Timing and delivery")

export type OutboxState = 'pending' | 'dead';

export interface OutboxEvent {
  /** Store order; within a session, delivery follows it. */
  id: number;
  /** A random UUID (v4), also in the body: the backend's idempotency key. */
  eventId: string;
  appKey: string;
  sessionId: string;
  method: string;
  /** Per session, from 1; also in the body. */
  sequence: number;
  /** The exact JSON sent to the backend (after restExclude, with eventId and sequence). */
  body: string;
  /** Tell the session of a failed delivery (its restOnError was FAIL when the event was emitted). */
  failNotify: boolean;
  createdAt: number;
  /** Start of the current delivery window: createdAt, or the time of the last replay. Max age counts from here. */
  activeSince: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  state: OutboxState;
}

export interface NewOutboxEvent {
  eventId: string;
  appKey: string;
  sessionId: string;
  method: string;
  /** The body without `sequence`: the store assigns the session's next sequence and adds it, atomically. */
  body: Record<string, unknown>;
  failNotify: boolean;
  createdAt: number;
}

export interface OutboxListQuery {
  /** true: dead letters only; false: pending only; absent: both. */
  dead?: boolean;
  appKey?: string;
  /** Oldest first; default 100. */
  limit?: number;
}

export interface OutboxReplayQuery {
  appKey?: string;
  /** Only dead events created at or after this time (ms since epoch). */
  since?: number;
}

export interface EventOutbox {
  /** Durably appends (one transaction: sequence + row) before returning. */
  append(event: NewOutboxEvent): OutboxEvent;
  /** The oldest pending events of a session, in delivery order, at most `limit` (the first is the next to send). */
  pendingOf(sessionId: string, limit: number): OutboxEvent[];
  /** Every session that has pending events, with when its head is due (used at start and after replay). */
  pendingSessions(): Array<{ sessionId: string; appKey: string; nextAttemptAt: number }>;
  /** Delivered: the row is removed. */
  markDelivered(id: number): void;
  markAttemptFailed(id: number, nextAttemptAt: number, error: string): void;
  markDead(id: number, error: string): void;
  list(q?: OutboxListQuery): OutboxEvent[];
  /**
   * Dead → pending again (due now, a fresh max-age window). Returns how many. Call it through
   * `HookEngine.replayEvents` in a running server, so the delivery worker picks them up at once.
   */
  replay(q?: OutboxReplayQuery, now?: number): number;
  depth(): { pending: number; dead: number };
  /** Forgets the sequence counters of sessions idle since `before` that have nothing pending and no will. */
  pruneSequences(before: number): number;
}

// ---------------------------------------------------------------------------------------------------------------
// Session wills (../hooks/types.ts Will): what live sessions owe their backends should callhook die

export interface SessionWill {
  sessionId: string;
  /** The subject within the session (`connection`, `registration`, `call <callId>`). */
  subject: string;
  appKey: string;
  /** The event method owed. */
  method: string;
  /** The event body as the outbox will send it (context fields in, restExclude applied), without eventId. */
  body: Record<string, unknown>;
  failNotify: boolean;
}

export interface SessionWills {
  /** Writes the will of a subject, replacing the one it had (in its place in the order). */
  put(will: SessionWill): void;
  remove(sessionId: string, subject: string): void;
  /** Removes every will of a session. */
  removeSession(sessionId: string): void;
  /** Every will, in the order the subjects' wills were first written. */
  all(): SessionWill[];
  clear(): void;
}

// ---------------------------------------------------------------------------------------------------------------

export interface Store {
  readonly apps: AppRepository;
  readonly hookLog: HookLog;
  readonly outbox: EventOutbox;
  readonly wills: SessionWills;
  /** Path of the database file. */
  readonly path: string;
  /**
   * Runs `fn` as one transaction: the writes inside are committed together (one WAL append instead of one per
   * write) or not at all. Nested calls join the outer transaction.
   */
  batch<T>(fn: () => T): T;
  close(): void;
}
