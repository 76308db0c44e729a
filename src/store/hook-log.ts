/**
 * The hook log: one row per hook attempt, the newest HOOK_LOG_CAPACITY kept (docs/admin.md "check app").
 * Row ids only grow (nothing but the cap deletes rows), so after inserting id N everything at or below
 * N - capacity is overflow. It is deleted every TRIM_EVERY inserts (a range delete on the rowid) rather than on
 * each one: the table holds at most TRIM_EVERY - 1 rows beyond the cap, and queries never return more than the
 * newest HOOK_LOG_CAPACITY.
 */
import type { Database, Statement } from 'better-sqlite3';
import { HOOK_LOG_CAPACITY, type HookLog, type HookLogEntry, type HookLogQuery } from './types.ts';

interface Row {
  id: number;
  time: number;
  app_key: string;
  method: string;
  url: string;
  status: number | null;
  latency_ms: number;
  error: string | null;
}

const DEFAULT_LIMIT = 100;
const TRIM_EVERY = 64;

export class SqliteHookLog implements HookLog {
  private readonly insert: Statement<[number, string, string, string, number | null, number, string | null]>;
  private readonly trim: Statement<[number]>;
  private readonly select: Statement<[{ failed: number; appKey: string | null; floor: number; limit: number }], Row>;

  constructor(db: Database, private readonly capacity = HOOK_LOG_CAPACITY) {
    this.insert = db.prepare(
      'INSERT INTO hook_log (time, app_key, method, url, status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.trim = db.prepare('DELETE FROM hook_log WHERE id <= ?');
    this.select = db.prepare(
      `SELECT * FROM hook_log
        WHERE id > (SELECT MAX(id) FROM hook_log) - @floor
          AND (@failed = 0 OR error IS NOT NULL) AND (@appKey IS NULL OR app_key = @appKey)
        ORDER BY id DESC LIMIT @limit`,
    );
  }

  /** The `logAttempt` write (../hooks/storage.ts StoreWrite). */
  append(e: Omit<HookLogEntry, 'id'>): void {
    const id = Number(this.insert.run(e.time, e.appKey, e.method, e.url, e.status, e.latencyMs, e.error).lastInsertRowid);
    if (id > this.capacity && id % TRIM_EVERY === 0) this.trim.run(id - this.capacity);
  }

  async query(q: HookLogQuery = {}): Promise<HookLogEntry[]> {
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_LIMIT)), this.capacity);
    return this.select.all({ failed: q.failed === true ? 1 : 0, appKey: q.appKey ?? null, floor: this.capacity, limit }).map((r) => ({
      id: r.id,
      time: r.time,
      appKey: r.app_key,
      method: r.method,
      url: r.url,
      status: r.status,
      latencyMs: r.latency_ms,
      error: r.error,
    }));
  }
}
