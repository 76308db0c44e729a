/**
 * A hook body as the hook log keeps it (src/hooks/hook-log-body.ts, src/log.ts redactJsonText): secrets redacted at
 * any depth and inside text values, bodies that are not JSON or nest too deep redacted as text, and the cut at the
 * limit never inside a character.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logBody } from '../../src/hooks/hook-log-body.ts';

describe('hook log bodies', () => {
  it('a body without secrets is kept as it is, byte for byte', () => {
    const text = '{ "status": "ESTABLISHED",  "info": "Connected" }';
    assert.equal(logBody(text, 4096), text);
  });

  it('secret keys at any depth and in arrays; credentials and SRTP keys inside text values', () => {
    const body = {
      sipPassword: 'p1', list: [{ restSecret: 's1', keep: 1 }], nested: { deeper: { accessToken: { v: 't1' } } }, Authorization: 'Basic x',
      sipMessageRaw: 'REGISTER sip:a SIP/2.0\r\nAuthorization: Digest username="a", response="d1"\r\n\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:k1|2^20\r\n',
    };
    const logged = JSON.parse(logBody(JSON.stringify(body), 4096)) as typeof body & { nested: { deeper: { accessToken: unknown } } };
    assert.deepEqual(
      [logged.sipPassword, logged.list, logged.nested.deeper.accessToken, logged.Authorization],
      ['[redacted]', [{ restSecret: '[redacted]', keep: 1 }], '[redacted]', '[redacted]'],
    );
    assert.equal(logged.sipMessageRaw, 'REGISTER sip:a SIP/2.0\r\nAuthorization: Digest [redacted]\r\n\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^20\r\n');
    // A backend's `__proto__` key stays a field of its own, redacted like any other (the body is walked in place).
    assert.equal(logBody('{"__proto__":{"sipPassword":"p3","keep":"k"},"token":null}', 4096), '{"__proto__":{"sipPassword":"[redacted]","keep":"k"},"token":null}');
  });

  it('a body that is not JSON is redacted as text; JSON nested deeper than 32 levels, which cannot be walked, is not kept', () => {
    assert.equal(logBody('oops\nAuthorization: Bearer abc', 4096), 'oops\nAuthorization: Bearer [redacted]');
    const deep = `${'['.repeat(40)}{"sipPassword":"p2"}${']'.repeat(40)}`;
    assert.equal(logBody(deep, 4096), '[not kept: JSON nested deeper than 32 levels]');
  });

  it('a long body is cut at the limit, never inside a character, and says how big it was', () => {
    const text = `"${'€'.repeat(100)}"`; // 1 + 300 + 1 bytes
    const [kept, note] = logBody(text, 100).split('\n');
    assert.equal(kept, `"${'€'.repeat(33)}`);
    assert.equal(note, '… [truncated: 302 bytes in all, the first 100 kept (hookLogMaxBodyBytes)]');
  });
});
