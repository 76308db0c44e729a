/**
 * Group commit for PostgreSQL: every write handed over within one turn of the event loop goes into one
 * transaction, and one transaction runs at a time. The first gives throughput (a commit waits for one WAL flush,
 * whatever it holds: measured in docs/benchmarks.md); the second gives order: writes commit in the order they were
 * handed over, so a session's events keep their sequence order and a will never overtakes the event it goes with.
 *
 * The writes of all callers in a batch are applied as one list, so runs of the same write (a burst of appends, of
 * delivery marks) can go to PostgreSQL as one statement each: a round trip per run rather than per write.
 *
 * A batch that fails rolls back as a whole, and every caller in it is told (their writes are lost; the callers log
 * what that costs). The next batch starts afresh.
 */
import type { Pool, PoolClient } from 'pg';

interface Pending<W, R> {
  writes: readonly W[];
  resolve: (results: R[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Runs the batch's writes, in order, on the transaction's connection; returns what they produced (appended events),
 * in order: `produces` says how many results each write gives, so each caller gets its own.
 */
export type ApplyWrites<W, R> = (client: PoolClient, writes: readonly W[]) => Promise<R[]>;

export class GroupCommit<W, R> {
  private queue: Array<Pending<W, R>> = [];
  private scheduled = false;
  private committing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly apply: ApplyWrites<W, R>,
    private readonly produces: (write: W) => number,
  ) {}

  /** Resolves once `writes` are committed, with what they produced; rejects when their batch failed. */
  submit(writes: readonly W[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ writes, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything handed over so far is committed (or failed). */
  async settled(): Promise<void> {
    while (this.queue.length > 0 || this.committing !== undefined || this.scheduled) {
      await (this.committing ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.committing !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.committing = this.commitQueued().finally(() => {
        this.committing = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async commitQueued(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    let client: PoolClient | undefined;
    let broken = false;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      const results = await this.apply(client, batch.flatMap((p) => p.writes));
      await client.query('COMMIT');
      let at = 0;
      for (const p of batch) {
        const n = p.writes.reduce((sum, w) => sum + this.produces(w), 0);
        p.resolve(results.slice(at, at + n));
        at += n;
      }
    } catch (e) {
      // A connection that cannot even roll back is broken: the pool drops it rather than lend it again.
      broken = client !== undefined && !(await client.query('ROLLBACK').then(() => true, () => false));
      for (const p of batch) p.reject(e);
    } finally {
      client?.release(broken);
    }
  }
}
