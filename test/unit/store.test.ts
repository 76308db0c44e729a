/**
 * The SQLite store on a real database file in a temp dir (docs/admin.md): migrations, durability settings,
 * defaultApp on first start, apps and their validation, the hook log cap, the event outbox bookkeeping.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, StoreError, HOOK_LOG_CAPACITY, type Store, type StoreErrorCode } from '../../src/store/index.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { REST_METHOD_NAMES } from '../../src/hooks/methods.ts';
import { eventually } from '../support/eventually.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'callhook-store-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function throwsStore(fn: () => unknown, code: StoreErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

describe('opening the store', () => {
  it('creates <dataDir>/callhook.db in WAL mode with synchronous=NORMAL, migrated to the latest version', () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = openStore({ dataDir: dir, adminPort: 8081 });
    assert.equal(store.path, join(dir, 'callhook.db'));
    store.close();
    const db = new Database(join(dir, 'callhook.db'), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)!.version);
    db.close();
  });

  it('first start creates defaultApp → EchoApp on the admin port, every method enabled', () => {
    const store = openStore({ dataDir: tempDir(), adminPort: 9091 });
    const app = store.apps.getByKey('defaultApp');
    assert.deepEqual(app, {
      name: 'defaultApp', appKey: 'defaultApp', url: 'http://127.0.0.1:9091/apps/EchoApp', signature: 'callhook',
      restClientConfig: {}, methods: [...REST_METHOD_NAMES],
    });
    store.close();
  });

  it('does not bring defaultApp back on a later start once removed, and keeps data across reopen', () => {
    const dir = tempDir();
    let store = openStore({ dataDir: dir, adminPort: 8081 });
    store.apps.remove('defaultApp');
    store.apps.add({ name: 'mine', appKey: 'mineKey', url: 'http://127.0.0.1:1/rest' });
    store.close();
    store = openStore({ dataDir: dir, adminPort: 8081 });
    assert.deepEqual(store.apps.list().map((a) => a.name), ['mine']);
    store.close();
  });

  it('checkpoints the WAL into the database file from a worker thread (the main connection never does)', async () => {
    const dir = tempDir();
    const store = openStore({ dataDir: dir, adminPort: 8081 });
    const db = join(dir, 'callhook.db');
    const before = statSync(db).size;
    const body = { text: 'x'.repeat(500) };
    for (let i = 0; i < 2000; i++) {
      store.outbox.append({ eventId: `e${i}`, appKey: 'a', sessionId: `s${i % 50}`, method: 'CallStatusEvent', body, failNotify: false, createdAt: i });
    }
    await eventually(() => statSync(db).size > before, 5000, 'pages to reach the database file (a checkpoint)');
    store.close();
  });

  it('refuses a database from a newer callhook', () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'callhook.db'));
    db.pragma('user_version = 999');
    db.close();
    assert.throws(() => openStore({ dataDir: dir, adminPort: 8081 }), /schema version 999 is newer than this callhook knows/);
  });
});

describe('apps', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore({ dataDir: tempDir(), adminPort: 8081 });
  });
  afterEach(() => store.close());

  it('a new app has no methods enabled (WCS rule); enable one, all, disable', () => {
    store.apps.add({ name: 'c2c', appKey: 'clickToCallApp', url: 'https://example.test/rest' });
    assert.deepEqual(store.apps.getByKey('clickToCallApp')!.methods, []);
    assert.deepEqual(store.apps.enableMethod('clickToCallApp', 'call').methods, ['call']);
    assert.deepEqual(store.apps.enableMethod('clickToCallApp', 'connect').methods, ['connect', 'call'], 'table order');
    assert.deepEqual(store.apps.disableMethod('clickToCallApp', 'call').methods, ['connect']);
    assert.deepEqual(store.apps.enableMethod('clickToCallApp', '*').methods, [...REST_METHOD_NAMES]);
    assert.deepEqual(store.apps.disableMethod('clickToCallApp', '*').methods, []);
    assert.deepEqual(store.apps.getByKey('clickToCallApp')!.methods, [], 'cache dropped on write');
    throwsStore(() => store.apps.enableMethod('clickToCallApp', 'Connect'), 'UNKNOWN_METHOD', /unknown REST method "Connect".*case-sensitive/);
    throwsStore(() => store.apps.enableMethod('nope', 'call'), 'APP_NOT_FOUND', /no app with key "nope"/);
  });

  it('keeps credentials, signature mode and the default restClientConfig', () => {
    store.apps.add({
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

  it('update changes fields, clears credentials with null, replaces the config, renames the key', () => {
    store.apps.add({ name: 'a', appKey: 'k', url: 'http://h/rest', restUsername: 'u', restPassword: 'p', restClientConfig: { call: { restOnError: 'FAIL' } } });
    store.apps.enableMethod('k', 'call');
    assert.equal(store.apps.getByKey('k')!.url, 'http://h/rest', 'cached');
    const updated = store.apps.update('a', { appKey: 'k2', url: 'https://h2/x', restUsername: null, restPassword: null, restClientConfig: { hold: { restPolicy: 'DISABLE' } } });
    assert.deepEqual(updated, {
      name: 'a', appKey: 'k2', url: 'https://h2/x', signature: 'callhook', restClientConfig: { hold: { restPolicy: 'DISABLE' } }, methods: ['call'],
    });
    assert.equal(store.apps.getByKey('k'), undefined);
    assert.equal(store.apps.getByKey('k2')!.url, 'https://h2/x');
    throwsStore(() => store.apps.update('nope', {}), 'APP_NOT_FOUND', /no app named "nope"/);
    throwsStore(() => store.apps.update('a', { appKey: 'defaultApp' }), 'APP_EXISTS', /key "defaultApp" already exists/);
  });

  it('refuses duplicates', () => {
    throwsStore(() => store.apps.add({ name: 'defaultApp', appKey: 'x', url: 'http://h' }), 'APP_EXISTS', /named "defaultApp"/);
    throwsStore(() => store.apps.add({ name: 'x', appKey: 'defaultApp', url: 'http://h' }), 'APP_EXISTS', /key "defaultApp"/);
  });

  it('remove deletes the app with its methods and config', () => {
    store.apps.remove('defaultApp');
    assert.equal(store.apps.getByKey('defaultApp'), undefined);
    throwsStore(() => store.apps.remove('defaultApp'), 'APP_NOT_FOUND', /no app named/);
    store.apps.add({ name: 'defaultApp', appKey: 'defaultApp', url: 'http://h' });
    assert.deepEqual(store.apps.getByKey('defaultApp')!.methods, [], 'nothing left behind');
  });

  it('refuses bad input with a message naming the field (bad input: URLs, header injection, auth conflicts)', () => {
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
    ];
    for (const [patch, message] of cases) {
      throwsStore(() => store.apps.add({ ...base, ...patch } as never), 'INVALID_APP', message);
    }
    throwsStore(() => store.apps.update('defaultApp', { url: 'file:///etc/passwd' }), 'INVALID_APP', /url must start with http/);
    assert.equal(store.apps.getByKey('b'), undefined);
  });
});

describe('hook log', () => {
  it('returns attempts newest first, filters failed and by app, and keeps only the newest 10,000', () => {
    const store = openStore({ dataDir: tempDir(), adminPort: 8081 });
    const total = HOOK_LOG_CAPACITY + 25;
    for (let i = 1; i <= total; i++) {
      store.hookLog.append({
        time: i, appKey: i % 2 === 0 ? 'even' : 'odd', method: 'call', url: 'http://h/call',
        status: i % 10 === 0 ? 500 : 200, latencyMs: 1.5, error: i % 10 === 0 ? 'HTTP 500 Internal Server Error' : null,
      });
    }
    const all = store.hookLog.query({ limit: 100_000 });
    assert.equal(all.length, HOOK_LOG_CAPACITY);
    assert.equal(all[0]!.time, total);
    assert.equal(all.at(-1)!.time, total - HOOK_LOG_CAPACITY + 1);
    assert.deepEqual(store.hookLog.query({ limit: 2 }).map((e) => e.time), [total, total - 1]);
    const failed = store.hookLog.query({ failed: true, limit: 3 });
    assert.deepEqual(failed.map((e) => [e.time, e.status, e.error]), [
      [total - 5, 500, 'HTTP 500 Internal Server Error'], [total - 15, 500, 'HTTP 500 Internal Server Error'], [total - 25, 500, 'HTTP 500 Internal Server Error'],
    ]);
    assert.ok(store.hookLog.query({ appKey: 'even' }).every((e) => e.appKey === 'even'));
    assert.equal(store.hookLog.query().length, 100, 'default limit');
    store.close();
  });
});

describe('event outbox', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore({ dataDir: tempDir(), adminPort: 8081 });
  });
  afterEach(() => store.close());

  const ev = (sessionId: string, n: number, createdAt = 1000) => ({
    eventId: `${sessionId}-${n}`, appKey: 'app', sessionId, method: 'CallStatusEvent', body: { n, eventId: `${sessionId}-${n}` }, failNotify: false, createdAt,
  });

  it('numbers events per session from 1 and puts the sequence into the body', () => {
    const a1 = store.outbox.append(ev('A', 1));
    const b1 = store.outbox.append(ev('B', 1));
    const a2 = store.outbox.append(ev('A', 2));
    assert.deepEqual([a1.sequence, b1.sequence, a2.sequence], [1, 1, 2]);
    assert.deepEqual(JSON.parse(a2.body), { n: 2, eventId: 'A-2', sequence: 2 });
    assert.deepEqual(store.outbox.depth(), { pending: 3, dead: 0 });
  });

  it('keeps counting after delivered rows are gone', () => {
    const a1 = store.outbox.append(ev('A', 1));
    store.outbox.markDelivered(a1.id);
    assert.equal(store.outbox.pendingOf('A', 1)[0], undefined);
    assert.equal(store.outbox.append(ev('A', 2)).sequence, 2);
  });

  it('head is the oldest pending event of the session; a dead one steps aside', () => {
    const a1 = store.outbox.append(ev('A', 1));
    store.outbox.append(ev('A', 2));
    assert.equal(store.outbox.pendingOf('A', 1)[0]!.eventId, 'A-1');
    store.outbox.markAttemptFailed(a1.id, 5000, 'HTTP 500 Internal Server Error');
    assert.deepEqual(
      [store.outbox.pendingOf('A', 1)[0]!.attempts, store.outbox.pendingOf('A', 1)[0]!.nextAttemptAt, store.outbox.pendingOf('A', 1)[0]!.lastError],
      [1, 5000, 'HTTP 500 Internal Server Error'],
    );
    store.outbox.markDead(a1.id, 'too old');
    assert.equal(store.outbox.pendingOf('A', 1)[0]!.eventId, 'A-2');
    assert.deepEqual(store.outbox.depth(), { pending: 1, dead: 1 });
  });

  it('pendingSessions lists each session once with its head', () => {
    store.outbox.append(ev('A', 1));
    store.outbox.append(ev('A', 2));
    const b = store.outbox.append(ev('B', 1));
    store.outbox.markAttemptFailed(b.id, 9000, 'x');
    assert.deepEqual(store.outbox.pendingSessions(), [
      { sessionId: 'A', appKey: 'app', nextAttemptAt: 1000 },
      { sessionId: 'B', appKey: 'app', nextAttemptAt: 9000 },
    ]);
  });

  it('lists pending and dead, and replay revives dead ones with a fresh window, filtered by app and time', () => {
    const a1 = store.outbox.append(ev('A', 1, 1000));
    const a2 = store.outbox.append(ev('A', 2, 2000));
    const other = store.outbox.append({ ...ev('C', 1, 3000), appKey: 'other' });
    for (const e of [a1, a2, other]) store.outbox.markDead(e.id, 'expired');
    assert.equal(store.outbox.list({ dead: true }).length, 3);
    assert.equal(store.outbox.list({ dead: false }).length, 0);
    assert.equal(store.outbox.replay({ appKey: 'app', since: 2000 }, 50_000), 1);
    const revived = store.outbox.list({ dead: false });
    assert.deepEqual(revived.map((e) => [e.eventId, e.attempts, e.nextAttemptAt, e.activeSince, e.state]), [['A-2', 0, 50_000, 50_000, 'pending']]);
    assert.equal(store.outbox.replay({}, 60_000), 2);
    assert.deepEqual(store.outbox.depth(), { pending: 3, dead: 0 });
    assert.equal(store.outbox.list({ limit: 1 }).length, 1);
  });

  it('prunes sequence counters of idle sessions with nothing pending', () => {
    const a = store.outbox.append(ev('A', 1, 1000));
    store.outbox.append(ev('B', 1, 1000));
    store.outbox.markDelivered(a.id);
    assert.equal(store.outbox.pruneSequences(2000), 1, 'A only: B still has a pending event');
    assert.equal(store.outbox.append(ev('A', 2, 3000)).sequence, 1);
  });

  it('keeps the sequence counter of a session that has a will: it is alive, its events go on counting', () => {
    store.outbox.markDelivered(store.outbox.append(ev('A', 1, 1000)).id);
    store.wills.put({ sessionId: 'A', subject: 'connection', appKey: 'app', method: 'ConnectionStatusEvent', body: {}, failNotify: false });
    assert.equal(store.outbox.pruneSequences(2000), 0);
    assert.equal(store.outbox.append(ev('A', 2, 3000)).sequence, 2);
  });
});

describe('session wills', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore({ dataDir: tempDir(), adminPort: 8081 });
  });
  afterEach(() => store.close());

  const will = (sessionId: string, subject: string, body: Record<string, unknown> = {}) => ({
    sessionId, subject, appKey: 'app', method: 'CallStatusEvent', body, failNotify: false,
  });

  it('one per subject of a session, in the order first written: an update replaces it in its place', () => {
    store.wills.put(will('B', 'connection'));
    store.wills.put(will('A', 'connection'));
    store.wills.put(will('A', 'call c1', { status: 'FINISH', callee: '100' }));
    store.wills.put({ ...will('A', 'call c1', { status: 'FINISH', callee: '+100' }), failNotify: true });
    store.wills.put(will('B', 'registration'));
    assert.deepEqual(store.wills.all(), [
      will('B', 'connection'),
      will('A', 'connection'),
      { ...will('A', 'call c1', { status: 'FINISH', callee: '+100' }), failNotify: true },
      will('B', 'registration'),
    ]);
    store.wills.remove('A', 'call c1');
    assert.deepEqual(store.wills.all().map((w) => [w.sessionId, w.subject]), [['B', 'connection'], ['A', 'connection'], ['B', 'registration']]);
    store.wills.clear();
    assert.deepEqual(store.wills.all(), []);
  });
});
