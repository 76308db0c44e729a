/**
 * The hook log: one row per hook attempt, the newest HOOK_LOG_CAPACITY kept (docs/admin.md "Hook log").
 * Row ids only grow (nothing but the cap deletes rows), so after inserting id N everything at or below
 * N - capacity is overflow. It is deleted every TRIM_EVERY inserts (a range delete on the rowid) rather than on
 * each one: the table holds at most TRIM_EVERY - 1 rows beyond the cap, and queries never return more than the
 * newest HOOK_LOG_CAPACITY.
 */
import type { Database, Statement } from 'better-sqlite3';
import { HOOK_LOG_CAPACITY, type HookLog, type HookLogEntry, type HookLogQuery } from './types.ts';

/** A hook_log row of either engine (postgres-store.ts reads the same columns). */
export interface HookLogRow {
  id: number;
  time: number;
  app_key: string;
  method: string;
  url: string;
  status: number | null;
  latency_ms: number;
  error: string | null;
  request_body: string | null;
  response_body: string | null;
}

export const DEFAULT_HOOK_LOG_LIMIT = 100;
export const TRIM_EVERY = 64;

export function hookLogEntryOf(r: HookLogRow): HookLogEntry {
  return {
    id: r.id,
    time: r.time,
    appKey: r.app_key,
    method: r.method,
    url: r.url,
    status: r.status,
    latencyMs: r.latency_ms,
    error: r.error,
    requestBody: r.request_body,
    responseBody: r.response_body,
  };
}

/** The query's limit within 1..HOOK_LOG_CAPACITY. */
export function hookLogLimit(q: HookLogQuery): number {
  return Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_HOOK_LOG_LIMIT)), HOOK_LOG_CAPACITY);
}

interface Filter {
  failed: number | null;
  appKey: string | null;
  method: string | null;
  since: number | null;
  floor: number;
  limit: number;
}

export class SqliteHookLog implements HookLog {
  private readonly insert: Statement<[number, string, string, string, number | null, number, string | null, string | null, string | null]>;
  private readonly trim: Statement<[number]>;
  private readonly select: Statement<[Filter], HookLogRow>;

  constructor(db: Database, private readonly capacity = HOOK_LOG_CAPACITY) {
    this.insert = db.prepare(
      `INSERT INTO hook_log (time, app_key, method, url, status, latency_ms, error, request_body, response_body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.trim = db.prepare('DELETE FROM hook_log WHERE id <= ?');
    this.select = db.prepare(
      `SELECT * FROM hook_log
        WHERE id > (SELECT MAX(id) FROM hook_log) - @floor
          AND (@failed IS NULL OR (error IS NOT NULL) = @failed) AND (@appKey IS NULL OR app_key = @appKey)
          AND (@method IS NULL OR method = @method) AND (@since IS NULL OR time >= @since)
        ORDER BY id DESC LIMIT @limit`,
    );
  }

  /** The `logAttempt` write (../hooks/storage.ts StoreWrite). */
  append(e: Omit<HookLogEntry, 'id'>): void {
    const id = Number(this.insert.run(e.time, e.appKey, e.method, e.url, e.status, e.latencyMs, e.error, e.requestBody, e.responseBody).lastInsertRowid);
    if (id > this.capacity && id % TRIM_EVERY === 0) this.trim.run(id - this.capacity);
  }

  async query(q: HookLogQuery = {}): Promise<HookLogEntry[]> {
    const filter: Filter = {
      failed: q.failed === undefined ? null : Number(q.failed),
      appKey: q.appKey ?? null,
      method: q.method ?? null,
      since: q.since ?? null,
      floor: this.capacity,
      limit: Math.min(hookLogLimit(q), this.capacity),
    };
    return this.select.all(filter).map(hookLogEntryOf);
  }
}
