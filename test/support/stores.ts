/**
 * The store's engines for tests that run against both (docs/architecture.md "One store interface, two engines"):
 * SQLite in a temp dir, and PostgreSQL in a throwaway server (./postgres.ts) started on first use and shared by
 * the test file, a fresh database per store. Call `stopStoreEngines()` in the file's `after`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import { openPostgresStore, openStore, type CallRecordRetention, type NewOutboxEvent, type OutboxEvent, type Store } from '../../src/store/index.ts';
import { startPostgres, type Postgres } from './postgres.ts';

export type StoreEngineName = 'sqlite' | 'postgres';

export interface StoreOpenOptions {
  adminPort?: number;
  cdrRetention?: CallRecordRetention;
  /** PostgreSQL: the node that owns what the store writes (default `test-node`). */
  node?: string;
}

export interface StoreEngine {
  readonly name: StoreEngineName;
  /** A fresh, empty place for a store: a data dir (SQLite) or a database URL (PostgreSQL). */
  fresh(): Promise<string>;
  open(location: string, options?: StoreOpenOptions): Promise<Store>;
}

const dirs: string[] = [];
let postgres: Promise<Postgres> | undefined;

/** The throwaway PostgreSQL of this test process (started on first use). */
export function sharedPostgres(): Promise<Postgres> {
  postgres ??= startPostgres();
  return postgres;
}

export const STORE_ENGINES: readonly StoreEngine[] = [
  {
    name: 'sqlite',
    async fresh() {
      const d = mkdtempSync(join(tmpdir(), 'callhook-store-'));
      dirs.push(d);
      return d;
    },
    async open(dataDir, o = {}) {
      return openStore({ dataDir, adminPort: o.adminPort ?? 8081, ...(o.cdrRetention && { cdrRetention: o.cdrRetention }) });
    },
  },
  {
    name: 'postgres',
    async fresh() {
      return (await sharedPostgres()).newDatabase();
    },
    async open(url, o = {}) {
      return openPostgresStore({
        url, node: o.node ?? 'test-node', adminPort: o.adminPort ?? 8081, log: createLogger('silent'),
        ...(o.cdrRetention && { cdrRetention: o.cdrRetention }),
      });
    },
  },
];

/** A fresh store of `engine`. */
export async function freshStore(engine: StoreEngine, options?: StoreOpenOptions): Promise<Store> {
  return engine.open(await engine.fresh(), options);
}

export async function stopStoreEngines(): Promise<void> {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  const pg = postgres;
  postgres = undefined;
  if (pg !== undefined) await (await pg).stop();
}

/** Appends one event (the `appendEvent` write) and returns it as stored. */
export async function appendEvent(store: Store, event: NewOutboxEvent): Promise<OutboxEvent> {
  return (await store.write([{ kind: 'appendEvent', event }]))[0]!;
}

/**
 * Resolves once every write handed to the store so far is committed: PostgreSQL writes call detail records behind
 * (src/store/postgres-cdr.ts) and commits in call order, so an empty write is a barrier. SQLite has nothing pending.
 */
export async function committed(store: Store): Promise<void> {
  await store.write([]);
}
