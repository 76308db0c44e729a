/**
 * The bookkeeping of hook attempts — hook-log rows and outbox state changes (delivered, failed, dead) — is
 * committed in batches: every write queued within one turn of the event loop goes into one transaction. A commit
 * costs a WAL append of every page it touched, so one commit for a batch of deliveries instead of two per
 * delivery is what lets the outbox sustain thousands of events per second.
 *
 * Nothing here weakens the outbox's promise: events themselves are appended synchronously by `emit`. A crash
 * before a batch is committed can only lose bookkeeping: an event whose "delivered" mark was lost is sent again
 * (at least once, as promised), and a few hook-log rows may be missing.
 */
import type { HookStore } from './storage.ts';
import type { Logger } from '../log.ts';

export class WriteBehind {
  private ops: Array<() => void> = [];
  private scheduled = false;

  constructor(
    private readonly store: HookStore,
    private readonly log: Logger,
  ) {}

  add(op: () => void): void {
    this.ops.push(op);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Commits what is queued now (readers that must see it call this first). */
  flush(): void {
    if (this.ops.length === 0) return;
    const ops = this.ops;
    this.ops = [];
    try {
      this.store.batch(() => {
        for (const op of ops) op();
      });
    } catch (e) {
      this.log.error({ err: e, writes: ops.length }, 'hook bookkeeping could not be written to the store');
    }
  }
}
