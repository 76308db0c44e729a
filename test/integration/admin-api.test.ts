/**
 * The admin API on a real loopback server with a real SQLite store in a temp dataDir: every route, its errors
 * (400 / 401 / 404 / 405 / 409 / 413 / 415), the token, EchoApp, and that the OpenAPI document lists exactly the
 * routes the router serves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildAdminApp, type AdminApp } from '../../src/admin/app.ts';
import { listenAdmin, type AdminServer } from '../../src/admin/server.ts';
import { openApiDocument } from '../../src/admin/openapi.ts';
import type { SessionsProvider } from '../../src/gateway/info.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { REST_METHOD_NAMES } from '../../src/hooks/methods.ts';
import { createHookEngine } from '../../src/hooks/index.ts';
import type { HookEngine } from '../../src/hooks/types.ts';
import { createLogger } from '../../src/log.ts';
import { configSchema } from '../../src/config/schema.ts';
import { freePort } from '../support/ports.ts';

const TOKEN = 'test-admin-token-0123456789';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

let dataDir: string;
let store: Store;
/** The real engine, not started: replays go through it, its registry serves /metrics, nothing is delivered. */
let engine: HookEngine;
let app: AdminApp;
let server: AdminServer;
let sessions: { sessions: SessionsProvider['sessions']; calls: SessionsProvider['calls'] };
const errorLog: Array<{ msg: string; err?: { type: string; stack: string } }> = [];

/** One request with node:http (not fetch) so tests can send what fetch would refuse: raw bodies, odd paths. */
function call(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Buffer; token?: string | null; headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  let payload: Buffer | undefined;
  if (opts.raw !== undefined) payload = Buffer.from(opts.raw);
  else if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    headers['Content-Type'] ??= 'application/json';
  }
  if (payload !== undefined && opts.chunked !== true) headers['Content-Length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.address.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (opts.chunked === true && payload !== undefined) {
      // Transfer-Encoding: chunked, no Content-Length: the server can only count as it reads.
      for (let i = 0; i < payload.length; i += 4096) req.write(payload.subarray(i, i + 4096));
      req.end();
    } else req.end(payload);
  });
}

function assertError(r: Reply, status: number, pattern: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.json?.error, 'string', r.text);
  assert.match(r.json.error, pattern);
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'callhook-admin-api-'));
  const port = await freePort('tcp');
  store = openStore({ dataDir, adminPort: port });
  const config = { restRequestTimeoutMs: 2000, restRetryCount: 0, restEventMaxAgeMs: 60_000, disableRest: false, userAgent: 'callhook/test', hookLogMaxBodyBytes: 4096 };
  // Errors are kept, to check what an internal failure logs.
  const log = createLogger('error', { write: (line: string) => void errorLog.push(JSON.parse(line)) });
  engine = createHookEngine({ store, config, log });
  sessions = { sessions: () => [], calls: () => [] };
  app = buildAdminApp({
    config: { ...config, localIp: '127.0.0.1' },
    store,
    hooks: engine,
    log,
    token: TOKEN,
    sessions: { sessions: () => sessions.sessions(), calls: () => sessions.calls() },
    bodyLimitBytes: 64 * 1024,
  });
  server = await listenAdmin(app, configSchema.parse({ adminHost: '127.0.0.1', adminPort: port }), log);
});

after(async () => {
  await server.close();
  await engine.stop();
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('open routes', () => {
  test('GET / needs no token: an index of every route, whether it needs the token, and where the OpenAPI document is', async () => {
    const r = await call('GET', '/', { token: null });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.openapi, '/api/openapi.json');
    assert.match(r.json.token, /CALLHOOK_ADMIN_TOKEN/);
    assert.equal(r.text.includes(TOKEN), false, 'no secret in it');
    const listed = (r.json.routes as Array<{ method: string; path: string; summary: string; token: boolean }>);
    assert.deepEqual(listed.map((x) => `${x.method} ${x.path} ${x.token}`).sort(), app.routes.map((x) => `${x.method} ${x.path} ${x.auth}`).sort());
    for (const x of listed) assert.ok(x.summary.length > 0, `${x.method} ${x.path} has a summary`);
    assert.ok(listed.some((x) => x.path === '/api/openapi.json' && x.token));
  });

  test('GET /healthz needs no token', async () => {
    const r = await call('GET', '/healthz', { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ok');
  });

  test('EchoApp answers 200 with the body it got, without a token', async () => {
    const body = { nodeId: 'n@1', appKey: 'defaultApp', sessionId: '/1.2.3.4:5/6.7.8.9:8080', sipLogin: 'alice', nested: { a: [1, 2] } };
    const r = await call('POST', '/apps/EchoApp/connect', { body, token: null });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, body);
  });

  test('EchoApp refuses a body that is not a JSON object', async () => {
    assertError(await call('POST', '/apps/EchoApp/call', { raw: '{"broken', token: null, headers: { 'Content-Type': 'application/json' } }), 400, /not valid JSON/);
    assertError(await call('POST', '/apps/EchoApp/call', { body: [1, 2], token: null }), 400, /JSON object/);
    assertError(await call('POST', '/apps/EchoApp/call', { token: null }), 400, /JSON object/);
    assertError(await call('POST', '/apps/EchoApp/bad%0D%0Aname', { body: {}, token: null }), 400, /method/);
  });

  test('EchoApp takes only application/json: what a page can POST without a CORS preflight is 415', async () => {
    const body = '{"appKey":"defaultApp"}';
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      assertError(await call('POST', '/apps/EchoApp/connect', { raw: body, token: null, headers: { 'Content-Type': type } }), 415, /Content-Type must be application\/json/);
    }
    assertError(await call('POST', '/apps/EchoApp/connect', { raw: body, token: null }), 415, /^a request body needs Content-Type: application\/json$/);
    const json = await call('POST', '/apps/EchoApp/connect', { raw: body, token: null, headers: { 'Content-Type': 'application/json; charset=UTF-8' } });
    assert.equal(json.status, 200, json.text);
    // A page's JSON POST needs a preflight first, and the port grants none: the browser never sends the POST.
    const preflight = await call('OPTIONS', '/apps/EchoApp/connect', {
      token: null,
      headers: { Origin: 'http://page.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 405);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  });

  test('JSON nested deeper than the limit is 400 naming it, on EchoApp and on the API', async () => {
    const deep = (depth: number) => `{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const json = { 'Content-Type': 'application/json' };
    const refused = /^request body nests JSON deeper than 32 levels, the admin API's limit$/;
    assertError(await call('POST', '/apps/EchoApp/connect', { raw: deep(20_000), token: null, headers: json }), 400, refused);
    assertError(await call('POST', '/apps/EchoApp/connect', { raw: deep(32), token: null, headers: json }), 400, refused);
    assertError(await call('POST', '/api/apps', { raw: deep(20_000), headers: json }), 400, refused);
    assert.equal((await call('POST', '/apps/EchoApp/connect', { raw: deep(31), token: null, headers: json })).status, 200);
  });

  test('defaultApp points at EchoApp with every method enabled', async () => {
    const r = await call('GET', '/api/apps/defaultApp');
    assert.equal(r.status, 200);
    assert.equal(r.json.url, `http://127.0.0.1:${server.address.port}/apps/EchoApp`);
    assert.deepEqual(r.json.methods, REST_METHOD_NAMES);
  });
});

describe('token', () => {
  test('every /api/ route and /metrics need the bearer token', async () => {
    for (const r of app.routes.filter((x) => x.auth)) {
      const path = r.path.replace(/\{[^}]+\}/g, 'x');
      const res = await call(r.method, path, { token: null });
      assertError(res, 401, /Authorization: Bearer/);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="callhook"');
    }
    assert.ok(app.routes.some((x) => x.path === '/metrics' && x.auth));
  });

  test('a wrong token, or another scheme, is refused', async () => {
    assertError(await call('GET', '/api/apps', { token: `${TOKEN}x` }), 401, /wrong admin token/);
    assertError(await call('GET', '/api/apps', { token: null, headers: { Authorization: `Basic ${TOKEN}` } }), 401, /wrong/);
  });

  test('GET /metrics serves the hook metrics in the Prometheus format', async () => {
    const r = await call('GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.text, /callhook_outbox_events/);
    assert.match(r.text, /^callhook_sessions 0$/m, 'no session yet');
    assert.match(r.text, /^# TYPE callhook_calls gauge$/m);
    assert.doesNotMatch(r.text, /^callhook_calls\{/m, 'no call yet');
  });
});

describe('apps', () => {
  const base = { name: 'shop', appKey: 'shopKey', url: 'http://127.0.0.1:9/rest' };

  test('POST adds an app with no method enabled; GET lists it; secrets never come back', async () => {
    const r = await call('POST', '/api/apps', { body: { ...base, restUsername: 'u', restPassword: 'pw-secret' } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.methods, []);
    assert.equal(r.json.restPasswordSet, true);
    assert.equal(r.json.restSecretSet, false);
    assert.ok(!r.text.includes('pw-secret'));
    const list = await call('GET', '/api/apps');
    assert.deepEqual(list.json.map((a: { name: string }) => a.name).sort(), ['defaultApp', 'shop']);
    assert.ok(!list.text.includes('pw-secret'));
  });

  test('a duplicate name or key is 409', async () => {
    assertError(await call('POST', '/api/apps', { body: { ...base, appKey: 'other' } }), 409, /shop/);
    assertError(await call('POST', '/api/apps', { body: { ...base, name: 'other' } }), 409, /shopKey/);
  });

  test('bad input is 400 naming what was wrong', async () => {
    const bad = async (body: unknown, pattern: RegExp) => assertError(await call('POST', '/api/apps', { body }), 400, pattern);
    await bad({ ...base, name: 'x1', appKey: 'k1', url: 'ftp://host/rest' }, /body\.url: .*http/);
    await bad({ ...base, name: 'x1', appKey: 'k1', url: 'not a url' }, /body\.url/);
    await bad({ ...base, name: 'x1', appKey: 'k1', url: 'http://u:p@host/rest' }, /credentials/);
    await bad({ ...base, name: 'x1', appKey: 'k1', restUsername: 'bob\r\nX-Evil: 1' }, /body\.restUsername: .*control characters/);
    await bad({ ...base, name: 'x1', appKey: 'k1', restPassword: 'a\nb' }, /restPassword: .*control/);
    await bad({ ...base, name: 'x1', appKey: 'k1', restSecret: 'a\u0000b' }, /restSecret: .*control/);
    await bad({ ...base, name: 'x1', appKey: 'k1', url: 'http://host/a\r\nHost: evil' }, /body\.url/);
    await bad({ ...base, name: 'bad name', appKey: 'k1' }, /body\.name/);
    await bad({ ...base, name: 'x1', appKey: 'k1', restUsername: 'a:b' }, /RFC 7617/);
    await bad({ ...base, name: 'x1', appKey: 'k1', admin: true }, /unknown field "admin"/);
    await bad({ name: 'x1' }, /body\.appKey/);
    await bad({ ...base, name: 'x1', appKey: 'k1', restClientConfig: { connect: { restOnError: 'MAYBE' } } }, /restClientConfig\.connect\.restOnError/);
    await bad({ ...base, name: 'x1', appKey: 'k1', restClientConfig: { nope: {} } }, /restClientConfig/);
    assertError(await call('POST', '/api/apps', { raw: '{"name":', headers: { 'Content-Type': 'application/json' } }), 400, /not valid JSON/);
    assertError(await call('POST', '/api/apps', { raw: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, /application\/json/);
    const huge = JSON.stringify({ ...base, url: 'x'.repeat(70 * 1024) });
    assertError(await call('POST', '/api/apps', { raw: huge }), 413, /of \d+ bytes exceeds the limit of 65536 bytes/);
    assertError(await call('POST', '/api/apps', { raw: huge, chunked: true }), 413, /^request body exceeds the limit of 65536 bytes$/);
    assertError(await call('POST', '/apps/EchoApp/call', { raw: huge, chunked: true, token: null }), 413, /limit/);
    // Nothing was added along the way.
    assert.equal((await call('GET', '/api/apps')).json.length, 2);
  });

  test('GET / PATCH / DELETE of an unknown app are 404', async () => {
    assertError(await call('GET', '/api/apps/nope'), 404, /nope/);
    assertError(await call('PATCH', '/api/apps/nope', { body: { url: 'http://h/x' } }), 404, /nope/);
    assertError(await call('DELETE', '/api/apps/nope'), 404, /nope/);
  });

  test('PATCH changes fields, null clears a credential, an empty patch is 400', async () => {
    let r = await call('PATCH', '/api/apps/shop', { body: { url: 'https://example.test/hooks', restSecret: 's3cret' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.url, 'https://example.test/hooks');
    assert.equal(r.json.restSecretSet, true);
    r = await call('PATCH', '/api/apps/shop', { body: { restSecret: null, restPassword: null, restUsername: null } });
    assert.equal(r.json.restSecretSet, false);
    assert.equal(r.json.restPasswordSet, false);
    assert.equal(r.json.restUsername, null);
    assertError(await call('PATCH', '/api/apps/shop', { body: {} }), 400, /at least one field/);
    assertError(await call('PATCH', '/api/apps/shop', { body: { name: 'renamed' } }), 400, /unknown field "name"/);
    assertError(await call('PATCH', '/api/apps/shop', { body: { appKey: 'defaultApp' } }), 409, /defaultApp/);
  });

  test('REST methods: list, enable one or all, disable one or all', async () => {
    const all = await call('GET', '/api/rest-methods');
    assert.deepEqual(all.json.map((m: { name: string }) => m.name), REST_METHOD_NAMES);
    assert.equal(all.json.find((m: { name: string }) => m.name === 'OnCallEvent').type, 'incoming');

    assert.deepEqual((await call('GET', '/api/apps/shopKey/rest-methods')).json, { appKey: 'shopKey', methods: [] });
    assert.deepEqual((await call('PUT', '/api/apps/shopKey/rest-methods/call')).json.methods, ['call']);
    assert.deepEqual((await call('PUT', '/api/apps/shopKey/rest-methods/connect')).json.methods, ['connect', 'call']);
    assert.deepEqual((await call('DELETE', '/api/apps/shopKey/rest-methods/call')).json.methods, ['connect']);
    assert.deepEqual((await call('PUT', '/api/apps/shopKey/rest-methods/*')).json.methods, REST_METHOD_NAMES);
    assert.deepEqual((await call('DELETE', '/api/apps/shopKey/rest-methods/%2A')).json.methods, []);
    assertError(await call('PUT', '/api/apps/shopKey/rest-methods/publishStream'), 400, /unknown REST method "publishStream"/);
    assertError(await call('PUT', '/api/apps/nope/rest-methods/call'), 404, /nope/);
    assertError(await call('GET', '/api/apps/nope/rest-methods'), 404, /nope/);
  });

  test('DELETE removes the app', async () => {
    await call('POST', '/api/apps', { body: { name: 'gone', appKey: 'goneKey', url: 'http://h/x' } });
    const r = await call('DELETE', '/api/apps/gone');
    assert.deepEqual(r.json, { removed: 'gone' });
    assertError(await call('GET', '/api/apps/gone'), 404, /gone/);
  });
});

describe('hook log and event outbox', () => {
  before(async () => {
    const t = Date.now();
    await store.write([
      { kind: 'logAttempt', entry: { time: t, appKey: 'shopKey', method: 'connect', url: 'http://h/connect', status: 200, latencyMs: 3, error: null, requestBody: '{"sipLogin":"alice"}', responseBody: '{"sipLogin":"alice"}' } },
      { kind: 'logAttempt', entry: { time: t + 1, appKey: 'shopKey', method: 'call', url: 'http://h/call', status: 404, latencyMs: 2, error: 'Not Found', requestBody: null, responseBody: null } },
      { kind: 'logAttempt', entry: { time: t + 2, appKey: 'defaultApp', method: 'call', url: 'http://e/call', status: null, latencyMs: 9, error: 'timeout', requestBody: null, responseBody: null } },
      ...['/1.1.1.1:1/2.2.2.2:2', '/1.1.1.1:3/2.2.2.2:2'].map((sessionId) => ({
        kind: 'appendEvent' as const,
        event: { eventId: `e-${sessionId}`, appKey: 'shopKey', sessionId, method: 'CallStatusEvent', body: { status: 'RING' }, failNotify: false, createdAt: t },
      })),
    ]);
    const [first] = await store.outbox.list();
    await store.write([{ kind: 'markDead', id: first!.id, error: 'too old' }]);
  });

  test('GET /api/hooks filters by outcome, app, method, time and limit, newest first, with the bodies', async () => {
    const all = await call('GET', '/api/hooks');
    assert.deepEqual(all.json.map((h: { method: string }) => h.method), ['call', 'call', 'connect']);
    assert.match(all.json[0].time, /^\d{4}-\d\d-\d\dT/);
    const failed = await call('GET', '/api/hooks?failed&app=shopKey');
    assert.deepEqual(failed.json.map((h: { status: number }) => h.status), [404]);
    const succeeded = await call('GET', '/api/hooks?failed=false');
    assert.deepEqual(succeeded.json.map((h: { method: string; requestBody: string; responseBody: string }) => [h.method, h.requestBody, h.responseBody]), [
      ['connect', '{"sipLogin":"alice"}', '{"sipLogin":"alice"}'],
    ]);
    assert.deepEqual((await call('GET', '/api/hooks?method=call')).json.map((h: { appKey: string }) => h.appKey), ['defaultApp', 'shopKey']);
    assert.equal((await call('GET', '/api/hooks?since=1h')).json.length, 3);
    assert.equal((await call('GET', `/api/hooks?since=${new Date(Date.now() + 60_000).toISOString()}`)).json.length, 0);
    assertError(await call('GET', '/api/hooks?since=yesterday'), 400, /query\.since: must be an ISO 8601 time/);
    assertError(await call('GET', '/api/hooks?method=pubishStream'), 400, /query\.method: unknown REST method "pubishStream"/);
    assert.equal((await call('GET', '/api/hooks?limit=1')).json.length, 1);
    assertError(await call('GET', '/api/hooks?limit=0'), 400, /query\.limit/);
    assertError(await call('GET', '/api/hooks?limit=ten'), 400, /query\.limit: must be a whole number/);
    assertError(await call('GET', '/api/hooks?failed=maybe'), 400, /query\.failed/);
    assertError(await call('GET', '/api/hooks?verbose=1'), 400, /unknown field "verbose"/);
    assertError(await call('GET', '/api/hooks?limit=1&limit=2'), 400, /more than once/);
  });

  test('GET /api/events lists pending and dead events; ?dead only dead letters', async () => {
    const all = await call('GET', '/api/events');
    assert.deepEqual(all.json.map((e: { state: string }) => e.state).sort(), ['dead', 'pending']);
    assert.deepEqual(all.json[0].body.status, 'RING');
    const dead = await call('GET', '/api/events?dead');
    assert.equal(dead.json.length, 1);
    assert.equal(dead.json[0].lastError, 'too old');
  });

  test('POST /api/events/replay turns dead letters back into pending ones', async () => {
    assertError(await call('POST', '/api/events/replay', { body: { since: 'yesterday' } }), 400, /body\.since/);
    assertError(await call('POST', '/api/events/replay', { body: { app: 'shopKey', extra: 1 } }), 400, /unknown field "extra"/);
    assert.deepEqual((await call('POST', '/api/events/replay', { body: { app: 'defaultApp' } })).json, { replayed: 0 });
    assert.deepEqual((await call('POST', '/api/events/replay', { body: { app: 'shopKey', since: '1h' } })).json, { replayed: 1 });
    assert.equal((await call('GET', '/api/events?dead=true')).json.length, 0);
    // An empty body replays everything (nothing left here).
    assert.deepEqual((await call('POST', '/api/events/replay')).json, { replayed: 0 });
  });
});

describe('sessions and calls', () => {
  test('empty without a gateway, the provider\'s lists with one', async () => {
    assert.deepEqual((await call('GET', '/api/sessions')).json, []);
    assert.deepEqual((await call('GET', '/api/calls')).json, []);
    const session = { sessionId: '/1.1.1.1:1/2.2.2.2:8080', appKey: 'defaultApp', status: 'ESTABLISHED', sipLogin: 'alice', connectedAt: new Date(0).toISOString() };
    const c = { callId: 'c1', sessionId: session.sessionId, incoming: false, status: 'TALK', caller: 'alice', callee: 'bob', startedAt: new Date(0).toISOString() };
    sessions = { sessions: () => [session], calls: () => [c] };
    assert.deepEqual((await call('GET', '/api/sessions')).json, [session]);
    assert.deepEqual((await call('GET', '/api/calls')).json, [c]);
  });
});

describe('check', () => {
  let backend: Server;
  let backendUrl: string;

  before(async () => {
    backend = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        if (req.url === '/rest/call') {
          res.writeHead(404).end('no');
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/rest`;
    await call('POST', '/api/apps', { body: { name: 'probe', appKey: 'probeKey', url: backendUrl } });
    await call('PUT', '/api/apps/probeKey/rest-methods/connect');
    await call('PUT', '/api/apps/probeKey/rest-methods/call');
  });

  after(async () => {
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
  });

  test('POST /api/apps/{key}/check walks DNS, TCP and one probe per enabled method', async () => {
    const r = await call('POST', '/api/apps/probeKey/check');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, false);
    assert.deepEqual(
      r.json.steps.map((s: { step: string; method?: string; ok: boolean }) => [s.step, s.method ?? '', s.ok]),
      [['dns', '', true], ['tcp', '', true], ['probe', 'connect', true], ['probe', 'call', false]],
    );
    assert.match(r.json.steps[3].detail, /no handler for \/call/);
  });

  test('unknown key is 404', async () => {
    assertError(await call('POST', '/api/apps/nope/check'), 404, /nope/);
  });
});

describe('routing and robustness', () => {
  test('unknown path is 404, wrong method is 405 with Allow', async () => {
    assertError(await call('GET', '/api/nothing'), 404, /no such resource/);
    const r = await call('PUT', '/api/apps');
    assertError(r, 405, /PUT is not allowed/);
    assert.equal(r.headers['allow'], 'GET, POST');
  });

  test('bad percent-encoding and hostile paths get 400/404, never a crash', async () => {
    assertError(await call('GET', '/api/apps/%E0%A4%A'), 400, /percent-encoding/);
    assertError(await call('GET', '/api/apps/..%2F..%2Fetc'), 400, /path\.name/);
    for (const path of ['//', '/api//apps', '/%00', '/api/apps/%0D%0A', '/apps/EchoApp/']) {
      const r = await call('GET', path);
      assert.ok(r.status >= 400 && r.status < 500, `${path} → ${r.status}`);
    }
    const r = await call('GET', '/healthz');
    assert.equal(r.status, 200);
  });

  test('a reply that cannot be serialised is a 500 naming an internal error, logged once with its stack', async () => {
    const saved = sessions;
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    sessions = { sessions: () => deep as never, calls: () => [] };
    errorLog.length = 0;
    try {
      assertError(await call('GET', '/api/sessions'), 500, /^internal error in the admin server \(see its log\)$/);
    } finally {
      sessions = saved;
    }
    assert.equal(errorLog.length, 1, JSON.stringify(errorLog));
    assert.equal(errorLog[0]!.msg, 'admin request failed');
    assert.match(errorLog[0]!.err!.stack, /^RangeError: Maximum call stack size exceeded\n\s+at /);
    assert.equal((await call('GET', '/healthz')).status, 200);
  });

  test('random garbage bodies on every body route are 4xx', async () => {
    const routes = app.routes.filter((r) => r.body !== undefined);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 40; i++) {
      const r = routes[i % routes.length]!;
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
      const res = await call(r.method, r.path.replace('{method}', 'call'), { raw: bytes, headers: { 'Content-Type': 'application/json' } });
      assert.ok(res.status >= 400 && res.status < 500, `${r.method} ${r.path} → ${res.status} ${res.text}`);
      assert.equal(typeof res.json.error, 'string');
    }
  });
});

describe('OpenAPI document', () => {
  test('is served with the token and is OpenAPI 3.1', async () => {
    const r = await call('GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, '3.1.0');
  });

  test('lists exactly the routes the router serves, with the same methods and auth', () => {
    const fromRouter = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
    const fromDoc = new Set<string>();
    const paths = openApiDocument.paths as Record<string, Record<string, unknown>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const key of Object.keys(item)) {
        if (key === 'parameters') continue;
        fromDoc.add(`${key.toUpperCase()} ${path}`);
      }
    }
    assert.deepEqual([...fromDoc].sort(), [...fromRouter].sort());
    for (const r of app.routes) {
      const op = paths[r.path]![r.method.toLowerCase()] as { security?: unknown };
      assert.equal(op.security !== undefined, r.auth, `${r.method} ${r.path}: security in the document must match the route`);
    }
  });

  test('every path parameter of a route is declared in the document', () => {
    type Params = { parameters?: Array<{ name: string; in: string }> };
    const paths = openApiDocument.paths as unknown as Record<string, Params & Record<string, Params>>;
    for (const r of app.routes) {
      const item = paths[r.path]!;
      const declared = [...(item.parameters ?? []), ...(item[r.method.toLowerCase()]?.parameters ?? [])]
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      const inPath = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(declared, inPath, `${r.method} ${r.path}`);
    }
  });
});
