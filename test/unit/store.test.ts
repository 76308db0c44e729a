/**
 * The store on both engines (docs/admin.md; docs/architecture.md "One store interface, two engines"): SQLite on a
 * real database file in a temp dir, PostgreSQL in a throwaway server (test/support/postgres.ts). Migrations,
 * defaultApp on first start, apps and their validation, the hook log cap, the event outbox bookkeeping, wills;
 * SQLite's durability settings and checkpointer on SQLite alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, StoreError, HOOK_LOG_CAPACITY, type Store, type StoreErrorCode } from '../../src/store/index.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { OVER_BUDGET_IN_A_ROW, START_CHANGES, startCheckpointer, type Checkpointer } from '../../src/store/checkpointer.ts';
import { REST_METHOD_NAMES } from '../../src/hooks/methods.ts';
import { eventually } from '../support/eventually.ts';
import { appendEvent, freshStore, STORE_ENGINES, stopStoreEngines } from '../support/stores.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'callhook-store-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await stopStoreEngines();
});

async function rejectsStore(promise: Promise<unknown>, code: StoreErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

describe('opening the SQLite store', () => {
  it('creates <dataDir>/callhook.db in WAL mode with synchronous=NORMAL, migrated to the latest version', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = openStore({ dataDir: dir, adminPort: 8081 });
    assert.equal(store.path, join(dir, 'callhook.db'));
    await store.close();
    const db = new Database(join(dir, 'callhook.db'), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)!.version);
    db.close();
  });

  it('checkpoints the WAL into the database file', async () => {
    const dir = tempDir();
    const store = openStore({ dataDir: dir, adminPort: 8081 });
    const db = join(dir, 'callhook.db');
    const before = statSync(db).size;
    const body = { text: 'x'.repeat(500) };
    for (let i = 0; i < 2000; i++) {
      await appendEvent(store, { eventId: `e${i}`, appKey: 'a', sessionId: `s${i % 50}`, method: 'CallStatusEvent', body, failNotify: false, createdAt: i });
    }
    await eventually(() => statSync(db).size > before, 5000, 'pages to reach the database file (a checkpoint)');
    await store.close();
  });

  /** What a checkpointer test sees: the database file, a 500-byte row inserter and the checkpointer. */
  interface CheckpointedDatabase {
    path: string;
    insert: (rows: number) => void;
    checkpointer: Checkpointer;
  }
  /**
   * Runs `body` on a database in WAL mode whose connection never checkpoints itself, as the store's, with a
   * checkpointer that looks every 20 ms, ends its worker after 300 ms idle and gives the main thread's checkpoints
   * `mainThreadCheckpointMs`; then stops it and checks that it reported no error.
   */
  async function withCheckpointer(mainThreadCheckpointMs: number, body: (d: CheckpointedDatabase) => Promise<void>): Promise<void> {
    const path = join(tempDir(), 'callhook.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x TEXT)');
    const row = db.prepare('INSERT INTO t VALUES (?)');
    const insert = (rows: number): void => {
      for (let i = 0; i < rows; i++) row.run('x'.repeat(500));
    };
    const errors: string[] = [];
    const checkpointer = startCheckpointer(db, path, (m) => errors.push(m), { watchIntervalMs: 20, idleMs: 300, mainThreadCheckpointMs });
    try {
      await body({ path, insert, checkpointer });
    } finally {
      checkpointer.stop();
      db.close();
    }
    assert.deepEqual(errors, []);
  }
  // A budget no checkpoint of a few hundred rows reaches, so that only the change count decides.
  const NO_TIME_LIMIT = 60_000;

  it('checkpoints fewer than START_CHANGES changes of one watch interval on the main thread, with no worker', () =>
    withCheckpointer(NO_TIME_LIMIT, async ({ path, insert, checkpointer }) => {
      for (let round = 0; round < 3; round++) {
        const before = statSync(path).size;
        insert(START_CHANGES - 1);
        await eventually(() => statSync(path).size > before, 5000, `round ${round}: the inserted pages to reach the database file (a checkpoint)`);
        assert.equal(checkpointer.running, false, `round ${round}: a worker started for fewer than START_CHANGES changes`);
      }
    }));

  it('runs the checkpoint worker for START_CHANGES changes in one watch interval, and ends it when the WAL is idle', () =>
    withCheckpointer(NO_TIME_LIMIT, async ({ path, insert, checkpointer }) => {
      const before = statSync(path).size;
      insert(START_CHANGES);
      await eventually(() => checkpointer.running, 5000, 'a worker to start after the inserts');
      await eventually(() => statSync(path).size > before, 5000, 'the inserted pages to reach the database file (a checkpoint)');
      await eventually(() => !checkpointer.running, 5000, 'the worker to end once the WAL took no frame for idleMs');
      insert(START_CHANGES);
      await eventually(() => checkpointer.running, 5000, 'a second worker after as many changes again');
    }));

  it('hands the checkpoints to the worker once OVER_BUDGET_IN_A_ROW on the main thread each took longer than their budget (a slow disk)', () =>
    // Every checkpoint takes longer than 0 ms.
    withCheckpointer(0, async ({ path, insert, checkpointer }) => {
      for (let i = 1; i <= OVER_BUDGET_IN_A_ROW; i++) {
        assert.equal(checkpointer.running, false, `a worker before checkpoint ${i} on the main thread`);
        const before = statSync(path).size;
        insert(10); // more than a page: the database file grows when they are checkpointed
        await eventually(() => statSync(path).size > before, 5000, `checkpoint ${i} on the main thread`);
      }
      // The worker starts in the same turn as the last checkpoint over budget.
      assert.equal(checkpointer.running, true, `no worker after ${OVER_BUDGET_IN_A_ROW} checkpoints over budget`);
    }));

  it('refuses a database from a newer callhook', () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'callhook.db'));
    db.pragma('user_version = 999');
    db.close();
    assert.throws(() => openStore({ dataDir: dir, adminPort: 8081 }), /schema version 999 is newer than this callhook knows/);
  });
});

for (const engine of STORE_ENGINES) {
  describe(`store on ${engine.name}`, () => {
    it('first start creates defaultApp → EchoApp on the admin port, every method enabled', async () => {
      const store = await freshStore(engine, { adminPort: 9091 });
      const app = store.apps.getByKey('defaultApp');
      assert.deepEqual(app, {
        name: 'defaultApp', appKey: 'defaultApp', url: 'http://127.0.0.1:9091/apps/EchoApp', signature: 'callhook',
        restClientConfig: {}, methods: [...REST_METHOD_NAMES],
      });
      await store.close();
    });

    it('does not bring defaultApp back on a later start once removed, and keeps data across reopen', async () => {
      const location = await engine.fresh();
      let store = await engine.open(location);
      await store.apps.remove('defaultApp');
      await store.apps.add({ name: 'mine', appKey: 'mineKey', url: 'http://127.0.0.1:1/rest' });
      await store.close();
      store = await engine.open(location);
      assert.deepEqual(store.apps.list().map((a) => a.name), ['mine']);
      await store.close();
    });

    describe('apps', () => {
      let store: Store;
      beforeEach(async () => {
        store = await freshStore(engine);
      });
      afterEach(() => store.close());

      it('a new app has no methods enabled (WCS rule); enable one, all, disable', async () => {
        await store.apps.add({ name: 'c2c', appKey: 'clickToCallApp', url: 'https://example.test/rest' });
        assert.deepEqual(store.apps.getByKey('clickToCallApp')!.methods, []);
        assert.deepEqual((await store.apps.enableMethod('clickToCallApp', 'call')).methods, ['call']);
        assert.deepEqual((await store.apps.enableMethod('clickToCallApp', 'connect')).methods, ['connect', 'call'], 'table order');
        assert.deepEqual((await store.apps.disableMethod('clickToCallApp', 'call')).methods, ['connect']);
        assert.deepEqual((await store.apps.enableMethod('clickToCallApp', '*')).methods, [...REST_METHOD_NAMES]);
        assert.deepEqual((await store.apps.disableMethod('clickToCallApp', '*')).methods, []);
        assert.deepEqual(store.apps.getByKey('clickToCallApp')!.methods, [], 'cache dropped on write');
        await rejectsStore(store.apps.enableMethod('clickToCallApp', 'Connect'), 'UNKNOWN_METHOD', /unknown REST method "Connect".*case-sensitive/);
        await rejectsStore(store.apps.enableMethod('nope', 'call'), 'APP_NOT_FOUND', /no app with key "nope"/);
      });

      it('keeps credentials, signature mode and the default restClientConfig', async () => {
        await store.apps.add({
          name: 'a', appKey: 'k', url: 'http://h/rest', restUsername: 'u', restPassword: 'p', restSecret: 's',
          restClientConfig: { call: { restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: 'callee' }, publishStream: {} },
        });
        const app = store.apps.getByName('a')!;
        assert.equal(app.restUsername, 'u');
        assert.equal(app.restPassword, 'p');
        assert.equal(app.restSecret, 's');
        assert.equal(app.signature, 'callhook');
        assert.deepEqual(app.restClientConfig, { call: { restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: 'callee' } });
        assert.ok(Object.isFrozen(app), 'apps are handed out frozen');
      });

      it('update changes fields, clears credentials with null, replaces the config, renames the key', async () => {
        await store.apps.add({ name: 'a', appKey: 'k', url: 'http://h/rest', restUsername: 'u', restPassword: 'p', restClientConfig: { call: { restOnError: 'FAIL' } } });
        await store.apps.enableMethod('k', 'call');
        assert.equal(store.apps.getByKey('k')!.url, 'http://h/rest', 'cached');
        const updated = await store.apps.update('a', { appKey: 'k2', url: 'https://h2/x', restUsername: null, restPassword: null, restClientConfig: { hold: { restPolicy: 'DISABLE' } } });
        assert.deepEqual(updated, {
          name: 'a', appKey: 'k2', url: 'https://h2/x', signature: 'callhook', restClientConfig: { hold: { restPolicy: 'DISABLE' } }, methods: ['call'],
        });
        assert.equal(store.apps.getByKey('k'), undefined);
        assert.equal(store.apps.getByKey('k2')!.url, 'https://h2/x');
        await rejectsStore(store.apps.update('nope', {}), 'APP_NOT_FOUND', /no app named "nope"/);
        await rejectsStore(store.apps.update('a', { appKey: 'defaultApp' }), 'APP_EXISTS', /key "defaultApp" already exists/);
      });

      it("keeps an app's own codecPolicy; update sets and (with null) clears it", async () => {
        const added = await store.apps.add({ name: 'a', appKey: 'k', url: 'http://h/rest', codecPolicy: 'opus-to-browser' });
        assert.equal(added.codecPolicy, 'opus-to-browser');
        assert.equal(store.apps.getByKey('k')!.codecPolicy, 'opus-to-browser');
        assert.equal((await store.apps.update('a', { codecPolicy: 'fail' })).codecPolicy, 'fail');
        assert.equal((await store.apps.update('a', { url: 'http://h2/rest' })).codecPolicy, 'fail', 'kept by a patch without it');
        const cleared = await store.apps.update('a', { codecPolicy: null });
        assert.equal(cleared.codecPolicy, undefined);
        assert.equal(store.apps.getByName('a')!.codecPolicy, undefined);
      });

      it('refuses duplicates', async () => {
        await rejectsStore(store.apps.add({ name: 'defaultApp', appKey: 'x', url: 'http://h' }), 'APP_EXISTS', /named "defaultApp"/);
        await rejectsStore(store.apps.add({ name: 'x', appKey: 'defaultApp', url: 'http://h' }), 'APP_EXISTS', /key "defaultApp"/);
      });

      it('remove deletes the app with its methods and config', async () => {
        await store.apps.remove('defaultApp');
        assert.equal(store.apps.getByKey('defaultApp'), undefined);
        await rejectsStore(store.apps.remove('defaultApp'), 'APP_NOT_FOUND', /no app named/);
        await store.apps.add({ name: 'defaultApp', appKey: 'defaultApp', url: 'http://h' });
        assert.deepEqual(store.apps.getByKey('defaultApp')!.methods, [], 'nothing left behind');
      });

      it('refuses bad input with a message naming the field (bad input: URLs, header injection, auth conflicts)', async () => {
        const base = { name: 'b', appKey: 'b', url: 'http://h/rest' };
        const cases: Array<[Record<string, unknown>, RegExp]> = [
          [{ url: 'ftp://h/rest' }, /url must start with http:\/\/ or https:\/\/ \(got "ftp:\/\/h\/rest"\)/],
          [{ url: 'javascript:alert(1)' }, /url must start with http/],
          [{ url: 'not a url' }, /url must be a URL without spaces/],
          [{ url: '/relative' }, /url is not a valid absolute URL/],
          [{ url: '' }, /url is required/],
          [{ url: 'http://u:p@h/rest' }, /url must not contain credentials; use restUsername and restPassword/],
          [{ url: 'http://h/rest#x' }, /#fragment/],
          [{ url: 'http://h/rest\r\nX-Injected: 1' }, /control characters/],
          [{ name: 'has space' }, /name must be 1-128 letters/],
          [{ appKey: '../etc' }, /appKey must be/],
          [{ restUsername: 'u\r\nX-Injected: 1', restPassword: 'p' }, /restUsername must not contain control characters/],
          [{ restUsername: 'u', restPassword: 'p\nX: 1' }, /restPassword must not contain control characters/],
          [{ restSecret: 's\r\n' }, /restSecret must not contain control characters/],
          [{ restUsername: 'a:b' }, /restUsername must not contain ":" \(RFC 7617/],
          [{ restPassword: 'p' }, /restPassword needs restUsername/],
          [{ signature: 'hmac' }, /signature must be "callhook" or "wcs"/],
          [{ signature: 'wcs' }, /signature "wcs" needs restSecret/],
          [{ signature: 'wcs', restSecret: 's', restUsername: 'u' }, /cannot be combined with HTTP Basic/],
          [{ restClientConfig: { call: { restOnError: 'NEVER' } } }, /restClientConfig\.call\.restOnError must be LOG or FAIL/],
          [{ codecPolicy: 'transcode' }, /codecPolicy must be "passthrough", "opus-to-browser", "fail" or absent \(got "transcode"\)/],
        ];
        for (const [patch, message] of cases) {
          await rejectsStore(store.apps.add({ ...base, ...patch } as never), 'INVALID_APP', message);
        }
        await rejectsStore(store.apps.update('defaultApp', { url: 'file:///etc/passwd' }), 'INVALID_APP', /url must start with http/);
        assert.equal(store.apps.getByKey('b'), undefined);
      });
    });

    describe('hook log', () => {
      it('returns attempts newest first, filters failed and by app, and keeps only the newest 10,000', async () => {
        const store = await freshStore(engine);
        const total = HOOK_LOG_CAPACITY + 25;
        await store.write(Array.from({ length: total }, (_, k) => k + 1).map((i) => ({
          kind: 'logAttempt' as const,
          entry: {
            time: i, appKey: i % 2 === 0 ? 'even' : 'odd', method: 'call', url: 'http://h/call',
            status: i % 10 === 0 ? 500 : 200, latencyMs: 1.5, error: i % 10 === 0 ? 'HTTP 500 Internal Server Error' : null,
            requestBody: null, responseBody: null,
          },
        })));
        const all = await store.hookLog.query({ limit: 100_000 });
        assert.equal(all.length, HOOK_LOG_CAPACITY);
        assert.equal(all[0]!.time, total);
        assert.equal(all.at(-1)!.time, total - HOOK_LOG_CAPACITY + 1);
        assert.deepEqual((await store.hookLog.query({ limit: 2 })).map((e) => e.time), [total, total - 1]);
        const failed = await store.hookLog.query({ failed: true, limit: 3 });
        assert.deepEqual(failed.map((e) => [e.time, e.status, e.error]), [
          [total - 5, 500, 'HTTP 500 Internal Server Error'], [total - 15, 500, 'HTTP 500 Internal Server Error'], [total - 25, 500, 'HTTP 500 Internal Server Error'],
        ]);
        assert.ok((await store.hookLog.query({ appKey: 'even' })).every((e) => e.appKey === 'even'));
        assert.equal((await store.hookLog.query()).length, 100, 'default limit');
        await store.close();
      });

      it('keeps both bodies; filters by outcome, method and time', async () => {
        const store = await freshStore(engine);
        const entry = (time: number, method: string, error: string | null) => ({
          kind: 'logAttempt' as const,
          entry: {
            time, appKey: 'a', method, url: `http://h/${method}`, status: error === null ? 200 : 500, latencyMs: 1, error,
            requestBody: `{"method":"${method}","é":"ü"}`, responseBody: error === null ? '{"ok":true}' : null,
          },
        });
        await store.write([entry(1_000, 'connect', null), entry(2_000, 'call', 'HTTP 500 Internal Server Error'), entry(3_000, 'call', null)]);
        const all = await store.hookLog.query();
        assert.deepEqual(all.map((e) => [e.time, e.requestBody, e.responseBody]), [
          [3_000, '{"method":"call","é":"ü"}', '{"ok":true}'],
          [2_000, '{"method":"call","é":"ü"}', null],
          [1_000, '{"method":"connect","é":"ü"}', '{"ok":true}'],
        ]);
        assert.deepEqual((await store.hookLog.query({ failed: false })).map((e) => e.time), [3_000, 1_000]);
        assert.deepEqual((await store.hookLog.query({ failed: true })).map((e) => e.time), [2_000]);
        assert.deepEqual((await store.hookLog.query({ method: 'call' })).map((e) => e.time), [3_000, 2_000]);
        assert.deepEqual((await store.hookLog.query({ since: 2_000 })).map((e) => e.time), [3_000, 2_000]);
        assert.deepEqual((await store.hookLog.query({ method: 'call', failed: false, since: 1_000, appKey: 'a' })).map((e) => e.time), [3_000]);
        await store.close();
      });
    });

    describe('event outbox', () => {
      let store: Store;
      beforeEach(async () => {
        store = await freshStore(engine);
      });
      afterEach(() => store.close());

      const ev = (sessionId: string, n: number, createdAt = 1000) => ({
        eventId: `${sessionId}-${n}`, appKey: 'app', sessionId, method: 'CallStatusEvent', body: { n, eventId: `${sessionId}-${n}` }, failNotify: false, createdAt,
      });

      it('numbers events per session from 1 and puts the sequence into the body', async () => {
        const a1 = await appendEvent(store, ev('A', 1));
        const b1 = await appendEvent(store, ev('B', 1));
        const a2 = await appendEvent(store, ev('A', 2));
        assert.deepEqual([a1.sequence, b1.sequence, a2.sequence], [1, 1, 2]);
        assert.deepEqual(JSON.parse(a2.body), { n: 2, eventId: 'A-2', sequence: 2 });
        assert.deepEqual(await store.outbox.depth(), { pending: 3, dead: 0 });
      });

      it('commits the writes handed over in one turn as one transaction, in their order: a failing write takes the others with it', async () => {
        const inOneTurn = [ev('A', 1), ev('B', 1), ev('A', 2)].map((e) => store.write([{ kind: 'appendEvent', event: e }]));
        const appended = (await Promise.all(inOneTurn)).flat();
        assert.deepEqual(appended.map((e) => [e.eventId, e.sequence]), [['A-1', 1], ['B-1', 1], ['A-2', 2]]);
        const ids = appended.map((e) => e.id);
        assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'ids in the order the writes were handed over');
        // A body JSON cannot hold fails inside the transaction, after C-1 was applied in it.
        const will = { sessionId: 'C', subject: 'connection', appKey: 'app', method: 'ConnectionStatusEvent', body: { n: 1n }, failNotify: false };
        const results = await Promise.allSettled([store.write([{ kind: 'appendEvent', event: ev('C', 1) }]), store.write([{ kind: 'putWill', will }])]);
        assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
        assert.deepEqual(await store.outbox.pendingOf('C', 10), [], 'C-1 rolled back with the failing write of its turn');
        assert.equal((await appendEvent(store, ev('C', 1))).sequence, 1, 'the next turn commits afresh; the rolled-back sequence is reused');
      });

      it('keeps counting after delivered rows are gone', async () => {
        const a1 = await appendEvent(store, ev('A', 1));
        await store.write([{ kind: 'markDelivered', id: a1.id }]);
        assert.equal((await store.outbox.pendingOf('A', 1))[0], undefined);
        assert.equal((await appendEvent(store, ev('A', 2))).sequence, 2);
      });

      it('head is the oldest pending event of the session; a dead one steps aside', async () => {
        const a1 = await appendEvent(store, ev('A', 1));
        await appendEvent(store, ev('A', 2));
        assert.equal((await store.outbox.pendingOf('A', 1))[0]!.eventId, 'A-1');
        await store.write([{ kind: 'markAttemptFailed', id: a1.id, nextAttemptAt: 5000, error: 'HTTP 500 Internal Server Error' }]);
        assert.deepEqual(
          [(await store.outbox.pendingOf('A', 1))[0]!.attempts, (await store.outbox.pendingOf('A', 1))[0]!.nextAttemptAt, (await store.outbox.pendingOf('A', 1))[0]!.lastError],
          [1, 5000, 'HTTP 500 Internal Server Error'],
        );
        await store.write([{ kind: 'markDead', id: a1.id, error: 'too old' }]);
        assert.equal((await store.outbox.pendingOf('A', 1))[0]!.eventId, 'A-2');
        assert.deepEqual(await store.outbox.depth(), { pending: 1, dead: 1 });
      });

      it('pendingSessions lists each session once with its head', async () => {
        await appendEvent(store, ev('A', 1));
        await appendEvent(store, ev('A', 2));
        const b = await appendEvent(store, ev('B', 1));
        await store.write([{ kind: 'markAttemptFailed', id: b.id, nextAttemptAt: 9000, error: 'x' }]);
        assert.deepEqual(await store.outbox.pendingSessions(), [
          { sessionId: 'A', appKey: 'app', nextAttemptAt: 1000 },
          { sessionId: 'B', appKey: 'app', nextAttemptAt: 9000 },
        ]);
      });

      it('lists pending and dead, and replay revives dead ones with a fresh window, filtered by app and time', async () => {
        const a1 = await appendEvent(store, ev('A', 1, 1000));
        const a2 = await appendEvent(store, ev('A', 2, 2000));
        const other = await appendEvent(store, { ...ev('C', 1, 3000), appKey: 'other' });
        for (const e of [a1, a2, other]) await store.write([{ kind: 'markDead', id: e.id, error: 'expired' }]);
        assert.equal((await store.outbox.list({ dead: true })).length, 3);
        assert.equal((await store.outbox.list({ dead: false })).length, 0);
        assert.equal(await store.outbox.replay({ appKey: 'app', since: 2000 }, 50_000), 1);
        const revived = await store.outbox.list({ dead: false });
        assert.deepEqual(revived.map((e) => [e.eventId, e.attempts, e.nextAttemptAt, e.activeSince, e.state]), [['A-2', 0, 50_000, 50_000, 'pending']]);
        assert.equal(await store.outbox.replay({}, 60_000), 2);
        assert.deepEqual(await store.outbox.depth(), { pending: 3, dead: 0 });
        assert.equal((await store.outbox.list({ limit: 1 })).length, 1);
      });

      it('prunes sequence counters of idle sessions with nothing pending', async () => {
        const a = await appendEvent(store, ev('A', 1, 1000));
        await appendEvent(store, ev('B', 1, 1000));
        await store.write([{ kind: 'markDelivered', id: a.id }]);
        assert.equal(await store.outbox.pruneSequences(2000), 1, 'A only: B still has a pending event');
        assert.equal((await appendEvent(store, ev('A', 2, 3000))).sequence, 1);
      });

      it('keeps the sequence counter of a session that has a will: it is alive, its events go on counting', async () => {
        await store.write([{ kind: 'markDelivered', id: (await appendEvent(store, ev('A', 1, 1000))).id }]);
        await store.write([{ kind: 'putWill', will: { sessionId: 'A', subject: 'connection', appKey: 'app', method: 'ConnectionStatusEvent', body: {}, failNotify: false } }]);
        assert.equal(await store.outbox.pruneSequences(2000), 0);
        assert.equal((await appendEvent(store, ev('A', 2, 3000))).sequence, 2);
      });
    });

    describe('session wills', () => {
      let store: Store;
      beforeEach(async () => {
        store = await freshStore(engine);
      });
      afterEach(() => store.close());

      const will = (sessionId: string, subject: string, body: Record<string, unknown> = {}) => ({
        sessionId, subject, appKey: 'app', method: 'CallStatusEvent', body, failNotify: false,
      });

      it('one per subject of a session, in the order first written: an update replaces it in its place', async () => {
        await store.write([{ kind: 'putWill', will: will('B', 'connection') }]);
        await store.write([{ kind: 'putWill', will: will('A', 'connection') }]);
        await store.write([{ kind: 'putWill', will: will('A', 'call c1', { status: 'FINISH', callee: '100' }) }]);
        await store.write([{ kind: 'putWill', will: { ...will('A', 'call c1', { status: 'FINISH', callee: '+100' }), failNotify: true } }]);
        await store.write([{ kind: 'putWill', will: will('B', 'registration') }]);
        assert.deepEqual(await store.wills.all(), [
          will('B', 'connection'),
          will('A', 'connection'),
          { ...will('A', 'call c1', { status: 'FINISH', callee: '+100' }), failNotify: true },
          will('B', 'registration'),
        ]);
        await store.write([{ kind: 'removeWill', sessionId: 'A', subject: 'call c1' }]);
        assert.deepEqual((await store.wills.all()).map((w) => [w.sessionId, w.subject]), [['B', 'connection'], ['A', 'connection'], ['B', 'registration']]);
        await store.write([{ kind: 'clearWills' }]);
        assert.deepEqual(await store.wills.all(), []);
      });
    });
  });
}
