/**
 * Session wills in SQLite (./types.ts SessionWills, ../hooks/types.ts Will). A will is written in the same
 * transaction as the event that opens or changes its subject, so keeping them costs no commit of its own; the
 * table holds one row per open subject of a live session and is read once, at start.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SessionWill, SessionWills } from './types.ts';

interface Row {
  session_id: string;
  subject: string;
  app_key: string;
  method: string;
  body: string;
  fail_notify: number;
}

export class SqliteSessionWills implements SessionWills {
  private readonly q: {
    put: Statement<[string, string, string, string, string, number]>;
    remove: Statement<[string, string]>;
    removeSession: Statement<[string]>;
    all: Statement<[], Row>;
    clear: Statement<[]>;
  };

  constructor(db: Database) {
    this.q = {
      put: db.prepare(
        `INSERT INTO session_wills (session_id, subject, app_key, method, body, fail_notify) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (session_id, subject) DO UPDATE SET app_key = excluded.app_key, method = excluded.method,
             body = excluded.body, fail_notify = excluded.fail_notify`,
      ),
      remove: db.prepare('DELETE FROM session_wills WHERE session_id = ? AND subject = ?'),
      removeSession: db.prepare('DELETE FROM session_wills WHERE session_id = ?'),
      all: db.prepare('SELECT * FROM session_wills ORDER BY rowid'),
      clear: db.prepare('DELETE FROM session_wills'),
    };
  }

  /** The will writes (../hooks/storage.ts StoreWrite): put, remove, removeSession, clear. */
  put(w: SessionWill): void {
    this.q.put.run(w.sessionId, w.subject, w.appKey, w.method, JSON.stringify(w.body), w.failNotify ? 1 : 0);
  }

  remove(sessionId: string, subject: string): void {
    this.q.remove.run(sessionId, subject);
  }

  removeSession(sessionId: string): void {
    this.q.removeSession.run(sessionId);
  }

  async all(): Promise<SessionWill[]> {
    return this.q.all.all().map((r) => ({
      sessionId: r.session_id,
      subject: r.subject,
      appKey: r.app_key,
      method: r.method,
      body: JSON.parse(r.body) as Record<string, unknown>,
      failNotify: r.fail_notify === 1,
    }));
  }

  clear(): void {
    this.q.clear.run();
  }
}
