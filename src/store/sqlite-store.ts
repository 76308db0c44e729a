/**
 * Opens the store: `<dataDir>/callhook.db`, migrated to the current schema; seeds `defaultApp` on first start.
 *
 * Durability: WAL journal with `synchronous=NORMAL`. In WAL mode a commit appends to the WAL file and returns
 * without fsync; the fsync happens at checkpoints. A committed transaction therefore survives a crash or kill of
 * the callhook process (the bytes are in the OS), which is the failure the outbox must survive: an emitted event
 * is never lost to a restart once committed. Only an OS crash or power cut can roll back the last few commits (the
 * database stays consistent either way). FULL would fsync every event and cap the outbox at the disk's fsync rate.
 * Checkpoints (where NORMAL does fsync) run between commits, on the main thread or a worker: ./checkpointer.ts.
 *
 * The hook engine's writes go through one group commit (./group-commit.ts), as on PostgreSQL: an event is
 * committed at the end of the turn of the event loop in which it was emitted, before its first delivery attempt,
 * together with everything else written in that turn. A process killed within that turn loses the events of the
 * turn together with the wills they carried, so what the backend was owed before stays owed
 * (docs/architecture.md).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CallRecordRetention, NewApp, OutboxEvent, Store, StoreWrite } from './types.ts';
import type { Logger } from '../log.ts';
import { startCheckpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { migrate } from './migrations.ts';
import { SqliteAppRepository } from './apps.ts';
import { SqliteCallDetailRecords } from './cdr.ts';
import { SqliteHookLog } from './hook-log.ts';
import { SqliteEventOutbox } from './outbox.ts';
import { SqliteSessionWills } from './wills.ts';

export const DB_FILE = 'callhook.db';
export const DEFAULT_APP_KEY = 'defaultApp';

export interface OpenStoreOptions {
  dataDir: string;
  /** Port of the admin server, which hosts EchoApp: defaultApp's URL is http://127.0.0.1:<adminPort>/apps/EchoApp. */
  adminPort: number;
  /** Where checkpoint failures are reported (default: a process warning). */
  log?: Logger;
  /** Retention of call detail records (config cdrMaxAgeDays, cdrMaxCount); default: 90 days, 100,000 records. */
  cdrRetention?: CallRecordRetention;
}

export const DEFAULT_CDR_RETENTION: CallRecordRetention = { maxAgeMs: 90 * 86_400_000, maxCount: 100_000 };

/** The app the first start creates: EchoApp on the admin server (docs/hooks.md "The built-in backend: EchoApp"). */
export function defaultApp(adminPort: number): NewApp {
  return { name: DEFAULT_APP_KEY, appKey: DEFAULT_APP_KEY, url: `http://127.0.0.1:${adminPort}/apps/EchoApp` };
}

export function openStore(options: OpenStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true });
  const path = join(options.dataDir, DB_FILE);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Another connection (the checkpointer, a second callhook on the same dataDir) holding a lock: wait, not fail.
    db.pragma('busy_timeout = 5000');
    db.pragma('wal_autocheckpoint = 0');
    // After a restart of the WAL (./checkpointer.ts), a WAL file grown past this is truncated back to it.
    db.pragma('journal_size_limit = 67108864');
    const fromVersion = migrate(db);
    const apps = new SqliteAppRepository(db);
    if (fromVersion === 0) {
      // First start (docs/hooks.md "The built-in backend: EchoApp"): only then, so a user who removed defaultApp
      // keeps it removed. SQLite's app writes run to the end before their promise returns.
      void apps.add(defaultApp(options.adminPort));
      void apps.enableMethod(DEFAULT_APP_KEY, '*');
    }
    const callRecords = new SqliteCallDetailRecords(db, options.cdrRetention ?? DEFAULT_CDR_RETENTION);
    callRecords.prune();
    const hookLog = new SqliteHookLog(db);
    const outbox = new SqliteEventOutbox(db);
    const wills = new SqliteSessionWills(db);
    // ../hooks/storage.ts StoreWrite: the writes of a turn applied in one transaction, in the order handed over.
    const apply = (w: StoreWrite, appended: OutboxEvent[]): void => {
      switch (w.kind) {
        case 'appendEvent': appended.push(outbox.append(w.event)); return;
        case 'markDelivered': outbox.markDelivered(w.id); return;
        case 'markAttemptFailed': outbox.markAttemptFailed(w.id, w.nextAttemptAt, w.error); return;
        case 'markDead': outbox.markDead(w.id, w.error); return;
        case 'logAttempt': hookLog.append(w.entry); return;
        case 'putWill': wills.put(w.will); return;
        case 'removeWill': wills.remove(w.sessionId, w.subject); return;
        case 'removeSessionWills': wills.removeSession(w.sessionId); return;
        case 'clearWills': wills.clear(); return;
      }
    };
    const writeAll = db.transaction((writes: readonly StoreWrite[]): OutboxEvent[] => {
      const appended: OutboxEvent[] = [];
      for (const w of writes) apply(w, appended);
      return appended;
    });
    const commits = new GroupCommit<StoreWrite, OutboxEvent>(
      async (writes) => writeAll(writes),
      (w) => (w.kind === 'appendEvent' ? 1 : 0),
    );
    const checkpointer = startCheckpointer(db, path, (message) => {
      if (options.log !== undefined) options.log.error({ path, error: message }, 'SQLite WAL checkpoint failed');
      else process.emitWarning(`SQLite WAL checkpoint of ${path} failed: ${message}`);
    });
    return {
      apps,
      callRecords,
      hookLog,
      outbox,
      wills,
      path,
      write: (writes) => commits.submit(writes),
      close: async () => {
        await commits.settled();
        checkpointer.stop();
        db.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}
