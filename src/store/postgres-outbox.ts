/**
 * The event outbox in PostgreSQL: SQLite's (./outbox.ts) rules and SQL, ported. Appends and marks run inside the
 * group commit's transaction (./postgres-commit.ts) on its connection; the reads use the pool.
 */
import type { Pool, PoolClient } from 'pg';
import type { EventOutbox, NewOutboxEvent, OutboxEvent, OutboxListQuery, OutboxReplayQuery, OutboxState } from './types.ts';

interface Row {
  id: number;
  event_id: string;
  app_key: string;
  session_id: string;
  method: string;
  sequence: number;
  body: string;
  fail_notify: boolean;
  created_at: number;
  active_since: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  state: OutboxState;
}

const DEFAULT_LIST_LIMIT = 100;

function toEvent(r: Row): OutboxEvent {
  return {
    id: r.id,
    eventId: r.event_id,
    appKey: r.app_key,
    sessionId: r.session_id,
    method: r.method,
    sequence: r.sequence,
    body: r.body,
    failNotify: r.fail_notify,
    createdAt: r.created_at,
    activeSince: r.active_since,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    state: r.state,
  };
}

/**
 * One statement, so one round trip: the session's next sequence and the row. The body is the JSON of the event
 * without `sequence`; the statement appends it as the last field, as SQLite's `{ ...body, sequence }` does.
 */
const APPEND = `
  WITH seq AS (
    INSERT INTO event_sequences (session_id, last_sequence, last_used_at) VALUES ($3, 1, $7)
      ON CONFLICT (session_id) DO UPDATE SET last_sequence = event_sequences.last_sequence + 1, last_used_at = EXCLUDED.last_used_at
    RETURNING last_sequence)
  INSERT INTO event_outbox (event_id, app_key, session_id, method, sequence, body, fail_notify, created_at, active_since,
                            next_attempt_at, state, node)
  SELECT $1, $2, $3, $4, seq.last_sequence,
         CASE WHEN $5 = '{}' THEN '{"sequence":' || seq.last_sequence || '}'
              ELSE left($5, -1) || ',"sequence":' || seq.last_sequence || '}' END,
         $6, $7, $7, $7, 'pending', $8
    FROM seq
  RETURNING id, sequence, body`;

/** The `appendEvent` write, in the caller's transaction; `node` owns the event (delivers it while alive). */
export async function appendEvent(client: PoolClient, e: NewOutboxEvent, node: string): Promise<OutboxEvent> {
  const { sequence: _ignored, ...fields } = e.body;
  const r = (await client.query<{ id: number; sequence: number; body: string }>(APPEND, [
    e.eventId, e.appKey, e.sessionId, e.method, JSON.stringify(fields), e.failNotify, e.createdAt, node,
  ])).rows[0]!;
  return {
    id: r.id,
    eventId: e.eventId,
    appKey: e.appKey,
    sessionId: e.sessionId,
    method: e.method,
    sequence: r.sequence,
    body: r.body,
    failNotify: e.failNotify,
    createdAt: e.createdAt,
    activeSince: e.createdAt,
    attempts: 0,
    nextAttemptAt: e.createdAt,
    lastError: null,
    state: 'pending',
  };
}

export const OUTBOX_MARKS = {
  delivered: 'DELETE FROM event_outbox WHERE id = $1',
  attemptFailed: 'UPDATE event_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1',
  dead: "UPDATE event_outbox SET attempts = attempts + 1, last_error = $2, state = 'dead' WHERE id = $1",
};

/**
 * Reads of the outbox. The delivery worker's (pending sessions) are this node's: each node delivers its own
 * sessions' events; the admin API's (list, replay, depth) are the cluster's.
 */
export class PostgresEventOutbox implements EventOutbox {
  constructor(private readonly pool: Pool, private readonly node: string) {}

  async pendingOf(sessionId: string, limit: number): Promise<OutboxEvent[]> {
    const { rows } = await this.pool.query<Row>(
      "SELECT * FROM event_outbox WHERE session_id = $1 AND state = 'pending' ORDER BY id LIMIT $2",
      [sessionId, limit],
    );
    return rows.map(toEvent);
  }

  async pendingSessions(): Promise<Array<{ sessionId: string; appKey: string; nextAttemptAt: number }>> {
    const { rows } = await this.pool.query<{ session_id: string; app_key: string; next_attempt_at: number }>(
      `SELECT o.session_id, o.app_key, o.next_attempt_at FROM event_outbox o
         JOIN (SELECT MIN(id) AS id FROM event_outbox WHERE state = 'pending' AND node = $1 GROUP BY session_id) h ON h.id = o.id
       ORDER BY o.next_attempt_at, o.id`,
      [this.node],
    );
    return rows.map((r) => ({ sessionId: r.session_id, appKey: r.app_key, nextAttemptAt: r.next_attempt_at }));
  }

  async list(q: OutboxListQuery = {}): Promise<OutboxEvent[]> {
    const limit = Math.max(1, Math.floor(q.limit ?? DEFAULT_LIST_LIMIT));
    // The state is a literal in the SQL, so that the planner can use the partial index of dead rows.
    const state = q.dead === undefined ? '' : q.dead ? "state = 'dead' AND" : "state = 'pending' AND";
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM event_outbox WHERE ${state} ($1::text IS NULL OR app_key = $1) ORDER BY id LIMIT $2`,
      [q.appKey ?? null, limit],
    );
    return rows.map(toEvent);
  }

  async replay(q: OutboxReplayQuery = {}, now = Date.now()): Promise<number> {
    const r = await this.pool.query(
      `UPDATE event_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, active_since = $1
        WHERE state = 'dead' AND ($2::text IS NULL OR app_key = $2) AND ($3::bigint IS NULL OR created_at >= $3)`,
      [now, q.appKey ?? null, q.since ?? null],
    );
    return r.rowCount ?? 0;
  }

  async depth(): Promise<{ pending: number; dead: number }> {
    const out = { pending: 0, dead: 0 };
    const { rows } = await this.pool.query<{ state: OutboxState; n: number }>('SELECT state, COUNT(*) AS n FROM event_outbox GROUP BY state');
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  async pruneSequences(before: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM event_sequences s WHERE s.last_used_at < $1
         AND NOT EXISTS (SELECT 1 FROM event_outbox o WHERE o.session_id = s.session_id)
         AND NOT EXISTS (SELECT 1 FROM session_wills w WHERE w.session_id = s.session_id)`,
      [before],
    );
    return r.rowCount ?? 0;
  }
}
