/**
 * The event outbox (docs/hooks.md "Events"): events are rows before anyone tries to send them, so a
 * crash or restart cannot lose one. A delivered event's row is deleted; an event past its max age stays as a
 * dead letter (state 'dead') until replayed. Within a session, rows are delivered in id order; the sequence
 * counter of each session lives in its own table so it keeps counting after delivered rows are gone.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { EventOutbox, NewOutboxEvent, OutboxEvent, OutboxListQuery, OutboxReplayQuery, OutboxState } from './types.ts';

/** A row of event_outbox, as both engines return it (SQLite's booleans are 0/1). */
export interface OutboxRow {
  id: number;
  event_id: string;
  app_key: string;
  session_id: string;
  method: string;
  sequence: number;
  body: string;
  fail_notify: number | boolean;
  created_at: number;
  active_since: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  state: OutboxState;
}

const DEFAULT_LIST_LIMIT = 100;

export function toEvent(r: OutboxRow): OutboxEvent {
  return {
    id: r.id,
    eventId: r.event_id,
    appKey: r.app_key,
    sessionId: r.session_id,
    method: r.method,
    sequence: r.sequence,
    body: r.body,
    failNotify: r.fail_notify === 1 || r.fail_notify === true,
    createdAt: r.created_at,
    activeSince: r.active_since,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    state: r.state,
  };
}

/** The state is a literal in the SQL so that SQLite can use the partial index of dead rows. */
function listByState(db: Database, state: OutboxState) {
  return db.prepare<[{ appKey: string | null; limit: number }], OutboxRow>(
    `SELECT * FROM event_outbox WHERE state = '${state}' AND (@appKey IS NULL OR app_key = @appKey) ORDER BY id LIMIT @limit`,
  );
}

/** A new event as stored: the store's id, sequence and body (with the sequence), due now, never tried. */
export function appendedEvent(e: NewOutboxEvent, id: number, sequence: number, body: string): OutboxEvent {
  return {
    id,
    eventId: e.eventId,
    appKey: e.appKey,
    sessionId: e.sessionId,
    method: e.method,
    sequence,
    body,
    failNotify: e.failNotify,
    createdAt: e.createdAt,
    activeSince: e.createdAt,
    attempts: 0,
    nextAttemptAt: e.createdAt,
    lastError: null,
    state: 'pending',
  };
}

export class SqliteEventOutbox implements EventOutbox {
  private readonly q;
  private readonly appendTx: (e: NewOutboxEvent) => OutboxEvent;

  constructor(private readonly db: Database) {
    this.q = {
      nextSequence: db.prepare<[{ sessionId: string; now: number }], { last_sequence: number }>(
        `INSERT INTO event_sequences (session_id, last_sequence, last_used_at) VALUES (@sessionId, 1, @now)
           ON CONFLICT (session_id) DO UPDATE SET last_sequence = last_sequence + 1, last_used_at = excluded.last_used_at
         RETURNING last_sequence`,
      ),
      insert: db.prepare<[string, string, string, string, number, string, number, number, number, number]>(
        `INSERT INTO event_outbox (event_id, app_key, session_id, method, sequence, body, fail_notify,
                                   created_at, active_since, next_attempt_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
      ),
      pendingOf: db.prepare<[string, number], OutboxRow>(
        "SELECT * FROM event_outbox WHERE session_id = ? AND state = 'pending' ORDER BY id LIMIT ?",
      ),
      pendingSessions: db.prepare<[], { session_id: string; app_key: string; next_attempt_at: number }>(
        `SELECT o.session_id, o.app_key, o.next_attempt_at FROM event_outbox o
           JOIN (SELECT MIN(id) AS id FROM event_outbox WHERE state = 'pending' GROUP BY session_id) h ON h.id = o.id
         ORDER BY o.next_attempt_at, o.id`,
      ),
      delivered: db.prepare<[number]>('DELETE FROM event_outbox WHERE id = ?'),
      attemptFailed: db.prepare<[number, string, number]>(
        'UPDATE event_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?',
      ),
      dead: db.prepare<[string, number]>(
        "UPDATE event_outbox SET attempts = attempts + 1, last_error = ?, state = 'dead' WHERE id = ?",
      ),
      list: db.prepare<[{ appKey: string | null; limit: number }], OutboxRow>(
        'SELECT * FROM event_outbox WHERE (@appKey IS NULL OR app_key = @appKey) ORDER BY id LIMIT @limit',
      ),
      listDead: listByState(db, 'dead'),
      listPending: listByState(db, 'pending'),
      replay: db.prepare<[{ now: number; appKey: string | null; since: number | null }]>(
        `UPDATE event_outbox SET state = 'pending', attempts = 0, next_attempt_at = @now, active_since = @now
          WHERE state = 'dead' AND (@appKey IS NULL OR app_key = @appKey) AND (@since IS NULL OR created_at >= @since)`,
      ),
      depth: db.prepare<[], { state: OutboxState; n: number }>('SELECT state, COUNT(*) AS n FROM event_outbox GROUP BY state'),
      pruneSequences: db.prepare<[number]>(
        `DELETE FROM event_sequences WHERE last_used_at < ?
           AND NOT EXISTS (SELECT 1 FROM event_outbox o WHERE o.session_id = event_sequences.session_id)
           AND NOT EXISTS (SELECT 1 FROM session_wills w WHERE w.session_id = event_sequences.session_id)`,
      ),
    };
    // The sequence and the row are one transaction: a crash between them cannot skip or reuse a number.
    this.appendTx = db.transaction((e: NewOutboxEvent): OutboxEvent => {
      const sequence = this.q.nextSequence.get({ sessionId: e.sessionId, now: e.createdAt })!.last_sequence;
      const body = JSON.stringify({ ...e.body, sequence });
      const id = Number(
        this.q.insert.run(
          e.eventId,
          e.appKey,
          e.sessionId,
          e.method,
          sequence,
          body,
          e.failNotify ? 1 : 0,
          e.createdAt,
          e.createdAt,
          e.createdAt,
        ).lastInsertRowid,
      );
      return appendedEvent(e, id, sequence, body);
    });
  }

  /** The `appendEvent` write (../hooks/storage.ts StoreWrite), as are the `mark…` methods below. */
  append(event: NewOutboxEvent): OutboxEvent {
    return this.appendTx(event);
  }

  async pendingOf(sessionId: string, limit: number): Promise<OutboxEvent[]> {
    return this.q.pendingOf.all(sessionId, limit).map(toEvent);
  }

  async pendingSessions(): Promise<Array<{ sessionId: string; appKey: string; nextAttemptAt: number }>> {
    return this.q.pendingSessions.all().map((r) => ({ sessionId: r.session_id, appKey: r.app_key, nextAttemptAt: r.next_attempt_at }));
  }

  markDelivered(id: number): void {
    this.q.delivered.run(id);
  }

  markAttemptFailed(id: number, nextAttemptAt: number, error: string): void {
    this.q.attemptFailed.run(nextAttemptAt, error, id);
  }

  markDead(id: number, error: string): void {
    this.q.dead.run(error, id);
  }

  async list(q: OutboxListQuery = {}): Promise<OutboxEvent[]> {
    const limit = Math.max(1, Math.floor(q.limit ?? DEFAULT_LIST_LIMIT));
    const appKey = q.appKey ?? null;
    const stmt = q.dead === undefined ? this.q.list : q.dead ? this.q.listDead : this.q.listPending;
    const rows = stmt.all({ appKey, limit });
    return rows.map(toEvent);
  }

  async replay(q: OutboxReplayQuery = {}, now = Date.now()): Promise<number> {
    return this.q.replay.run({ now, appKey: q.appKey ?? null, since: q.since ?? null }).changes;
  }

  async depth(): Promise<{ pending: number; dead: number }> {
    const out = { pending: 0, dead: 0 };
    for (const r of this.q.depth.all()) out[r.state] = r.n;
    return out;
  }

  async pruneSequences(before: number): Promise<number> {
    return this.q.pruneSequences.run(before).changes;
  }
}
