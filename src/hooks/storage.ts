/**
 * The storage the hook engine needs, as its own interfaces: the app lookup, the hook log, the event outbox and the
 * session wills, and the transaction that joins writes. The engine depends on these only; the store
 * (src/store: SQLite or PostgreSQL) implements them and is plugged in by whoever starts the server or the test.
 *
 * Asynchronous wherever a database is reached (docs/architecture.md "One store interface, two engines"): every
 * read returns a promise, and every write is a `StoreWrite` value handed to `HookStore.write`, which commits a list
 * of them as one transaction. Both stores commit them in their next group commit, at the end of the turn of the
 * event loop. The one synchronous read is the app lookup: apps are few and
 * read by every hook, so the store serves them from memory.
 *
 * Times are milliseconds since the Unix epoch (UTC).
 */
import type { App } from './model.ts';

/** The one read of apps the engine makes: every hook looks its app up by the session's key. */
export interface AppLookup {
  getByKey(appKey: string): App | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Hook log (docs/admin.md "Hook log": every attempt, the last 10,000)

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
  /**
   * The body sent, secrets redacted (redactJsonText), cut at `hookLogMaxBodyBytes` (./hook-log-body.ts); null when
   * bodies are not kept or nothing was sent.
   */
  requestBody: string | null;
  /** The body of the answer, the same way; null when no answer came. */
  responseBody: string | null;
}

export interface HookLogQuery {
  /** true: only attempts with an error; false: only the ones without; absent: both. */
  failed?: boolean;
  appKey?: string;
  method?: string;
  /** Only attempts started at or after this time (ms since epoch). */
  since?: number;
  /** Newest first; default 100, at most HOOK_LOG_CAPACITY. */
  limit?: number;
}

export interface HookLog {
  /** Newest first. (Attempts are appended with the `logAttempt` write; the oldest beyond HOOK_LOG_CAPACITY go.) */
  query(q?: HookLogQuery): Promise<HookLogEntry[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Event outbox (docs/hooks.md "Events")

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

/** The reads and bulk changes of the outbox; events are appended and marked with `StoreWrite`s. */
export interface EventOutbox {
  /** The oldest pending events of a session, in delivery order, at most `limit` (the first is the next to send). */
  pendingOf(sessionId: string, limit: number): Promise<OutboxEvent[]>;
  /** Every session that has pending events, with when its head is due (used at start and after replay). */
  pendingSessions(): Promise<Array<{ sessionId: string; appKey: string; nextAttemptAt: number }>>;
  list(q?: OutboxListQuery): Promise<OutboxEvent[]>;
  /**
   * Dead → pending again (due now, a fresh max-age window). Resolves with how many. Call it through
   * `HookEngine.replayEvents` in a running server, so the delivery worker picks them up at once.
   */
  replay(q?: OutboxReplayQuery, now?: number): Promise<number>;
  depth(): Promise<{ pending: number; dead: number }>;
  /** Forgets the sequence counters of sessions idle since `before` that have nothing pending and no will. */
  pruneSequences(before: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------------------------
// Session wills (./types.ts Will): what live sessions owe their backends should callhook die

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
  /** Every will, in the order the subjects' wills were first written. */
  all(): Promise<SessionWill[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Writes

export type StoreWrite =
  /** Durably appends an event: the session's next sequence and the row, atomically. */
  | { kind: 'appendEvent'; event: NewOutboxEvent }
  /** Delivered: the row is removed. */
  | { kind: 'markDelivered'; id: number }
  | { kind: 'markAttemptFailed'; id: number; nextAttemptAt: number; error: string }
  | { kind: 'markDead'; id: number; error: string }
  /** One hook attempt into the hook log; the oldest rows beyond HOOK_LOG_CAPACITY are dropped. */
  | { kind: 'logAttempt'; entry: Omit<HookLogEntry, 'id'> }
  /** Writes the will of a subject, replacing the one it had (in its place in the order). */
  | { kind: 'putWill'; will: SessionWill }
  | { kind: 'removeWill'; sessionId: string; subject: string }
  /** Removes every will of a session. */
  | { kind: 'removeSessionWills'; sessionId: string }
  | { kind: 'clearWills' };

export interface HookStore {
  readonly apps: AppLookup;
  readonly hookLog: HookLog;
  readonly outbox: EventOutbox;
  readonly wills: SessionWills;
  /**
   * Commits `writes`, in order, as one transaction: together or not at all. Resolves with the events appended,
   * in order, once committed. Writes are committed in the order of the calls, so a session's events keep their
   * order. The calls of one turn of the event loop join one transaction (a group commit: one WAL append on SQLite,
   * one round of fsync on PostgreSQL, for all of them).
   */
  write(writes: readonly StoreWrite[]): Promise<OutboxEvent[]>;
}
