/**
 * The event outbox in PostgreSQL: SQLite's (./outbox.ts) rules and SQL, ported. Appends and marks run inside the
 * group commit's transaction (./group-commit.ts) on its connection; the reads use the pool.
 */
import type { Pool, PoolClient } from 'pg';
import type { EventOutbox, NewOutboxEvent, OutboxEvent, OutboxListQuery, OutboxReplayQuery, OutboxState } from './types.ts';
import { appendedEvent, toEvent, type OutboxRow } from './outbox.ts';

const DEFAULT_LIST_LIMIT = 100;

/**
 * A run of appends as one statement, so one round trip: each session's next sequences (one counter update per
 * session, by the number of its events in the run) and the rows, numbered in the run's order within each session
 * and inserted in the run's order (ids follow it). The bodies are the JSON of each event without `sequence`; the
 * statement appends it as the last field, as SQLite's `{ ...body, sequence }` does.
 */
const APPEND_RUN = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::bigint[])
      WITH ORDINALITY AS t(event_id, app_key, session_id, method, body, fail_notify, created_at, ord)),
  counts AS (SELECT session_id, COUNT(*) AS n, MAX(created_at) AS last_used_at FROM input GROUP BY session_id),
  seq AS (
    INSERT INTO event_sequences (session_id, last_sequence, last_used_at) SELECT session_id, n, last_used_at FROM counts
      ON CONFLICT (session_id) DO UPDATE
        SET last_sequence = event_sequences.last_sequence + EXCLUDED.last_sequence, last_used_at = EXCLUDED.last_used_at
    RETURNING session_id, last_sequence),
  numbered AS (
    SELECT i.*, s.last_sequence - c.n + ROW_NUMBER() OVER (PARTITION BY i.session_id ORDER BY i.ord) AS sequence
      FROM input i JOIN counts c USING (session_id) JOIN seq s USING (session_id))
  INSERT INTO event_outbox (event_id, app_key, session_id, method, sequence, body, fail_notify, created_at, active_since,
                            next_attempt_at, state, node)
  SELECT event_id, app_key, session_id, method, sequence,
         CASE WHEN body = '{}' THEN '{"sequence":' || sequence || '}'
              ELSE left(body, -1) || ',"sequence":' || sequence || '}' END,
         fail_notify, created_at, created_at, created_at, 'pending', $8
    FROM numbered ORDER BY ord
  RETURNING id, event_id, sequence, body`;

/** The `appendEvent` writes of a run, in the caller's transaction; `node` owns the events (delivers them while alive). */
export async function appendEvents(client: PoolClient, events: readonly NewOutboxEvent[], node: string): Promise<OutboxEvent[]> {
  const bodies = events.map((e) => {
    const { sequence: _ignored, ...fields } = e.body;
    return JSON.stringify(fields);
  });
  const { rows } = await client.query<{ id: number; event_id: string; sequence: number; body: string }>(APPEND_RUN, [
    events.map((e) => e.eventId), events.map((e) => e.appKey), events.map((e) => e.sessionId), events.map((e) => e.method),
    bodies, events.map((e) => e.failNotify), events.map((e) => e.createdAt), node,
  ]);
  // RETURNING promises no order: rows are matched to their events by event id.
  const byEventId = new Map(rows.map((r) => [r.event_id, r]));
  return events.map((e) => {
    const r = byEventId.get(e.eventId)!;
    return appendedEvent(e, r.id, r.sequence, r.body);
  });
}

export const OUTBOX_MARKS = {
  /** A run of deliveries: one statement. */
  delivered: 'DELETE FROM event_outbox WHERE id = ANY($1::bigint[])',
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
    const { rows } = await this.pool.query<OutboxRow>(
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
    const { rows } = await this.pool.query<OutboxRow>(
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
