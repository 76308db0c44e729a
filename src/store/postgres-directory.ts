/**
 * The directory of live sessions and calls in PostgreSQL (./types.ts LiveDirectory): one row per item and node,
 * written by the node that holds it, read by every node's admin API. The rows are a view kept a moment behind the
 * holding node's own state (src/cluster/directory-sync.ts); the holding node's word is final, which is why a
 * terminate is forwarded to it rather than acted on from here.
 */
import type { Pool } from 'pg';
import type { LiveDirectory, LiveItem, LiveItemKind } from './types.ts';

export class PostgresLiveDirectory implements LiveDirectory {
  constructor(private readonly pool: Pool, private readonly node: string) {}

  async publish(put: readonly LiveItem[], gone: ReadonlyArray<Pick<LiveItem, 'kind' | 'id'>>): Promise<void> {
    if (put.length === 0 && gone.length === 0) return;
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      if (gone.length > 0) {
        await c.query(
          'DELETE FROM live_items WHERE node = $1 AND (kind, id) IN (SELECT * FROM unnest($2::text[], $3::text[]))',
          [this.node, gone.map((g) => g.kind), gone.map((g) => g.id)],
        );
      }
      if (put.length > 0) {
        await c.query(
          `INSERT INTO live_items (kind, id, node, info) SELECT k, i, $1, f FROM unnest($2::text[], $3::text[], $4::text[]) AS u (k, i, f)
             ON CONFLICT (kind, id, node) DO UPDATE SET info = EXCLUDED.info`,
          [this.node, put.map((p) => p.kind), put.map((p) => p.id), put.map((p) => JSON.stringify(p.info))],
        );
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async clear(): Promise<void> {
    await this.pool.query('DELETE FROM live_items WHERE node = $1', [this.node]);
  }

  async list(kind: LiveItemKind): Promise<LiveItem[]> {
    const { rows } = await this.pool.query<{ id: string; node: string; info: string }>(
      'SELECT id, node, info FROM live_items WHERE kind = $1 ORDER BY node, id',
      [kind],
    );
    return rows.map((r) => ({ kind, id: r.id, node: r.node, info: JSON.parse(r.info) as Record<string, unknown> }));
  }

  async owner(kind: LiveItemKind, id: string): Promise<{ node: string; adminUrl: string | undefined } | undefined> {
    const { rows } = await this.pool.query<{ node: string; admin_url: string | null }>(
      'SELECT l.node, n.admin_url FROM live_items l LEFT JOIN nodes n ON n.name = l.node WHERE l.kind = $1 AND l.id = $2 LIMIT 1',
      [kind, id],
    );
    const r = rows[0];
    return r === undefined ? undefined : { node: r.node, adminUrl: r.admin_url ?? undefined };
  }
}
