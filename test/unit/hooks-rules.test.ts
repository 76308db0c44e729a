/**
 * The pure parts of the hook engine: the method table (docs/hooks.md "Methods"), restClientConfig (docs/hooks.md
 * "restClientConfig"), the request a hook sends (docs/hooks.md "The request") and how an answer is read (docs/hooks.md "The response").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REST_METHODS, isRestMethod, methodType } from '../../src/hooks/methods.ts';
import { parseRestClientConfig, resolveMethodConfig, sessionRestClientConfig } from '../../src/hooks/rest-client-config.ts';
import { HookError } from '../../src/hooks/errors.ts';
import { buildHookRequest, hookUrl } from '../../src/hooks/request.ts';
import { interpret } from '../../src/hooks/interaction.ts';
import { verifySignature, verifyWcsSignature } from '../../src/hooks/signature.ts';
import type { HookHttpResult } from '../../src/hooks/http.ts';
import { backoffDelay } from '../../src/hooks/outbox-worker.ts';
import { DEFAULT_BACKOFF_MAX_MS, DEFAULT_BACKOFF_MIN_MS } from '../../src/hooks/engine.ts';
import type { App } from '../../src/store/types.ts';
import { DEFAULT_MAX_JSON_DEPTH } from '../../src/json/limited-parse.ts';

describe('REST methods: exactly the table of docs/hooks.md', () => {
  it('lists every method with its type, in order', () => {
    assert.deepEqual(
      REST_METHODS.map((m) => `${m.name}:${m.type}`),
      [
        'connect:connect', 'ConnectionStatusEvent:event', 'RegistrationStatusEvent:event', 'call:direct', 'answer:direct',
        'hangup:direct', 'hold:direct', 'unhold:direct', 'transfer:direct', 'sendDtmf:direct', 'CallStatusEvent:event',
        'OnCallEvent:incoming', 'TransferStatusEvent:event', 'sendMessage:direct', 'MessageStatusEvent:event',
        'OnMessageEvent:incoming', 'ErrorStatusEvent:event', 'CallDetailRecord:event', 'OnDtmfEvent:event',
      ],
    );
  });

  it('is case-sensitive (the name is the URL path segment)', () => {
    assert.equal(isRestMethod('connect'), true);
    assert.equal(isRestMethod('Connect'), false);
    assert.equal(isRestMethod('publishStream'), false);
    assert.equal(methodType('OnCallEvent'), 'incoming');
    assert.equal(methodType('nope'), undefined);
  });
});

describe('restClientConfig', () => {
  it('defaults: restOnError LOG, restPolicy NOTIFY, empty lists', () => {
    assert.deepEqual(resolveMethodConfig({}, 'call'), {
      restExclude: [], clientExclude: [], restOnError: 'LOG', restPolicy: 'NOTIFY', restOverwrite: [],
    });
    assert.deepEqual(resolveMethodConfig(undefined, 'call').restPolicy, 'NOTIFY');
  });

  it('parses the WCS click-to-call sample and splits comma lists', () => {
    const cfg = parseRestClientConfig({
      call: { restExclude: '', clientExclude: '', restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: 'callee' },
      ConnectionStatusEvent: {
        restExclude: '', clientExclude: 'sipLogin,sipPassword, sipAuthenticationName ,sipDomain,sipOutboundProxy',
        restOnError: 'LOG', restPolicy: 'NOTIFY', restOverwrite: '',
      },
    });
    assert.deepEqual(resolveMethodConfig(cfg, 'call'), {
      restExclude: [], clientExclude: [], restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: ['callee'],
    });
    assert.deepEqual(resolveMethodConfig(cfg, 'ConnectionStatusEvent').clientExclude, [
      'sipLogin', 'sipPassword', 'sipAuthenticationName', 'sipDomain', 'sipOutboundProxy',
    ]);
  });

  it('accepts WCS\'s older spelling DISABLED and empty enum strings; drops methods callhook does not have', () => {
    const cfg = parseRestClientConfig({ hold: { restPolicy: 'DISABLED', restOnError: '' }, publishStream: { restPolicy: 'bogus' } });
    assert.deepEqual(cfg, { hold: { restPolicy: 'DISABLE' } });
    assert.deepEqual(parseRestClientConfig(null), {});
  });

  it('refuses bad values with a message naming the path and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /restClientConfig must be an object keyed by method name/],
      [{ call: 'FAIL' }, /restClientConfig\.call must be an object \(got "FAIL"\)/],
      [{ call: { restOnError: 'fail' } }, /restClientConfig\.call\.restOnError must be LOG or FAIL \(got "fail"\)/],
      [{ call: { restPolicy: 'BLOCK' } }, /restClientConfig\.call\.restPolicy must be NOTIFY, OVERWRITE or DISABLE/],
      [{ call: { restOverwrite: ['callee'] } }, /restClientConfig\.call\.restOverwrite must be a comma-separated string/],
    ];
    for (const [value, message] of bad) {
      assert.throws(() => parseRestClientConfig(value), (e: unknown) => e instanceof HookError && e.code === 'INVALID_REST_CLIENT_CONFIG' && message.test(e.message));
    }
  });

  it('a connect response replaces the app default per method, whole entries', () => {
    const app = parseRestClientConfig({ call: { restOnError: 'FAIL', restExclude: 'sdp' }, hold: { restPolicy: 'DISABLE' } });
    const fromConnect = parseRestClientConfig({ call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee' } });
    assert.deepEqual(sessionRestClientConfig(app, undefined, fromConnect), {
      call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee' },
      hold: { restPolicy: 'DISABLE' },
    });
  });
});

describe('restClientConfig a page sent and the connect answer repeats: it may only tighten the app default', () => {
  const appDefault = parseRestClientConfig({
    call: { restOnError: 'FAIL', restPolicy: 'OVERWRITE', restOverwrite: 'callee', restExclude: 'custom', clientExclude: 'sipMessageRaw' },
  });
  /** The session config when the backend mirrors `page` (answers with exactly what it received). */
  const mirrored = (page: unknown, app = appDefault) => sessionRestClientConfig(app, page, parseRestClientConfig(page));

  it('loosening values are ignored: no DISABLE, no FAIL → LOG, no OVERWRITE → NOTIFY, no exclusion lifted', () => {
    const page = { call: { restOnError: 'LOG', restPolicy: 'DISABLE', restOverwrite: '', restExclude: 'callee', clientExclude: '' } };
    assert.deepEqual(mirrored(page), appDefault);
    assert.deepEqual(mirrored({ call: { restPolicy: 'NOTIFY' } }).call, appDefault.call);
    assert.deepEqual(mirrored({ call: { restPolicy: 'DISABLED' } }).call, appDefault.call, 'WCS\'s other spelling too');
    assert.deepEqual(mirrored({ call: {} }).call, appDefault.call, 'fields the page leaves out keep the app default');
  });

  it('tightening values take effect: FAIL, a hook switched on, more fields overwritten or hidden from the page', () => {
    const app = parseRestClientConfig({ hold: { restPolicy: 'DISABLE' }, call: { clientExclude: 'sipMessageRaw' } });
    assert.deepEqual(
      mirrored({ answer: { restOnError: 'FAIL' }, hold: { restPolicy: 'NOTIFY' }, call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee', clientExclude: 'caller' } }, app),
      {
        answer: { restOnError: 'FAIL' },
        hold: { restPolicy: 'NOTIFY' },
        call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee', clientExclude: 'sipMessageRaw,caller' },
      },
    );
  });

  it('a value the backend adds or changes is its own decision and takes full effect', () => {
    const page = { call: { restPolicy: 'DISABLE', restOnError: 'FAIL' } };
    const answer = parseRestClientConfig({ call: { restPolicy: 'DISABLE', restOnError: 'LOG', restExclude: '' }, hold: { restPolicy: 'DISABLE' } });
    assert.deepEqual(sessionRestClientConfig(appDefault, page, answer), {
      // restOnError changed and restExclude added by the backend take effect; restPolicy merely repeated: the app's stays
      call: { ...appDefault.call, restOnError: 'LOG', restExclude: '' },
      hold: { restPolicy: 'DISABLE' },
    });
    assert.deepEqual(sessionRestClientConfig(appDefault, undefined, parseRestClientConfig(page)).call, { restPolicy: 'DISABLE', restOnError: 'FAIL' }, 'the page sent none: all the backend\'s');
    // a page entry that is not valid counts as not sent
    const disabling = parseRestClientConfig({ call: { restPolicy: 'DISABLE' } });
    assert.deepEqual(sessionRestClientConfig(appDefault, { call: { restPolicy: 'DISABLE', restOnError: 'SOMETIMES' } }, disabling).call, { restPolicy: 'DISABLE' });
    assert.deepEqual(sessionRestClientConfig(appDefault, 'DISABLE', disabling).call, { restPolicy: 'DISABLE' });
  });
});

const app = (over: Partial<App> = {}): App => ({
  name: 'a', appKey: 'a', url: 'http://example.test/rest', signature: 'callhook', restClientConfig: {}, methods: [], ...over,
});

describe('the hook request', () => {
  it('POSTs to <app url>/<method>, exact case, no doubled slash, query kept', () => {
    assert.equal(hookUrl('http://example/rest', 'connect'), 'http://example/rest/connect');
    assert.equal(hookUrl('http://example/rest/', 'OnCallEvent'), 'http://example/rest/OnCallEvent');
    assert.equal(hookUrl('https://example:8443', 'call'), 'https://example:8443/call');
    assert.equal(hookUrl('http://example/rest?token=1', 'call'), 'http://example/rest/call?token=1');
  });

  it('sends JSON with the fixed headers and no auth when the app has none', () => {
    const req = buildHookRequest(app(), 'connect', { nodeId: 'n', b: 'ü' }, { userAgent: 'callhook/1.2.3' });
    assert.equal(req.rawBody, '{"nodeId":"n","b":"ü"}');
    assert.deepEqual(req.headers, {
      'Content-Type': 'application/json; charset=UTF-8',
      Accept: 'application/json',
      'User-Agent': 'callhook/1.2.3',
      'Content-Length': String(Buffer.byteLength(req.rawBody)),
    });
  });

  it('HTTP Basic from restUsername/restPassword (RFC 7617, UTF-8)', () => {
    const req = buildHookRequest(app({ restUsername: 'user', restPassword: 'pä:ss' }), 'call', {}, { userAgent: 'x' });
    assert.equal(req.headers['Authorization'], `Basic ${Buffer.from('user:pä:ss').toString('base64')}`);
  });

  it('signs with X-Callhook-Signature, and in wcs mode also with Authorization: WCS', () => {
    const now = 1_700_000_000_000;
    const plain = buildHookRequest(app({ restSecret: 'k' }), 'call', { a: 1 }, { userAgent: 'x', now });
    assert.deepEqual(verifySignature(plain.rawBody, plain.headers['X-Callhook-Signature'], 'k', { now }), { ok: true });
    assert.equal(plain.headers['Authorization'], undefined);
    const wcs = buildHookRequest(app({ restSecret: 'k', signature: 'wcs' }), 'call', { a: 1 }, { userAgent: 'x', now });
    assert.deepEqual(verifyWcsSignature(wcs.rawBody, wcs.headers['Authorization'], 'k'), { ok: true });
    assert.deepEqual(verifySignature(wcs.rawBody, wcs.headers['X-Callhook-Signature'], 'k', { now }), { ok: true });
  });

  it('never puts a CR/LF into a header, even from a value that bypassed validation', () => {
    assert.throws(
      () => buildHookRequest(app(), 'call', {}, { userAgent: 'callhook\r\nX-Injected: 1' }),
      (e: unknown) => e instanceof HookError && e.code === 'UNSAFE_HEADER_VALUE' && /User-Agent/.test(e.message),
    );
    // a username with CR/LF can only reach a header base64-encoded
    const req = buildHookRequest(app({ restUsername: 'u\r\nX-Injected: 1', restPassword: 'p' }), 'call', {}, { userAgent: 'x' });
    assert.match(req.headers['Authorization']!, /^Basic [A-Za-z0-9+/=]+$/);
  });
});

function response(status: number, bodyText: string, statusText = '', headers: Record<string, string> = {}): HookHttpResult {
  return { kind: 'response', status, statusText, headers, bodyText, latencyMs: 1 };
}

/** The client's `info` of an interaction error (fails the test on acceptance). */
function infoOf(r: ReturnType<typeof interpret>): string {
  assert.equal(r.ok, false, 'expected an interaction error');
  return r.ok ? '' : r.info;
}

describe('reading the answer', () => {
  it('200 with a JSON object is accepted', () => {
    assert.deepEqual(interpret(response(200, '{"a":1}')), { ok: true, status: 200, json: { a: 1 } });
  });

  it('200 with a body that is not a JSON object is an interaction error naming the problem', () => {
    assert.match(infoOf(interpret(response(200, 'hello world'))), /^REST response is not JSON \(.+\): "hello world"$/);
    assert.equal(infoOf(interpret(response(200, ''))), 'REST response is empty; expected a JSON object');
    assert.equal(infoOf(interpret(response(200, '[1]'))), 'REST response is JSON but not an object');
    const deep = '{"custom":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}';
    assert.equal(infoOf(interpret(response(200, deep))), `REST response is refused: JSON nested deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
    const ok = '{"custom":' + '{"a":'.repeat(DEFAULT_MAX_JSON_DEPTH - 1) + '1' + '}'.repeat(DEFAULT_MAX_JSON_DEPTH - 1) + '}';
    assert.equal(interpret(response(200, ok)).ok, true);
  });

  it('{"status":N,"reason":"…"} gives the reason as info; any other body gives the reason phrase', () => {
    const r = interpret(response(403, '{"status":403,"reason":"Blocked by policy"}', 'Forbidden'));
    assert.deepEqual(r, { ok: false, info: 'Blocked by policy', error: 'HTTP 403 Forbidden: Blocked by policy', httpStatus: 403, unsent: false, outcome: 'http_error' });
    assert.equal(infoOf(interpret(response(403, '{"status":403,"reason":"x","more":1}', 'Forbidden'))), 'Forbidden');
    assert.equal(infoOf(interpret(response(403, '{"status":"403","reason":"x"}', 'Forbidden'))), 'Forbidden');
    assert.equal(infoOf(interpret(response(500, 'oops'))), 'Internal Server Error');
    assert.equal(infoOf(interpret(response(599, ''))), 'HTTP 599');
    assert.equal(infoOf(interpret(response(404, '', 'No Such Hook'))), 'No Such Hook');
    assert.equal(infoOf(interpret(response(201, '{}'))), 'Created', 'only 200 is acceptance');
  });

  it('a redirect is an interaction error naming where it pointed', () => {
    const r = interpret(response(302, '', 'Found', { location: 'http://elsewhere/rest/call' }));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error, 'HTTP 302 Found: redirect to http://elsewhere/rest/call not followed (hooks never follow redirects)');
  });

  it('network errors and timeouts: the error text is the info', () => {
    const refused = interpret({ kind: 'error', error: 'connect ECONNREFUSED 10.0.0.1:80', code: 'ECONNREFUSED', unsent: true, latencyMs: 1 });
    assert.deepEqual(refused, { ok: false, info: 'connect ECONNREFUSED 10.0.0.1:80', error: 'connect ECONNREFUSED 10.0.0.1:80', unsent: true, outcome: 'network_error' });
    const timeout = interpret({ kind: 'error', error: 'REST request timed out after 15000 ms', code: 'TIMEOUT', unsent: false, latencyMs: 1 });
    assert.equal(!timeout.ok && timeout.outcome, 'timeout');
  });
});

describe('event delivery backoff (docs/hooks.md "Events": from 250 ms, capped at 60 s)', () => {
  it('doubles from 250 ms per failed attempt up to 60 s, and stays there', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50, 10_000].map((n) => backoffDelay(n, DEFAULT_BACKOFF_MIN_MS, DEFAULT_BACKOFF_MAX_MS));
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });
});
