/** The admin server's pieces without a socket: routing, input schemas, the token. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Router, route, validate } from '../../src/admin/router.ts';
import { MethodNotAllowedError } from '../../src/admin/errors.ts';
import { appPatchBody, newAppBody, parseSince } from '../../src/admin/schemas.ts';
import { bearerMatches, loadOrCreateAdminToken, readAdminToken } from '../../src/admin/token.ts';

describe('Router', () => {
  const handler = () => ({ json: null });
  const router = new Router().add(
    route({ method: 'GET', path: '/api/apps', auth: true, handler }),
    route({ method: 'POST', path: '/api/apps', auth: true, handler }),
    route({ method: 'GET', path: '/api/apps/{name}', auth: true, handler }),
    route({ method: 'PUT', path: '/api/apps/{key}/rest-methods/{method}', auth: true, handler }),
  );

  test('matches templates and percent-decodes parameters', () => {
    assert.deepEqual(router.find('GET', '/api/apps/my%20app').params, { name: 'my app' });
    assert.deepEqual(router.find('PUT', '/api/apps/k/rest-methods/%2A').params, { key: 'k', method: '*' });
    assert.equal(router.find('HEAD', '/api/apps').route.method, 'GET');
  });

  test('unknown path is NotFound, known path with another method is MethodNotAllowed', () => {
    assert.throws(() => router.find('GET', '/api/apps/a/b'), { name: 'AdminError', code: 'ADMIN_NOT_FOUND' });
    assert.throws(() => router.find('GET', '/api/apps/'), { name: 'AdminError', code: 'ADMIN_NOT_FOUND' });
    assert.throws(
      () => router.find('DELETE', '/api/apps'),
      (e) => e instanceof MethodNotAllowedError && e.allow.join() === 'GET,POST',
    );
    assert.throws(() => router.find('GET', '/api/apps/%E0%A4%A'), { name: 'AdminError', code: 'ADMIN_BAD_REQUEST' });
  });

  test('a route registered twice is a bug', () => {
    assert.throws(() => router.add(route({ method: 'GET', path: '/api/apps', auth: true, handler })), /registered twice/);
  });

  test('validation errors name the field, unknown fields are named too', () => {
    const schema = z.object({ a: z.number() }).strict();
    assert.throws(() => validate(schema, { a: 'x', b: 1 }, 'body'), (e: Error) => /body\.a: /.test(e.message) && /unknown field "b" in body/.test(e.message));
  });
});

describe('input schemas', () => {
  const app = { name: 'a', appKey: 'k', url: 'http://h/rest' };

  test('a good app passes; URLs must be http(s) without credentials', () => {
    assert.deepEqual(newAppBody.parse(app), app);
    assert.ok(newAppBody.safeParse({ ...app, url: 'https://h:8443/x?y=1' }).success);
    for (const url of ['ftp://h/x', 'javascript:alert(1)', 'http://u:p@h/x', 'http://h/x#f', '/relative', 'http://h/\r\nX: y']) {
      assert.equal(newAppBody.safeParse({ ...app, url }).success, false, url);
    }
  });

  test('control characters are refused in every string field', () => {
    for (const field of ['name', 'appKey', 'restUsername', 'restPassword', 'restSecret']) {
      for (const bad of ['a\rb', 'a\nb', 'a\u0000b', 'a\u0085b', 'a\u2028b']) {
        assert.equal(newAppBody.safeParse({ ...app, [field]: bad }).success, false, `${field} ${JSON.stringify(bad)}`);
      }
    }
  });

  test('a patch may clear credentials with null but must change something', () => {
    assert.ok(appPatchBody.safeParse({ restPassword: null }).success);
    assert.equal(appPatchBody.safeParse({}).success, false);
  });

  test('parseSince: ISO time, epoch ms, and durations back from now', () => {
    const now = Date.UTC(2025, 0, 2);
    assert.equal(parseSince('2025-01-01T00:00:00Z', now), Date.UTC(2025, 0, 1));
    assert.equal(parseSince('2025-01-01', now), Date.UTC(2025, 0, 1));
    assert.equal(parseSince('1700000000000', now), 1_700_000_000_000);
    assert.equal(parseSince(1_700_000_000_000, now), 1_700_000_000_000);
    assert.equal(parseSince('30m', now), now - 30 * 60_000);
    assert.equal(parseSince('2h', now), now - 7_200_000);
    assert.equal(parseSince('7d', now), now - 7 * 86_400_000);
    for (const bad of ['yesterday', 'May', '5x', '', '2025-13-45']) assert.equal(parseSince(bad, now), undefined, bad);
    assert.equal(parseSince(-1, now), undefined);
  });
});

describe('admin token', () => {
  test('generated once into <dataDir>/admin-token with mode 0600, then reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callhook-token-'));
    try {
      const dataDir = join(dir, 'data');
      const token = loadOrCreateAdminToken(dataDir, {});
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      const file = join(dataDir, 'admin-token');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(readFileSync(file, 'utf8').trim(), token);
      assert.equal(loadOrCreateAdminToken(dataDir, {}), token);
      assert.equal(readAdminToken(dataDir, {}), token);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('CALLHOOK_ADMIN_TOKEN wins and no file is written; a bad token is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callhook-token-'));
    try {
      assert.equal(loadOrCreateAdminToken(dir, { CALLHOOK_ADMIN_TOKEN: 'from-env' }), 'from-env');
      assert.equal(readAdminToken(dir, {}), undefined);
      assert.throws(() => readAdminToken(dir, { CALLHOOK_ADMIN_TOKEN: 'two words' }), { name: 'AdminError', code: 'ADMIN_TOKEN' });
      assert.throws(() => readAdminToken(dir, { CALLHOOK_ADMIN_TOKEN: '' }), { name: 'AdminError', code: 'ADMIN_TOKEN' });
      writeFileSync(join(dir, 'admin-token'), '\n');
      assert.throws(() => readAdminToken(dir, {}), /admin-token must be non-empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bearerMatches accepts only "Bearer <the token>"', () => {
    assert.equal(bearerMatches('Bearer abc', 'abc'), true);
    assert.equal(bearerMatches('bearer abc', 'abc'), true);
    assert.equal(bearerMatches('Bearer abcd', 'abc'), false);
    assert.equal(bearerMatches('Bearer ab', 'abc'), false);
    assert.equal(bearerMatches('Basic abc', 'abc'), false);
    assert.equal(bearerMatches('abc', 'abc'), false);
    assert.equal(bearerMatches(undefined, 'abc'), false);
  });
});
