/**
 * Hook signatures (docs/hooks.md "The request"): X-Callhook-Signature (HMAC-SHA256 over "<t>.<raw body>",
 * 5-minute tolerance) and WCS's `Authorization: WCS <HMAC-MD5(secret, body)>` (docs/hooks.md "The request").
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signCallhook, signWcs, verifySignature, verifyWcsSignature } from '../../src/hooks/signature.ts';

const body = '{"nodeId":"n@1","appKey":"a","sessionId":"/1:2/3:4","sipLogin":"alice"}';
const secret = 's3cret';
const t = 1_700_000_000;
const now = t * 1000;

describe('X-Callhook-Signature', () => {
  it('is t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    assert.equal(signCallhook(body, secret, t), `t=${t},v1=${expected}`);
  });

  it('verifies a signature made by signCallhook', () => {
    assert.deepEqual(verifySignature(body, signCallhook(body, secret, t), secret, { now }), { ok: true });
    assert.deepEqual(verifySignature(Buffer.from(body), signCallhook(body, secret, t), secret, { now }), { ok: true });
  });

  it('rejects a tampered body, a tampered MAC, a tampered timestamp and a wrong secret', () => {
    const header = signCallhook(body, secret, t);
    assert.deepEqual(verifySignature(body.replace('alice', 'mallory'), header, secret, { now }), { ok: false, reason: 'mismatch' });
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    assert.deepEqual(verifySignature(body, flipped, secret, { now }), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignature(body, header.replace(`t=${t}`, `t=${t + 1}`), secret, { now }), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignature(body, header, 'other', { now }), { ok: false, reason: 'mismatch' });
  });

  it('rejects a timestamp outside the tolerance (default 300 s) either way', () => {
    const header = signCallhook(body, secret, t);
    assert.deepEqual(verifySignature(body, header, secret, { now: now + 300_000 }), { ok: true });
    assert.deepEqual(verifySignature(body, header, secret, { now: now + 301_000 }), { ok: false, reason: 'expired' });
    assert.deepEqual(verifySignature(body, header, secret, { now: now - 301_000 }), { ok: false, reason: 'expired' });
    assert.deepEqual(verifySignature(body, header, secret, { now: now + 20_000, toleranceSec: 10 }), { ok: false, reason: 'expired' });
  });

  it('accepts any of several v1 entries (secret rotation)', () => {
    const other = signCallhook(body, 'old', t).split(',')[1];
    const header = `${signCallhook(body, secret, t)},${other}`;
    assert.deepEqual(verifySignature(body, header, 'old', { now }), { ok: true });
    assert.deepEqual(verifySignature(body, header, secret, { now }), { ok: true });
  });

  it('names a missing or malformed header', () => {
    assert.deepEqual(verifySignature(body, undefined, secret, { now }), { ok: false, reason: 'missing' });
    assert.deepEqual(verifySignature(body, '', secret, { now }), { ok: false, reason: 'missing' });
    for (const bad of ['garbage', `t=${t}`, 'v1=' + 'a'.repeat(64), `t=abc,v1=${'a'.repeat(64)}`, `t=${t},v1=xyz`, `t=${t},t=${t},v1=${'a'.repeat(64)}`]) {
      assert.deepEqual(verifySignature(body, bad, secret, { now }), { ok: false, reason: 'malformed' }, bad);
    }
  });
});

describe('WCS Authorization signature', () => {
  it('is "WCS " + hex HMAC-MD5(secret, raw body)', () => {
    assert.equal(signWcs(body, secret), `WCS ${createHmac('md5', secret).update(body).digest('hex')}`);
  });

  it('verifies, and rejects tampering, a wrong secret and bad headers', () => {
    const header = signWcs(body, secret);
    assert.deepEqual(verifyWcsSignature(body, header, secret), { ok: true });
    assert.deepEqual(verifyWcsSignature(body + ' ', header, secret), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifyWcsSignature(body, header, 'other'), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifyWcsSignature(body, 'Basic abc', secret), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifyWcsSignature(body, undefined, secret), { ok: false, reason: 'missing' });
  });
});
