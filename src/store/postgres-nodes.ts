/**
 * The node registry in PostgreSQL (./types.ts NodeRegistry): each node heart-beats into `nodes`; a node silent for
 * a lease is lost, and one survivor takes its rows over in one transaction. `FOR UPDATE SKIP LOCKED` makes the claim
 * exclusive without waiting: two survivors looking at once take different lost nodes, or one takes it and the other
 * passes. What the lost node left is then this node's: its events (delivered in their session order, as sequences
 * and ids are kept), its open calls' records (closed), its wills (returned, for the hook engine to emit); its rows in
 * the directory of live sessions and calls are deleted.
 */
import type { Pool } from 'pg';
import type { LostNode, NodeRegistry, SessionWill } from './types.ts';
import { recordOf, type CallRecordRow } from './cdr.ts';

export class PostgresNodeRegistry implements NodeRegistry {
  private readonly startedAt = Date.now();

  constructor(private readonly pool: Pool, private readonly node: string) {}

  async heartbeat(now: number, adminUrl?: string): Promise<boolean> {
    // xmax = 0: the row was inserted, not updated (PostgreSQL's way to tell the two apart in an upsert).
    const { rows } = await this.pool.query<{ inserted: boolean }>(
      `INSERT INTO nodes (name, started_at, heartbeat_at, admin_url) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, admin_url = EXCLUDED.admin_url
       RETURNING (xmax = 0) AS inserted`,
      [this.node, this.startedAt, now, adminUrl ?? null],
    );
    return !rows[0]!.inserted;
  }

  async takeOver(leaseMs: number, info: string, now: number): Promise<LostNode | undefined> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const lost = (await c.query<{ name: string }>(
        'SELECT name FROM nodes WHERE heartbeat_at < $1 AND name <> $2 ORDER BY heartbeat_at LIMIT 1 FOR UPDATE SKIP LOCKED',
        [now - leaseMs, this.node],
      )).rows[0]?.name;
      if (lost === undefined) {
        await c.query('COMMIT');
        return undefined;
      }
      const events = (await c.query('UPDATE event_outbox SET node = $1 WHERE node = $2', [this.node, lost])).rowCount ?? 0;
      const wills = (await c.query<{ seq: number; session_id: string; subject: string; app_key: string; method: string; body: string; fail_notify: boolean }>(
        'DELETE FROM session_wills WHERE node = $1 RETURNING *',
        [lost],
      )).rows;
      const records = (await c.query<CallRecordRow>(
        `UPDATE call_records SET ended_at = GREATEST($2, started_at), status = 'FINISH', info = $3, hangup_side = 'callhook'
          WHERE node = $1 AND ended_at IS NULL RETURNING *`,
        [lost, now, info],
      )).rows;
      await c.query('DELETE FROM live_items WHERE node = $1', [lost]);
      await c.query('DELETE FROM nodes WHERE name = $1', [lost]);
      await c.query('COMMIT');
      return {
        node: lost,
        events,
        // RETURNING of a DELETE keeps no order: the wills' first-written order is their identity order.
        wills: wills
          .sort((a, b) => a.seq - b.seq)
          .map((r): SessionWill => ({
            sessionId: r.session_id, subject: r.subject, appKey: r.app_key, method: r.method,
            body: JSON.parse(r.body) as Record<string, unknown>, failNotify: r.fail_notify,
          })),
        callRecords: records.map(recordOf).sort((a, b) => a.id - b.id),
      };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
}
