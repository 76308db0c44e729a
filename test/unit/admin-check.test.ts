/**
 * How `check app` explains each failure: the pure explainers behind the steps, for the cases a loopback test
 * cannot produce (a filtered port, expired or wrong-name certificates, slow answers, redirects).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { explainConnectError, explainProbe, explainTlsError, SLOW_SHARE } from '../../src/admin/check-app.ts';
import type { HookHttpResult } from '../../src/hooks/http.ts';

describe('TCP connect', () => {
  test('refused reads as a closed port, a timeout as a firewall filtering it', () => {
    const refused = explainConnectError('ECONNREFUSED', '10.0.0.1:80', 80, 5000, 'connect ECONNREFUSED');
    assert.match(refused.detail, /refused the connection: the port is closed/);
    assert.match(refused.advice, /start the backend/);
    const filtered = explainConnectError('ETIMEDOUT', '10.0.0.1:80', 80, 5000, 'timed out');
    assert.match(filtered.detail, /did not answer within 5000 ms: the port is filtered by a firewall/);
    assert.match(filtered.advice, /open port 80/);
  });

  test('unreachable networks and unknown errors are named', () => {
    assert.match(explainConnectError('EHOSTUNREACH', 'h:1', 1, 1, '').detail, /no route to h:1 \(EHOSTUNREACH\)/);
    assert.match(explainConnectError('EWEIRD', 'h:1', 1, 1, 'something odd').detail, /something odd/);
  });
});

describe('TLS handshake', () => {
  const cases: Array<[string, RegExp, RegExp]> = [
    ['CERT_HAS_EXPIRED', /has expired/, /renew/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /self-signed/, /NODE_EXTRA_CA_CERTS/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /self-signed/, /NODE_EXTRA_CA_CERTS/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /cannot be verified/, /full chain/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /not valid for api\.example/, /host name the certificate names/],
    ['CERT_NOT_YET_VALID', /not valid yet/, /clocks/],
  ];
  for (const [code, detail, advice] of cases) {
    test(code, () => {
      const r = explainTlsError(code, 'api.example', 'x');
      assert.match(r.detail, detail);
      assert.match(r.advice, advice);
    });
  }

  test('a plain-HTTP port behind an https URL', () => {
    const r = explainTlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'h', 'ssl3_get_record:wrong version number');
    assert.match(r.detail, /does not speak TLS/);
    assert.match(r.advice, /use http:\/\//);
  });
});

describe('probe answers', () => {
  const url = 'http://h/rest/connect';
  const response = (status: number, bodyText: string, extra: Partial<Extract<HookHttpResult, { kind: 'response' }>> = {}): HookHttpResult => ({
    kind: 'response',
    status,
    statusText: '',
    headers: { 'content-type': 'application/json' },
    bodyText,
    latencyMs: 3,
    ...extra,
  });
  const explain = (r: HookHttpResult) => explainProbe('k', 'connect', url, r, 1000);

  test('200 with a JSON object is ok', () => {
    const s = explain(response(200, '{"a":1}', { statusText: 'OK' }));
    assert.equal(s.ok, true);
    assert.equal(s.advice, undefined);
    assert.equal(s.detail, `POST ${url} → 200 OK in 3 ms`);
  });

  test('each failure says what is wrong and what to do', () => {
    const cases: Array<[HookHttpResult, RegExp, RegExp]> = [
      [response(404, ''), /no handler for \/connect/, /remove app-rest-method k connect/],
      [response(401, ''), /refused the request's authentication/, /restUsername\/restPassword or restSecret/],
      [response(403, '{"status":403,"reason":"no"}'), /authentication/, /restSecret/],
      [response(405, ''), /does not accept POST/, /accept POST/],
      [response(302, '', { headers: { location: 'http://h/login' } }), /redirected to http:\/\/h\/login; callhook does not follow redirects/, /final location/],
      [response(503, ''), /handler for \/connect failed/, /logs/],
      [response(204, ''), /only with 200 and a JSON body/, /answer 200/],
      [response(200, '<html>hi</html>', { headers: { 'content-type': 'text/html' } }), /not JSON \(text\/html: "<html>hi<\/html>"\)/, /mirror/],
      [response(200, '[1,2]'), /JSON but not an object/, /JSON object/],
      [response(200, `{"a":${'['.repeat(40)}${']'.repeat(40)}}`), /nests JSON deeper than 32 levels, more than callhook accepts/, /at most 32 levels/],
      [response(200, '{}', { latencyMs: 1000 * SLOW_SHARE + 1 }), /close to restRequestTimeoutMs \(1000 ms\)/, /faster/],
      [{ kind: 'error', code: 'TIMEOUT', error: 'timed out', unsent: false, latencyMs: 1000 }, /no answer within 1000 ms/, /too slow/],
      [{ kind: 'error', code: 'TOO_LARGE', error: 'REST response body is larger than 1048576 bytes', unsent: false, latencyMs: 5 }, /larger than 1048576/, /mirror/],
      [{ kind: 'error', code: 'ECONNRESET', error: 'socket hang up', unsent: true, latencyMs: 5 }, /failed: socket hang up/, /keeps running/],
    ];
    for (const [result, detail, advice] of cases) {
      const s = explain(result);
      assert.equal(s.ok, false, s.detail);
      assert.equal(s.step, 'probe');
      assert.equal(s.method, 'connect');
      assert.match(s.detail, detail);
      assert.match(s.advice ?? '', advice);
    }
  });
});
