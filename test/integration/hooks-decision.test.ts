/**
 * Decision hooks and event deliveries against a real HTTP backend on loopback (test/support/backend.ts): every
 * rule of docs/hooks.md "The response" and the restOnError × method-type table, plus the request itself (headers,
 * auth, signatures as a backend verifies them) and bad backends (redirects, 10 MB bodies, dropped connections).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/index.ts';
import {
  createHookEngine,
  verifySignature,
  verifyWcsSignature,
  type EventDeliveryFailure,
  type HookContext,
  type HookEngine,
  type HookOutcome,
} from '../../src/hooks/index.ts';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_MAX_JSON_DEPTH } from '../../src/json/limited-parse.ts';
import { TestBackend, type Scenario } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';

/** Short, so the timeout cases are quick; long enough that an answering backend makes it on a loaded machine. */
const TIMEOUT_MS = 500;
const RETRIES = 2;
const WAIT_MS = 3000;

let dir: string;
let store: Store;
let engine: HookEngine;
let backend: TestBackend;
let refusedPort: number;
const failures: EventDeliveryFailure[] = [];
let appSeq = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callhook-hooks-'));
  store = openStore({ dataDir: dir, adminPort: 8081 });
  backend = await TestBackend.start();
  refusedPort = await TestBackend.closedPort();
  engine = createHookEngine({
    store,
    config: { restRequestTimeoutMs: TIMEOUT_MS, restRetryCount: RETRIES, restEventMaxAgeMs: 60_000, disableRest: false, userAgent: 'callhook/test', hookLogMaxBodyBytes: 4096 },
    log: createLogger('silent'),
    outbox: { backoffMinMs: 10_000, backoffMaxMs: 10_000 }, // one attempt per event within these tests
    onEventDeliveryFailure: (f) => failures.push(f),
  });
  engine.start();
  // One hook first, so no test's attempts pay the first connection and the first run of the code (a CI run under
  // load saw the first test's answered hook time out).
  const warm = await engine.invoke('connect', { sipLogin: 'warm-up' }, ctx(newApp()));
  assert.ok(warm.ok, `warm-up hook: ${JSON.stringify(warm)}`);
});

after(async () => {
  await engine.stop();
  store.close();
  await backend.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  backend.requests.length = 0;
  backend.responder = () => ({ kind: 'echo' });
  failures.length = 0;
});

/** A fresh app on the backend (its own path prefix), every method enabled unless told otherwise (SQLite writes apps before its promise returns). */
function newApp(options: { url?: string; restClientConfig?: unknown; methods?: string[]; extra?: Record<string, unknown> } = {}): string {
  const key = `app${++appSeq}`;
  void store.apps.add({ name: key, appKey: key, url: options.url ?? backend.url(`/${key}`), restClientConfig: options.restClientConfig, ...options.extra });
  for (const m of options.methods ?? ['*']) void store.apps.enableMethod(key, m);
  return key;
}

function ctx(appKey: string, extra: Partial<HookContext> = {}): HookContext {
  return { appKey, sessionId: '/192.0.2.10:50000/192.0.2.1:8443', nodeId: 'nodeA@192.0.2.1', ...extra };
}

// ---------------------------------------------------------------------------------------------------------------

type Case = 'ok' | 'forbiddenWithReason' | 'serverError' | 'refused' | 'timeout' | 'notJson';
const CASES: Record<Exclude<Case, 'refused'>, Scenario> = {
  ok: { kind: 'echo' },
  forbiddenWithReason: { kind: 'json', status: 403, body: { status: 403, reason: 'Calls to premium numbers are blocked' } },
  serverError: { kind: 'raw', status: 500, body: 'Traceback (most recent call last): ...' },
  timeout: { kind: 'delay', ms: TIMEOUT_MS * 3, then: { kind: 'echo' } },
  notJson: { kind: 'raw', status: 200, body: '<html>hello</html>', headers: { 'Content-Type': 'text/html' } },
};
const EXPECTED_INFO: Record<Exclude<Case, 'ok'>, (port: number) => string | RegExp> = {
  forbiddenWithReason: () => 'Calls to premium numbers are blocked',
  serverError: () => 'Internal Server Error',
  refused: (port) => `connect ECONNREFUSED 127.0.0.1:${port}`,
  timeout: () => `REST request timed out after ${TIMEOUT_MS} ms`,
  notJson: () => /^REST response is not JSON \(.+\): "<html>hello<\/html>"$/,
};
const HTTP_STATUS: Partial<Record<Case, number>> = { forbiddenWithReason: 403, serverError: 500, notJson: 200 };

function appFor(c: Case, method: string, onError: 'LOG' | 'FAIL'): string {
  const restClientConfig = { [method]: { restOnError: onError } };
  if (c === 'refused') return newApp({ url: `http://127.0.0.1:${refusedPort}/rest`, restClientConfig });
  const key = newApp({ restClientConfig });
  const scenario = CASES[c];
  const prev = backend.responder;
  backend.responder = (r) => (r.path.startsWith(`/${key}/`) ? scenario : prev(r));
  return key;
}

function assertInfo(outcome: { info: string }, c: Exclude<Case, 'ok'>): void {
  const expected = EXPECTED_INFO[c](refusedPort);
  if (typeof expected === 'string') assert.equal(outcome.info, expected);
  else assert.match(outcome.info, expected);
}

const DECISION = [
  { method: 'connect', type: 'connect', body: { sipLogin: 'alice', sipDomain: 'sip.example' } },
  { method: 'call', type: 'direct', body: { callId: 'c1', callee: '100', sdp: 'v=0' } },
  { method: 'OnCallEvent', type: 'incoming', body: { callId: 'c2', incoming: true, status: 'PENDING', caller: 'bob', callee: 'alice' } },
] as const;

describe('restOnError × method type (docs/hooks.md "The response" table)', () => {
  for (const { method, type, body } of DECISION) {
    for (const onError of ['LOG', 'FAIL'] as const) {
      for (const c of ['ok', 'forbiddenWithReason', 'serverError', 'refused', 'timeout', 'notJson'] as const) {
        // connect always fails on an interaction error; direct and incoming stop only with FAIL
        const refuse = type === 'connect' || onError === 'FAIL';
        it(`${type} ${method}, restOnError ${onError}, backend ${c} → ${c === 'ok' ? 'proceed' : refuse ? 'refuse' : 'log and go on'}`, async () => {
          const key = appFor(c, method, onError);
          const sessionConfig = { [method]: { restOnError: onError } };
          const outcome: HookOutcome = await engine.invoke(method, body, ctx(key, type === 'connect' ? {} : { restClientConfig: sessionConfig }));
          const expectedBody = { nodeId: 'nodeA@192.0.2.1', appKey: key, sessionId: '/192.0.2.10:50000/192.0.2.1:8443', ...body };
          if (c === 'ok') {
            assert.equal(outcome.ok, true, JSON.stringify(outcome));
            assert.deepEqual(outcome.body, expectedBody);
            return;
          }
          assert.equal(outcome.ok, false);
          if (outcome.ok) return;
          assert.equal(outcome.refuse, refuse);
          assertInfo(outcome, c);
          assert.equal(outcome.httpStatus, HTTP_STATUS[c]);
          assert.deepEqual(outcome.body, expectedBody, 'the client\'s own data to go on with');
          const log = (await store.hookLog.query({ appKey: key }));
          const attempts = c === 'refused' ? 1 + RETRIES : 1;
          assert.equal(log.length, attempts, 'every attempt is in the hook log');
          assert.ok(log.every((e) => e.error !== null && e.method === method));
        });
      }
    }
  }

  for (const onError of ['LOG', 'FAIL'] as const) {
    for (const c of ['ok', 'forbiddenWithReason', 'serverError', 'refused', 'timeout', 'notJson'] as const) {
      it(`event CallStatusEvent, restOnError ${onError}, backend ${c} → ${c === 'ok' ? 'delivered' : onError === 'FAIL' ? 'ErrorStatusEvent for the client, kept for retry' : 'logged, kept for retry'}`, async () => {
        const key = appFor(c, 'CallStatusEvent', onError);
        const sessionId = `/192.0.2.77:${appSeq}/192.0.2.1:8443`;
        const started = performance.now();
        const result = engine.emit('CallStatusEvent', { callId: 'c1', status: 'ESTABLISHED' }, ctx(key, { sessionId, restClientConfig: { CallStatusEvent: { restOnError: onError } } }));
        assert.ok(performance.now() - started < TIMEOUT_MS, 'emit returns without waiting for the backend');
        assert.equal(result.queued, true);
        await eventually(async () => (await store.hookLog.query({ appKey: key })).length >= (c === 'refused' ? 1 + RETRIES : 1), WAIT_MS, 'the delivery attempt');
        await eventually(async () => c !== 'ok' || (await store.outbox.pendingOf(sessionId, 1))[0] === undefined, WAIT_MS, 'the delivered row to go');
        const pending = (await store.outbox.pendingOf(sessionId, 1))[0];
        if (c === 'ok') {
          assert.equal(pending, undefined);
          assert.deepEqual(failures, []);
          return;
        }
        await eventually(async () => (await store.outbox.pendingOf(sessionId, 1))[0]?.attempts === 1, WAIT_MS, 'the failed attempt to be recorded');
        assert.equal((await store.outbox.pendingOf(sessionId, 1))[0]!.state, 'pending');
        if (onError === 'FAIL') {
          assert.equal(failures.length, 1);
          assert.equal(failures[0]!.sessionId, sessionId);
          assert.equal(failures[0]!.method, 'CallStatusEvent');
          assert.equal(failures[0]!.eventId, result.eventId);
          assertInfo(failures[0]!, c);
        } else {
          assert.deepEqual(failures, []);
        }
      });
    }
  }
});

describe('what a 200 answer changes', () => {
  it('connect: every non-context field of the response replaces the request\'s; context fields never change', async () => {
    const key = newApp();
    backend.responder = (r) => ({
      kind: 'json',
      body: {
        ...r.json,
        sipLogin: '1001', sipPassword: 'secret', sipAuthenticationName: '1001', sipDomain: 'pbx.example', sipRegisterRequired: false, sipPort: 5060,
        nodeId: 'evil', appKey: 'otherApp', sessionId: '/6.6.6.6:1/6.6.6.6:2',
        restClientConfig: {
          call: { restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: 'callee' },
          ConnectionStatusEvent: { clientExclude: 'sipLogin,sipPassword,sipAuthenticationName,sipDomain,sipOutboundProxy' },
        },
      },
    });
    const outcome = await engine.invoke('connect', { sipLogin: 'browser', custom: { a: 1 }, mediaProviders: ['WebRTC'] }, ctx(key));
    assert.equal(outcome.ok, true);
    assert.deepEqual(outcome.body, {
      nodeId: 'nodeA@192.0.2.1', appKey: key, sessionId: '/192.0.2.10:50000/192.0.2.1:8443',
      sipLogin: '1001', custom: { a: 1 }, mediaProviders: ['WebRTC'],
      sipPassword: 'secret', sipAuthenticationName: '1001', sipDomain: 'pbx.example', sipRegisterRequired: false, sipPort: 5060,
    });
    assert.deepEqual(outcome.restClientConfig, {
      call: { restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: 'callee' },
      ConnectionStatusEvent: { clientExclude: 'sipLogin,sipPassword,sipAuthenticationName,sipDomain,sipOutboundProxy' },
    });
    // the session's config now rules later calls: ConnectionStatusEvent hides the SIP credentials from the client
    const emitted = engine.emit('ConnectionStatusEvent', { ...outcome.body, status: 'ESTABLISHED' }, ctx(key, { restClientConfig: outcome.restClientConfig }));
    assert.deepEqual(emitted.clientExclude, ['sipLogin', 'sipPassword', 'sipAuthenticationName', 'sipDomain', 'sipOutboundProxy']);
  });

  it('connect: a connect response\'s restClientConfig overrides the app default per method', async () => {
    const key = newApp({ restClientConfig: { call: { restOnError: 'FAIL' }, hold: { restPolicy: 'DISABLE' } } });
    backend.responder = (r) => ({ kind: 'json', body: { ...r.json, restClientConfig: { call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee' } } } });
    const outcome = await engine.invoke('connect', {}, ctx(key));
    assert.deepEqual(outcome.restClientConfig, { call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee' }, hold: { restPolicy: 'DISABLE' } });
    const noConfig = newApp({ restClientConfig: { hold: { restPolicy: 'DISABLE' } } });
    backend.responder = () => ({ kind: 'echo' });
    assert.deepEqual((await engine.invoke('connect', {}, ctx(noConfig))).restClientConfig, { hold: { restPolicy: 'DISABLE' } }, 'no config in the response: the app default');
  });

  it('connect: a page\'s restClientConfig that a mirroring backend repeats only tightens the app default', async () => {
    const key = newApp({ restClientConfig: { call: { restOnError: 'FAIL' } } });
    const page = { call: { restPolicy: 'DISABLE', restOnError: 'LOG' }, sendMessage: { restOnError: 'FAIL' } };
    const outcome = await engine.invoke('connect', { restClientConfig: page }, ctx(key));
    assert.deepEqual(outcome.restClientConfig, { call: { restOnError: 'FAIL' }, sendMessage: { restOnError: 'FAIL' } });
    // A value the backend never received (restExclude) is its own decision, even when it equals the page's.
    const excluding = newApp({ restClientConfig: { connect: { restExclude: 'restClientConfig' } } });
    backend.responder = (r) => ({ kind: 'json', body: { ...r.json, restClientConfig: { call: { restPolicy: 'DISABLE' } } } });
    const own = await engine.invoke('connect', { restClientConfig: { call: { restPolicy: 'DISABLE' } } }, ctx(excluding));
    assert.equal(Object.hasOwn(backend.requests.at(-1)!.json!, 'restClientConfig'), false);
    assert.deepEqual(own.restClientConfig, { connect: { restExclude: 'restClientConfig' }, call: { restPolicy: 'DISABLE' } });
  });

  it('connect: a bad restClientConfig in the response refuses the connection, naming what was wrong', async () => {
    const key = newApp();
    backend.responder = (r) => ({ kind: 'json', body: { ...r.json, restClientConfig: { call: { restOnError: 'SOMETIMES' } } } });
    const outcome = await engine.invoke('connect', {}, ctx(key));
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.refuse, true);
    assert.match(!outcome.ok ? outcome.info : '', /connect response has a bad restClientConfig\.call\.restOnError must be LOG or FAIL \(got "SOMETIMES"\)/);
  });

  it('restPolicy OVERWRITE copies exactly the restOverwrite fields, never context fields', async () => {
    const key = newApp();
    backend.responder = (r) => ({ kind: 'json', body: { ...r.json, callee: '+15550100', caller: 'spoofed', sessionId: 'evil', nodeId: 'evil' } });
    const cfg = { call: { restPolicy: 'OVERWRITE' as const, restOverwrite: 'callee,sessionId,nodeId,missingField' } };
    const outcome = await engine.invoke('call', { callId: 'c1', callee: '100', caller: 'alice' }, ctx(key, { restClientConfig: cfg }));
    assert.equal(outcome.ok, true);
    assert.equal(outcome.body['callee'], '+15550100');
    assert.equal(outcome.body['caller'], 'alice', 'not listed: not overwritten');
    assert.equal(outcome.body['sessionId'], '/192.0.2.10:50000/192.0.2.1:8443');
    assert.equal(outcome.body['nodeId'], 'nodeA@192.0.2.1');
    assert.equal(Object.hasOwn(outcome.body, 'missingField'), false);
  });

  it('restPolicy NOTIFY (the default) ignores the response', async () => {
    const key = newApp();
    backend.responder = (r) => ({ kind: 'json', body: { ...r.json, callee: '+15550100' } });
    const outcome = await engine.invoke('call', { callee: '100' }, ctx(key, { restClientConfig: { call: { restOverwrite: 'callee' } } }));
    assert.equal(outcome.ok && outcome.body['callee'], '100');
  });

  it('a __proto__ key in a backend answer is a plain field, not a prototype', async () => {
    const key = newApp();
    backend.responder = () => ({ kind: 'raw', status: 200, body: '{"__proto__":{"polluted":true},"sipLogin":"x"}' });
    const outcome = await engine.invoke('connect', {}, ctx(key));
    assert.equal(outcome.ok, true);
    assert.equal((outcome.body as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(outcome.body), Object.prototype);
  });
});

describe('what is sent', () => {
  it('every body carries the context fields from ctx; a caller cannot fake them', async () => {
    const key = newApp();
    await engine.invoke('call', { callId: 'c1', nodeId: 'fake', appKey: 'fake', sessionId: 'fake' }, ctx(key));
    assert.deepEqual(backend.requests[0]!.json, { nodeId: 'nodeA@192.0.2.1', appKey: key, sessionId: '/192.0.2.10:50000/192.0.2.1:8443', callId: 'c1' });
  });

  it('restExclude keeps fields from the backend (but never the context fields); clientExclude is returned', async () => {
    const key = newApp();
    const cfg = { call: { restExclude: 'sdp,sessionId', clientExclude: 'sipMessageRaw' } };
    const outcome = await engine.invoke('call', { callId: 'c1', sdp: 'v=0...', callee: '100' }, ctx(key, { restClientConfig: cfg }));
    assert.deepEqual(backend.requests[0]!.json, { nodeId: 'nodeA@192.0.2.1', appKey: key, sessionId: '/192.0.2.10:50000/192.0.2.1:8443', callId: 'c1', callee: '100' });
    assert.equal(outcome.ok && outcome.body['sdp'], 'v=0...', 'the operation keeps the excluded field');
    assert.deepEqual(outcome.clientExclude, ['sipMessageRaw']);
    engine.emit('CallStatusEvent', { callId: 'c1', sdp: 'v=0', status: 'RING' }, ctx(key, { sessionId: '/x:1/y:2', restClientConfig: { CallStatusEvent: { restExclude: 'sdp' } } }));
    await backend.waitForRequests(2);
    const event = backend.requests[1]!.json!;
    assert.equal(Object.hasOwn(event, 'sdp'), false);
    assert.equal(event['sequence'], 1);
    assert.match(String(event['eventId']), /^[0-9a-f-]{36}$/);
  });

  it('a method not enabled for the app makes no request and goes on with the client\'s data', async () => {
    const key = newApp({ methods: ['connect'] });
    const outcome = await engine.invoke('call', { callee: '100' }, ctx(key));
    assert.deepEqual(outcome, {
      ok: true, called: false, clientExclude: [], restClientConfig: {},
      body: { nodeId: 'nodeA@192.0.2.1', appKey: key, sessionId: '/192.0.2.10:50000/192.0.2.1:8443', callee: '100' },
    });
    assert.deepEqual(engine.emit('CallStatusEvent', { status: 'X' }, ctx(key)), { queued: false, clientExclude: [] });
    const none = newApp({ methods: [] });
    assert.equal((await engine.invoke('connect', {}, ctx(none))).ok, true, 'a new app (no methods) lets connect through');
    // An invoke is over once it resolves, and an event waits in the outbox until it is delivered: with neither
    // app's outbox holding anything, no request is still to come.
    assert.deepEqual([...(await store.outbox.list({ appKey: key })), ...(await store.outbox.list({ appKey: none }))], []);
    assert.equal(backend.requests.length, 0);
  });

  it('restPolicy DISABLE makes no request', async () => {
    const key = newApp();
    const outcome = await engine.invoke('hold', { callId: 'c1' }, ctx(key, { restClientConfig: { hold: { restPolicy: 'DISABLE' } } }));
    assert.equal(outcome.ok && outcome.called, false);
    assert.equal(engine.emit('CallStatusEvent', {}, ctx(key, { restClientConfig: { CallStatusEvent: { restPolicy: 'DISABLE' } } })).queued, false);
    assert.equal(backend.requests.length, 0);
  });

  it('disableRest turns every hook off', async () => {
    const key = newApp();
    const off = createHookEngine({
      store, log: createLogger('silent'),
      config: { restRequestTimeoutMs: TIMEOUT_MS, restRetryCount: 0, restEventMaxAgeMs: 1000, disableRest: true, userAgent: 'x', hookLogMaxBodyBytes: 4096 },
    });
    assert.equal((await off.invoke('connect', {}, ctx(key))).ok, true);
    assert.equal(off.emit('CallStatusEvent', {}, ctx(key)).queued, false);
    await off.stop();
    assert.equal(backend.requests.length, 0);
  });

  it('an unknown appKey refuses connect without a request', async () => {
    const outcome = await engine.invoke('connect', {}, ctx('noSuchApp'));
    assert.deepEqual(outcome.ok === false && [outcome.refuse, outcome.info], [true, 'unknown appKey "noSuchApp"']);
    assert.equal(engine.emit('CallStatusEvent', {}, ctx('noSuchApp')).queued, false);
  });

  it('invoke refuses events and emit refuses decision hooks (a caller bug, not a backend problem)', async () => {
    await assert.rejects(engine.invoke('CallStatusEvent' as never, {}, ctx('defaultApp')), /is an event: use emit\(\)/);
    assert.throws(() => engine.emit('call' as never, {}, ctx('defaultApp')), /not one: use invoke\(\)/);
  });

  it('POST <url>/<method> with JSON, Accept, User-Agent and Basic auth', async () => {
    const key = newApp({ extra: { restUsername: 'hookuser', restPassword: 'pä ss' } });
    await engine.invoke('sendDtmf', { callId: 'c1', dtmf: '1', type: 'RFC2833' }, ctx(key));
    const r = backend.requests[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, `/${key}/sendDtmf`);
    assert.equal(r.headers['content-type'], 'application/json; charset=UTF-8');
    assert.equal(r.headers['accept'], 'application/json');
    assert.equal(r.headers['user-agent'], 'callhook/test');
    assert.equal(r.headers['authorization'], `Basic ${Buffer.from('hookuser:pä ss').toString('base64')}`);
    assert.equal(r.headers['x-callhook-signature'], undefined, 'no secret, no signature');
  });

  it('signed hooks verify with the exported verifier over the raw body; tampering and expiry are caught', async () => {
    const key = newApp({ extra: { restSecret: 'topsecret' } });
    await engine.invoke('call', { callee: '100' }, ctx(key));
    const r = backend.requests[0]!;
    const header = r.headers['x-callhook-signature'] as string;
    assert.deepEqual(verifySignature(r.rawBody, header, 'topsecret'), { ok: true });
    assert.deepEqual(verifySignature(r.rawBody.replace('100', '900'), header, 'topsecret'), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignature(r.rawBody, header, 'topsecret', { now: Date.now() + 10 * 60_000 }), { ok: false, reason: 'expired' });
  });

  it('signature "wcs" also sends Authorization: WCS <hmac-md5> (what a WCS backend checks)', async () => {
    const key = newApp({ extra: { restSecret: 'wcskey', signature: 'wcs' } });
    engine.emit('CallStatusEvent', { status: 'FINISH' }, ctx(key, { sessionId: '/wcs:1/x:2' }));
    await backend.waitForRequests(1);
    const r = backend.requests[0]!;
    assert.deepEqual(verifyWcsSignature(r.rawBody, r.headers['authorization'], 'wcskey'), { ok: true });
    assert.deepEqual(verifyWcsSignature(r.rawBody + ' ', r.headers['authorization'], 'wcskey'), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignature(r.rawBody, r.headers['x-callhook-signature'] as string, 'wcskey'), { ok: true });
  });

  it("a caller's signal: invoke stops waiting when it aborts, the request it sent still completes and is logged, none is sent after", async () => {
    // A backend of its own: the request left running must not hold a keep-alive connection other tests count.
    const slow = await TestBackend.start({ responder: () => ({ kind: 'delay', ms: TIMEOUT_MS / 3, then: { kind: 'echo' } }) });
    try {
      const key = newApp({ url: slow.url('/slow') });
      const controller = new AbortController();
      const outcome = engine.invoke('call', { callId: 'abortedCall' }, ctx(key), controller.signal);
      await eventually(() => slow.requests.length === 1, WAIT_MS, 'the call hook reaching the backend');
      const reason = new Error('the call ended');
      controller.abort(reason);
      await assert.rejects(outcome, (e) => e === reason);
      // The backend may have acted on it: the exchange runs to its end and is logged; only the caller no longer waits.
      await eventually(async () => (await store.hookLog.query({ appKey: key })).length === 1, WAIT_MS, 'the hook log entry');
      // Once the signal has aborted, nothing more is sent.
      await assert.rejects(engine.invoke('call', { callId: 'abortedCall' }, ctx(key), controller.signal), (e) => e === reason);
      assert.equal(slow.requests.length, 1);
    } finally {
      await slow.stop();
    }
  });

  it('reuses one keep-alive connection per origin for sequential hooks', async () => {
    const key = newApp();
    for (let i = 0; i < 5; i++) await engine.invoke('call', { i }, ctx(key));
    const ids = new Set(backend.requests.map((r) => r.connectionId));
    assert.equal(ids.size, 1, `5 hooks over ${ids.size} connections`);
  });
});

describe('bad backends', () => {
  it('the info of a plain error status is the reason phrase the backend sent', async () => {
    const key = newApp();
    backend.responder = () => ({ kind: 'raw', status: 404, statusText: 'No Such Hook', body: '<html>not here</html>' });
    const outcome = await engine.invoke('answer', {}, ctx(key, { restClientConfig: { answer: { restOnError: 'FAIL' } } }));
    assert.deepEqual(outcome.ok === false && [outcome.refuse, outcome.info, outcome.httpStatus], [true, 'No Such Hook', 404]);
    assert.equal((await store.hookLog.query({ appKey: key }))[0]!.error, 'HTTP 404 No Such Hook');
  });

  it('a redirect is not followed: an interaction error naming it', async () => {
    const key = newApp();
    backend.responder = (r) => ({ kind: 'redirect', status: 302, location: backend.url(`/${key}-loop/${r.hook}`) });
    const outcome = await engine.invoke('call', {}, ctx(key, { restClientConfig: { call: { restOnError: 'FAIL' } } }));
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.info, 'Found');
    assert.equal(backend.requests.length, 1, 'no second request to the Location');
    assert.equal((await store.hookLog.query({ appKey: key }))[0]!.error, `HTTP 302 Found: redirect to ${backend.url(`/${key}-loop/call`)} not followed (hooks never follow redirects)`);
  });

  it('a 10 MB garbage answer is cut at 1 MiB: an error, not a memory blow-up', async () => {
    const key = newApp();
    backend.responder = () => ({ kind: 'huge', bytes: 10 * 1024 * 1024 });
    const outcome = await engine.invoke('connect', {}, ctx(key));
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.info, 'REST response body is larger than 1048576 bytes');
    // the engine still works afterwards
    backend.responder = () => ({ kind: 'echo' });
    assert.equal((await engine.invoke('connect', {}, ctx(key))).ok, true);
  });

  describe('an answer nested deeper than the JSON depth limit is a garbage answer, never a stack overflow', () => {
    /** `{"custom": [[…]]}` nesting `depth` levels in all, the answer's own object included, as raw text. */
    const nested = (depth: number): string => `{"custom":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    const TOO_DEEP = `REST response is refused: JSON nested deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`;

    for (const depth of [DEFAULT_MAX_JSON_DEPTH + 1, 100_000]) {
      it(`connect answered with ${depth} levels is refused, naming the limit, in the hook log too`, async () => {
        const key = newApp();
        backend.responder = () => ({ kind: 'raw', status: 200, body: nested(depth), headers: { 'Content-Type': 'application/json' } });
        const outcome = await engine.invoke('connect', {}, ctx(key));
        assert.deepEqual(outcome.ok === false && [outcome.refuse, outcome.info], [true, TOO_DEEP]);
        assert.equal((await store.hookLog.query({ appKey: key }))[0]!.error, TOO_DEEP);
      });
    }

    it('restOnError decides as for any garbage answer: LOG goes on with the client\'s data, FAIL refuses', async () => {
      const key = newApp();
      backend.responder = () => ({ kind: 'raw', status: 200, body: nested(DEFAULT_MAX_JSON_DEPTH + 1) });
      for (const restOnError of ['LOG', 'FAIL'] as const) {
        const outcome = await engine.invoke('call', { callId: 'c1', callee: '100' }, ctx(key, { restClientConfig: { call: { restOnError } } }));
        assert.equal(outcome.ok, false);
        if (outcome.ok) return;
        assert.deepEqual([outcome.refuse, outcome.info, outcome.body['callee']], [restOnError === 'FAIL', TOO_DEEP, '100']);
      }
    });

    it(`an answer of exactly ${DEFAULT_MAX_JSON_DEPTH} levels is accepted`, async () => {
      const key = newApp();
      backend.responder = () => ({ kind: 'raw', status: 200, body: nested(DEFAULT_MAX_JSON_DEPTH) });
      const outcome = await engine.invoke('connect', {}, ctx(key));
      assert.equal(outcome.ok, true);
    });
  });

  it('a connection closed without an answer is retried restRetryCount times (never sent → safe to resend)', async () => {
    const key = newApp();
    backend.responder = () => ({ kind: 'close' });
    const outcome = await engine.invoke('call', {}, ctx(key, { restClientConfig: { call: { restOnError: 'FAIL' } } }));
    assert.equal(outcome.ok, false);
    assert.match(!outcome.ok ? outcome.info : '', /socket hang up|ECONNRESET/);
    assert.equal(backend.requests.length, 1 + RETRIES);
  });

  it('a request that reached the backend is never resent: 500 and timeouts are tried once', async () => {
    const key = newApp();
    backend.responder = () => ({ kind: 'raw', status: 500, body: '' });
    await engine.invoke('call', {}, ctx(key));
    backend.responder = () => ({ kind: 'delay', ms: TIMEOUT_MS * 2, then: { kind: 'echo' } });
    await engine.invoke('call', {}, ctx(key));
    assert.equal(backend.requests.length, 2);
  });
});

describe('the hook log keeps both bodies, secrets redacted, each cut at hookLogMaxBodyBytes', () => {
  const SDP = 'v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n';
  const RAW = `INVITE sip:bob@example.com SIP/2.0\r\nProxy-Authorization: Digest username="alice", response="6629fae49393a05397450978507c4ef1"\r\n\r\n${SDP}`;

  it('the request and the echoed answer without passwords, tokens, digest credentials or SRTP keys', async () => {
    const key = newApp();
    const body = { sipLogin: 'alice', sipPassword: 'alice-pw', authToken: 'tok-1', custom: { restPassword: 'rp', note: 'keep me' }, sipMessageRaw: RAW };
    // TIMEOUT_MS is short: on a loaded machine the first request of a cold process may miss it, so up to 3 tries.
    for (let i = 0; i < 3 && !(await engine.invoke('connect', body, ctx(key))).ok; i++);
    assert.equal(backend.requests[0]!.json!['sipPassword'], 'alice-pw', 'the backend gets the body as it is');
    const [entry] = await store.hookLog.query({ appKey: key, failed: false });
    for (const text of [entry!.requestBody!, entry!.responseBody!]) {
      const logged = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(
        [logged['sipLogin'], logged['sipPassword'], logged['authToken'], logged['custom'], logged['appKey']],
        ['alice', '[redacted]', '[redacted]', { restPassword: '[redacted]', note: 'keep me' }, key],
      );
      const raw = String(logged['sipMessageRaw']);
      assert.match(raw, /^Proxy-Authorization: Digest \[redacted\]\r$/m);
      assert.match(raw, /inline:\[redacted\]\|2\^20\|1:4/);
      assert.doesNotMatch(text, /alice-pw|tok-1|"rp"|6629fae4|WVNfX19z/);
    }
  });

  it('an error answer keeps its text; no answer keeps none', async () => {
    const key = newApp();
    backend.responder = () => ({ kind: 'raw', status: 500, body: '<h1>Internal Server Error</h1>' });
    await engine.invoke('connect', { sipLogin: 'alice' }, ctx(key));
    const refusedKey = newApp({ url: `http://127.0.0.1:${refusedPort}/x` });
    await engine.invoke('connect', { sipLogin: 'bob' }, ctx(refusedKey));
    const [failed] = await store.hookLog.query({ appKey: key });
    assert.deepEqual([failed!.status, failed!.responseBody], [500, '<h1>Internal Server Error</h1>']);
    const refused = await store.hookLog.query({ appKey: refusedKey });
    assert.equal(refused.length, 1 + RETRIES);
    assert.ok(refused.every((e) => e.status === null && e.responseBody === null && JSON.parse(e.requestBody!)['sipLogin'] === 'bob'));
  });

  it('a body over the limit is cut there, on a character boundary, and says so; 0 keeps no bodies', async () => {
    const key = newApp();
    const answer = JSON.stringify({ filler: 'é'.repeat(5000) });
    backend.responder = () => ({ kind: 'raw', status: 200, body: answer, headers: { 'Content-Type': 'application/json' } });
    await engine.invoke('connect', {}, ctx(key));
    const [entry] = await store.hookLog.query({ appKey: key });
    const [kept, note] = entry!.responseBody!.split('\n');
    assert.ok(Buffer.byteLength(kept!) <= 4096 && Buffer.byteLength(kept!) >= 4095, `kept ${Buffer.byteLength(kept!)} bytes`);
    assert.ok(answer.startsWith(kept!));
    assert.equal(note, `… [truncated: ${Buffer.byteLength(answer)} bytes in all, the first 4096 kept (hookLogMaxBodyBytes)]`);

    const none = createHookEngine({
      store, log: createLogger('silent'),
      config: { restRequestTimeoutMs: TIMEOUT_MS, restRetryCount: 0, restEventMaxAgeMs: 1000, disableRest: false, userAgent: 'x', hookLogMaxBodyBytes: 0 },
    });
    const quietKey = newApp();
    await none.invoke('connect', { sipLogin: 'alice' }, ctx(quietKey));
    await none.stop();
    const [quiet] = await store.hookLog.query({ appKey: quietKey });
    assert.deepEqual([quiet!.status, quiet!.requestBody, quiet!.responseBody], [200, null, null]);
  });
});
