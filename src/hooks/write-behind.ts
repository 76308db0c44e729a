/**
 * The bookkeeping of hook attempts — hook-log rows and outbox state changes (delivered, failed, dead) — is
 * committed in batches: every write queued within one turn of the event loop goes into one `HookStore.write`. A
 * commit costs a WAL append (SQLite) or a round of fsync (PostgreSQL) for everything it touched, so one commit for
 * a batch of deliveries instead of two per delivery is what lets the outbox sustain thousands of events per second.
 *
 * Nothing here weakens the outbox's promise: events themselves are appended by `emit`, not here. A crash
 * before a batch is committed can only lose bookkeeping: an event whose "delivered" mark was lost is sent again
 * (at least once, as promised), and a few hook-log rows may be missing.
 */
import type { HookStore, StoreWrite } from './storage.ts';
import type { Logger } from '../log.ts';

export class WriteBehind {
  private writes: StoreWrite[] = [];
  private scheduled = false;
  private committed: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: HookStore,
    private readonly log: Logger,
  ) {}

  add(write: StoreWrite): void {
    this.writes.push(write);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /**
   * Commits what is queued now; resolves once everything handed to the store so far is committed (readers that
   * must see it await this first: a commit in flight counts too). Never rejects: failures are logged.
   */
  flush(): Promise<void> {
    if (this.writes.length > 0) {
      const writes = this.writes;
      this.writes = [];
      // The store commits in the order of the calls, so this one settling means every earlier one has.
      this.committed = this.store.write(writes).then(
        () => undefined,
        (e: unknown) => this.log.error({ err: e, writes: writes.length }, 'hook bookkeeping could not be written to the store'),
      );
    }
    return this.committed;
  }
}
