/**
 * Group commit, for both engines: every write handed over within one turn of the event loop goes into one
 * transaction, and one transaction runs at a time. The first gives throughput (one commit for the turn: on
 * PostgreSQL one WAL flush, on SQLite one append of each page the turn touched to the WAL, and one round of its file
 * locks; measured in docs/benchmarks.md); the second gives order: writes commit in the order they were handed over,
 * so a session's events keep their sequence order and a will never overtakes the event it goes with.
 *
 * The writes of all callers in a batch are applied as one list, so the engine may join runs of the same write (a
 * burst of appends, of delivery marks) into one statement each (PostgreSQL: a round trip per run rather than per
 * write).
 *
 * A batch that fails rolls back as a whole, and every caller in it is told (their writes are lost; the callers log
 * what that costs). The next batch starts afresh.
 */

/**
 * One transaction over the batch's writes, in order: resolves with what they produced (appended events), in order,
 * once committed; rejects, rolled back, when any failed.
 */
export type CommitWrites<W, R> = (writes: readonly W[]) => Promise<R[]>;

interface Pending<W, R> {
  writes: readonly W[];
  resolve: (results: R[]) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<W, R> {
  private queue: Array<Pending<W, R>> = [];
  private scheduled = false;
  private committing: Promise<void> | undefined;

  constructor(
    private readonly commit: CommitWrites<W, R>,
    /** How many results each write gives, so each caller gets its own. */
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
    try {
      const results = await this.commit(batch.length === 1 ? batch[0]!.writes : batch.flatMap((p) => p.writes));
      let at = 0;
      for (const p of batch) {
        let n = 0;
        for (const w of p.writes) n += this.produces(w);
        p.resolve(results.slice(at, at + n));
        at += n;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
