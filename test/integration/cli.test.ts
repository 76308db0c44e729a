/**
 * The `callhook` CLI as a user runs it: `callhook …` child processes (src/bin.ts through tsx,
 * test/support/callhook-cli.ts) against a real admin server (real store, real engine) on a free loopback port,
 * found through CALLHOOK_ADMIN_PORT / CALLHOOK_DATA_DIR like any configuration, with the token the server wrote
 * into the data directory. Independent commands run in parallel to keep the suite short (each child pays tsx's
 * start-up).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdminApp } from '../../src/admin/app.ts';
import { listenAdmin, type AdminServer } from '../../src/admin/server.ts';
import { loadOrCreateAdminToken } from '../../src/admin/token.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { createHookEngine, REST_METHOD_NAMES } from '../../src/hooks/index.ts';
import type { HookEngine } from '../../src/hooks/types.ts';
import { createLogger } from '../../src/log.ts';
import { configSchema } from '../../src/config/schema.ts';
import { freePort } from '../support/ports.ts';
import { CALLHOOK_CLI } from '../support/callhook-cli.ts';

// A bound for a hung child, not a timing check: several CLI runs at once on a loaded 2-core machine take 20 s.
const CHILD_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let dataDir: string;
let store: Store;
let engine: HookEngine;
let admin: AdminServer;
const backends: Server[] = [];

/** The parent's environment without any CALLHOOK_* setting, so only what a test gives reaches the child. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CALLHOOK_')));
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...CALLHOOK_CLI, ...args],
      {
        cwd: dir,
        env: { ...baseEnv(), CALLHOOK_ADMIN_PORT: String(admin.address.port), CALLHOOK_DATA_DIR: dataDir, ...env },
        timeout: CHILD_TIMEOUT_MS,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        done({ code, stdout, stderr });
      },
    );
  });
}

function ok(r: Run): string {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

function fails(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
}

/** A loopback HTTP backend answering every request with `answer`. */
async function backend(answer: (path: string, body: string, res: import('node:http').ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => answer(req.url ?? '', body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backends.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/rest`;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callhook-cli-'));
  dataDir = join(dir, 'data');
  const port = await freePort('tcp');
  store = openStore({ dataDir, adminPort: port });
  const config = { restRequestTimeoutMs: 2000, restRetryCount: 0, restEventMaxAgeMs: 60_000, disableRest: false, userAgent: 'callhook/test', hookLogMaxBodyBytes: 4096 };
  const log = createLogger('silent');
  engine = createHookEngine({ store, config, log });
  const app = buildAdminApp({ config: { ...config, localIp: '127.0.0.1' }, store, hooks: engine, log, token: loadOrCreateAdminToken(dataDir, {}) });
  admin = await listenAdmin(app, configSchema.parse({ adminHost: '127.0.0.1', adminPort: port }), log);
});

after(async () => {
  for (const b of backends) {
    b.closeAllConnections();
    await new Promise((r) => b.close(r));
  }
  await admin.close();
  await engine.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('finding the server', () => {
  test('the token file the server wrote is private (0600)', () => {
    assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600);
  });

  test('server not running, wrong token, bad config, unknown command: exit 1 with a clear message', async () => {
    const closed = await freePort('tcp');
    const [down, wrongToken, badConfig, unknown, help, startBadConfig] = await Promise.all([
      cli(['show', 'apps'], { CALLHOOK_ADMIN_PORT: String(closed) }),
      cli(['show', 'apps'], { CALLHOOK_ADMIN_TOKEN: 'not-the-token' }),
      cli(['show', 'apps'], { CALLHOOK_ADMIN_PORT: 'eighty' }),
      cli(['show', 'everything']),
      cli(['--help']),
      cli(['start', '--config', 'missing.json']),
    ]);
    assert.equal(down.code, 1);
    assert.equal(down.stderr.trim(), `callhook is not reachable at http://127.0.0.1:${closed} — start it with npm start`);
    fails(wrongToken, /admin token from CALLHOOK_ADMIN_TOKEN was refused/);
    fails(badConfig, /adminPort/);
    fails(unknown, /unknown command 'everything'/);
    assert.match(ok(help), /show\s+show apps/);
    fails(startBadConfig, /cannot read config file .*missing\.json/);
  });
});

describe('replies', () => {
  test('a reply nested deeper than any of callhook\'s is refused in one line, not a stack overflow', async () => {
    const url = await backend((_path, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    });
    const r = await cli(['show', 'apps', '--json'], { CALLHOOK_ADMIN_PORT: new URL(url).port });
    fails(r, /^http:\/\/127\.0\.0\.1:\d+ answered 200 with JSON nested deeper than 64 levels; is it callhook's admin port\?\n$/);
  });
});

describe('apps and REST methods', () => {
  test('show apps: a table for people, JSON with --json', async () => {
    const [table, json, detail] = await Promise.all([cli(['show', 'apps']), cli(['show', 'apps', '--json']), cli(['show', 'apps', '-d'])]);
    const lines = ok(table).trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+KEY\s+METHODS\s+URL$/);
    assert.match(lines[1]!, new RegExp(`^defaultApp\\s+defaultApp\\s+${REST_METHOD_NAMES.length}/${REST_METHOD_NAMES.length}\\s+http://127.0.0.1:${admin.address.port}/apps/EchoApp$`));
    // The columns line up: the header's KEY starts where the row's key does.
    assert.equal(lines[0]!.indexOf('KEY'), lines[1]!.indexOf('defaultApp', 1));
    assert.deepEqual(JSON.parse(ok(json)).map((a: { appKey: string }) => a.appKey), ['defaultApp']);
    assert.match(ok(detail), /^restPassword:\s+-$/m);
  });

  test('add app says no method is enabled and how to enable them; secrets are masked', async () => {
    const out = ok(await cli(['add', 'app', '-u', 'shopuser', '-p', 'pa55word', '-s', 'hmac-secret', 'shop', 'shopKey', 'http://127.0.0.1:9/rest']));
    assert.match(out, /No REST method is enabled yet/);
    assert.match(out, /^ {2}callhook add app-rest-method -a shopKey$/m);
    const detail = ok(await cli(['show', 'apps', '-d']));
    assert.match(detail, /^restUsername:\s+shopuser$/m);
    assert.match(detail, /^restPassword:\s+\*{8}$/m);
    assert.match(detail, /^restSecret:\s+\*{8}$/m);
    assert.ok(!detail.includes('pa55word') && !detail.includes('hmac-secret'));
  });

  test('add app errors: duplicate, bad URL, header injection', async () => {
    const [dup, ftp, crlf] = await Promise.all([
      cli(['add', 'app', 'shop', 'otherKey', 'http://h/x']),
      cli(['add', 'app', 'other', 'otherKey', 'ftp://h/x']),
      cli(['add', 'app', '-u', 'a\r\nX-Injected: 1', 'other', 'otherKey', 'http://h/x']),
    ]);
    fails(dup, /shop/);
    fails(ftp, /url.*http/);
    fails(crlf, /restUsername.*control characters/);
  });

  test('update app changes fields; "" clears a credential; unknown app and no option are errors', async () => {
    const out = ok(await cli(['update', 'app', '-l', 'http://127.0.0.1:9/v2', '-p', '', 'shop']));
    assert.match(out, /^url:\s+http:\/\/127\.0\.0\.1:9\/v2$/m);
    assert.match(out, /^restPassword:\s+-$/m);
    const [unknown, nothing] = await Promise.all([cli(['update', 'app', '-l', 'http://h/x', 'nope']), cli(['update', 'app', 'shop'])]);
    fails(unknown, /no app named "nope"/);
    fails(nothing, /nothing to change/);
  });

  test("update app --codec-policy sets the app's own codecPolicy, \"\" clears it, an unknown policy is named", async () => {
    assert.match(ok(await cli(['update', 'app', '--codec-policy', 'opus-to-browser', 'shop'])), /^codecPolicy:\s+opus-to-browser$/m);
    assert.match(ok(await cli(['update', 'app', '--codec-policy', '', 'shop'])), /^codecPolicy:\s+- \(the configuration's\)$/m);
    fails(await cli(['update', 'app', '--codec-policy', 'transcode', 'shop']), /codecPolicy/);
  });

  test('rest methods: show, enable one or all, disable one or all, errors', async () => {
    const [all, none] = await Promise.all([cli(['show', 'rest-methods']), cli(['show', 'app-rest-methods', 'shopKey'])]);
    const methods = ok(all).trim().split('\n');
    assert.match(methods[0]!, /^METHOD\s+TYPE$/);
    assert.deepEqual(methods.slice(1).map((l) => l.split(/\s+/)[0]), REST_METHOD_NAMES);
    assert.match(ok(none), /No REST method is enabled for shopKey/);
    assert.match(ok(await cli(['add', 'app-rest-method', 'shopKey', 'connect'])), /Enabled for shopKey: connect$/m);
    assert.equal(ok(await cli(['add', 'app-rest-method', '-a', 'shopKey'])).trim(), `Enabled for shopKey: ${REST_METHOD_NAMES.join(', ')}`);
    ok(await cli(['remove', 'app-rest-method', 'shopKey', 'call']));
    assert.ok(!ok(await cli(['show', 'app-rest-methods', 'shopKey'])).split('\n').includes('call'));
    assert.match(ok(await cli(['remove', 'app-rest-method', '-a', 'shopKey'])), /Enabled for shopKey: none/);
    const [unknownApp, unknownMethod, both, neither] = await Promise.all([
      cli(['add', 'app-rest-method', 'nope', 'connect']),
      cli(['add', 'app-rest-method', 'shopKey', 'publishStream']),
      cli(['add', 'app-rest-method', '-a', 'shopKey', 'connect']),
      cli(['remove', 'app-rest-method', 'shopKey']),
    ]);
    fails(unknownApp, /no app with key "nope"/);
    fails(unknownMethod, /unknown REST method "publishStream"/);
    fails(both, /either -a or a METHOD/);
    fails(neither, /give a METHOD/);
  });

  test('remove app, then it is unknown', async () => {
    ok(await cli(['add', 'app', 'tmp', 'tmpKey', 'http://h/x']));
    assert.match(ok(await cli(['remove', 'app', 'tmp'])), /Removed app tmp/);
    fails(await cli(['remove', 'app', 'tmp']), /no app named "tmp"/);
  });
});

describe('hooks, events, sessions', () => {
  before(async () => {
    const t = Date.now();
    const [e] = await store.write([
      { kind: 'logAttempt', entry: { time: t, appKey: 'shopKey', method: 'connect', url: 'http://h/rest/connect', status: 200, latencyMs: 4, error: null, requestBody: null, responseBody: null } },
      { kind: 'logAttempt', entry: { time: t + 1, appKey: 'shopKey', method: 'call', url: 'http://h/rest/call', status: 500, latencyMs: 7, error: 'Internal Server Error', requestBody: null, responseBody: null } },
      { kind: 'appendEvent', event: { eventId: 'ev-1', appKey: 'shopKey', sessionId: '/1.1.1.1:1/2.2.2.2:2', method: 'CallStatusEvent', body: { status: 'RING' }, failNotify: false, createdAt: t } },
    ]);
    await store.write([{ kind: 'markDead', id: e!.id, error: 'connect ECONNREFUSED 127.0.0.1:9' }]);
  });

  test('show hooks / events / sessions / calls, and replay events', async () => {
    const [hooks, failed, badLimit, events, dead, sessions, calls] = await Promise.all([
      cli(['show', 'hooks']),
      cli(['show', 'hooks', '--failed', '--app', 'shopKey', '--limit', '5']),
      cli(['show', 'hooks', '--limit', 'ten']),
      cli(['show', 'events']),
      cli(['show', 'events', '--dead', '--json']),
      cli(['show', 'sessions']),
      cli(['show', 'calls']),
    ]);
    assert.match(ok(hooks), /^TIME\s+APP\s+METHOD\s+STATUS\s+MS\s+ERROR\s+URL$/m);
    assert.equal(ok(hooks).trim().split('\n').length, 3);
    const failedLines = ok(failed).trim().split('\n');
    assert.equal(failedLines.length, 2);
    assert.match(failedLines[1]!, /shopKey\s+call\s+500\s+7\s+Internal Server Error\s+http:\/\/h\/rest\/call$/);
    fails(badLimit, /limit/);
    assert.match(ok(events), /dead\s+shopKey\s+CallStatusEvent\s+1\s+\d+\s+\/1\.1\.1\.1:1\/2\.2\.2\.2:2\s+connect ECONNREFUSED/);
    assert.equal(JSON.parse(ok(dead))[0].eventId, 'ev-1');
    assert.equal(ok(sessions).trim(), 'No sessions.');
    assert.equal(ok(calls).trim(), 'No calls.');

    fails(await cli(['replay', 'events', '--since', 'last tuesday']), /since/);
    assert.equal(ok(await cli(['replay', 'events', '--app', 'shopKey', '--since', '1h'])).trim(), 'Replayed 1 dead event; delivery starts now.');
    assert.equal(ok(await cli(['replay', 'events'])).trim(), 'No dead events to replay.');
  });
});

describe('call detail records', () => {
  test('show cdr: a table, filters by app and start time, --json, a bad --since named', async () => {
    const t = Date.now();
    const record = (callId: string, appKey: string, startedAt: number) =>
      store.callRecords.open({ callId, sessionId: '/1.1.1.1:1/2.2.2.2:2', appKey, direction: 'outgoing', caller: 'alice', callee: 'bob', startedAt });
    const busy = record('cdr-busy', 'shopKey', t - 1000);
    store.callRecords.close(busy, {
      caller: 'alice', callee: 'bob', sipCallId: 'x@h', endedAt: t, status: 'BUSY', info: 'SIP 486 Busy Here', sipStatus: 486, hangupSide: 'remote',
      codec: null, packetsToSip: null, packetsToBrowser: null, droppedToSip: null, droppedToBrowser: null, lostFromSip: null, lostFromBrowser: null, recording: null,
      hooks: [{ method: 'call', outcome: 'ok' }],
    });
    record('cdr-live', 'otherKey', t);
    record('cdr-old', 'shopKey', t - 3 * 86_400_000);
    const [all, shop, recent, json, bad] = await Promise.all([
      cli(['show', 'cdr']),
      cli(['show', 'cdr', '--app', 'shopKey']),
      cli(['show', 'cdr', '--since', '1d', '--limit', '1']),
      cli(['show', 'cdr', '--json', '--app', 'otherKey']),
      cli(['show', 'cdr', '--since', 'last tuesday']),
    ]);
    const lines = ok(all).trim().split('\n');
    assert.match(lines[0]!, /^STARTED\s+APP\s+DIR\s+CALLER\s+CALLEE\s+STATUS\s+SIP\s+BY\s+SECONDS\s+CODEC\s+INFO\s+CALL ID$/);
    assert.equal(lines.length, 4);
    assert.match(ok(all), /shopKey\s+out\s+alice\s+bob\s+BUSY\s+486\s+remote\s+0\.0\s+-\s+SIP 486 Busy Here\s+cdr-busy$/m);
    assert.match(ok(all), /otherKey\s+out\s+alice\s+bob\s+LIVE\s+-\s+-\s+-\s+-\s+-\s+cdr-live$/m);
    assert.deepEqual(ok(shop).trim().split('\n').slice(1).map((l) => l.split(/\s+/).at(-1)), ['cdr-old', 'cdr-busy']);
    assert.deepEqual(ok(recent).trim().split('\n').slice(1).map((l) => l.split(/\s+/).at(-1)), ['cdr-live']);
    assert.deepEqual(JSON.parse(ok(json)).map((r: { callId: string; endedAt: unknown }) => [r.callId, r.endedAt]), [['cdr-live', null]]);
    fails(bad, /since/);
  });
});

describe('check app', () => {
  test('closed port, 404 backend, non-JSON backend, TLS on a plain port, good backend', async () => {
    const closedPort = await freePort('tcp');
    const good = await backend((_p, body, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
    const missing = await backend((p, body, res) => (p.endsWith('/call') ? res.writeHead(404).end('Not Found') : res.writeHead(200).end(body)));
    const html = await backend((_p, _b, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Welcome</body></html>'));
    const auth = await backend((_p, _b, res) => res.writeHead(401).end());
    const apps: Array<[string, string]> = [
      ['closed', `http://127.0.0.1:${closedPort}/rest`],
      ['good', good],
      ['missing', missing],
      ['html', html],
      ['auth', auth],
      ['plain', good.replace('http:', 'https:')],
    ];
    for (const [name, url] of apps) {
      await store.apps.add({ name, appKey: `${name}Key`, url });
      await store.apps.enableMethod(`${name}Key`, 'connect');
      await store.apps.enableMethod(`${name}Key`, 'call');
    }
    await store.apps.add({ name: 'none', appKey: 'noneKey', url: good });

    const [closed, okRun, missingRun, htmlRun, authRun, plain, none, unknown] = await Promise.all([
      cli(['check', 'app', 'closedKey']),
      cli(['check', 'app', 'goodKey']),
      cli(['check', 'app', 'missingKey']),
      cli(['check', 'app', 'htmlKey']),
      cli(['check', 'app', 'authKey']),
      cli(['check', 'app', 'plainKey']),
      cli(['check', 'app', 'noneKey']),
      cli(['check', 'app', 'nopeKey']),
    ]);

    assert.equal(closed.code, 1);
    assert.match(closed.stdout, /ok {4}dns .*127\.0\.0\.1 is an IP address/);
    assert.match(closed.stdout, /FAIL {2}tcp .*refused the connection: the port is closed/);
    assert.match(closed.stdout, /→ start the backend/);
    assert.doesNotMatch(closed.stdout, /POST/);

    assert.equal(okRun.code, 0, okRun.stdout + okRun.stderr);
    assert.match(okRun.stdout, /ok {4}POST connect .*→ 200 OK in \d+ ms/);
    assert.match(okRun.stdout, /ok {4}POST call /);
    assert.match(okRun.stdout, /All checks passed\./);

    assert.equal(missingRun.code, 1);
    assert.match(missingRun.stdout, /ok {4}POST connect/);
    assert.match(missingRun.stdout, /FAIL {2}POST call .*404 Not Found .*the backend has no handler for \/call/);
    assert.match(missingRun.stdout, /callhook remove app-rest-method missingKey call/);

    assert.equal(htmlRun.code, 1);
    assert.match(htmlRun.stdout, /FAIL {2}POST connect .*the reply is not JSON \(text\/html: "<html><body>Welcome/);

    assert.equal(authRun.code, 1);
    assert.match(authRun.stdout, /401 Unauthorized .*refused the request's authentication/);
    assert.match(authRun.stdout, /check restUsername\/restPassword or restSecret/);

    assert.equal(plain.code, 1);
    assert.match(plain.stdout, /FAIL {2}tls .*the port does not speak TLS/);
    assert.match(plain.stdout, /use http:\/\//);

    assert.equal(none.code, 1);
    assert.match(none.stdout, /no REST method is enabled/);
    assert.match(none.stdout, /callhook add app-rest-method -a noneKey/);

    fails(unknown, /no app with key "nopeKey"/);
  });

  test('a self-signed certificate is named as such', async (t) => {
    const pem = selfSignedCert();
    if (pem === undefined) {
      t.skip('openssl is not installed');
      return;
    }
    const server = createHttpsServer(pem, (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    backends.push(server);
    const url = `https://localhost:${(server.address() as AddressInfo).port}/rest`;
    await store.apps.add({ name: 'tls', appKey: 'tlsKey', url });
    const r = await cli(['check', 'app', 'tlsKey']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ok {4}dns .*localhost resolves to/);
    assert.match(r.stdout, /FAIL {2}tls .*self-signed/);
    assert.match(r.stdout, /NODE_EXTRA_CA_CERTS/);
  });
});

/** A throw-away self-signed certificate for localhost, or undefined when openssl is missing. */
function selfSignedCert(): { key: string; cert: string } | undefined {
  const keyFile = join(dir, 'tls.key');
  const certFile = join(dir, 'tls.crt');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { timeout: 10_000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}
