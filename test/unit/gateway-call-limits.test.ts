/**
 * CallLimits (src/gateway/call-limits.ts): calls per session, per client IP address, and calls placed per minute per
 * address, with the clock passed in. End to end against a real server: test/integration/call-limits.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallLimits } from '../../src/gateway/call-limits.ts';

const A = '192.0.2.1';
const B = '192.0.2.2';

function limits(settings: Partial<{ maxCallsPerSession: number; maxCallsPerIp: number; callsPerIpPerMinute: number }> = {}) {
  const clock = { now: 0 };
  const l = new CallLimits({ maxCallsPerSession: 4, maxCallsPerIp: 100, callsPerIpPerMinute: 120, ...settings }, () => clock.now);
  return { l, clock };
}

describe('CallLimits', () => {
  it('refuses a call of a session that has maxCallsPerSession, naming the setting', () => {
    const { l } = limits({ maxCallsPerSession: 2 });
    assert.equal(l.admit(A, 1, true), undefined);
    assert.equal(l.admit(A, 2, true), 'too many calls in this session (the limit is 2: maxCallsPerSession)');
    assert.equal(l.admit(A, 2, false), 'too many calls in this session (the limit is 2: maxCallsPerSession)');
  });

  it('counts the calls of an address until released, incoming ones too; other addresses apart', () => {
    const { l } = limits({ maxCallsPerIp: 2 });
    assert.equal(l.admit(A, 0, true), undefined);
    assert.equal(l.admit(A, 0, false), undefined);
    assert.equal(l.admit(A, 0, true), `too many calls from ${A} (the limit is 2: maxCallsPerIp)`);
    assert.equal(l.admit(B, 0, true), undefined);
    l.release(A);
    assert.equal(l.admit(A, 0, true), undefined);
  });

  it('lets an address place a burst of callsPerIpPerMinute, then one every 60/n s; incoming calls are not rate-limited', () => {
    const { l, clock } = limits({ callsPerIpPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      assert.equal(l.admit(A, 0, true), undefined);
      l.release(A);
    }
    const refusal = `too many new calls from ${A} (the limit is 3 a minute: callsPerIpPerMinute)`;
    assert.equal(l.admit(A, 0, true), refusal);
    assert.equal(l.admit(A, 0, false), undefined);
    clock.now = 19_999;
    assert.equal(l.admit(A, 0, true), refusal);
    clock.now = 20_000;
    assert.equal(l.admit(A, 0, true), undefined);
    assert.equal(l.admit(B, 0, true), undefined);
  });

  it('forgets an address without calls once its minute is over: a later burst is allowed in full', () => {
    const { l, clock } = limits({ callsPerIpPerMinute: 2 });
    assert.equal(l.admit(A, 0, true), undefined);
    assert.equal(l.admit(A, 0, true), undefined);
    l.release(A);
    l.release(A);
    clock.now = 60_000;
    assert.equal(l.admit(B, 0, true), undefined); // sweeps A
    assert.equal(l.admit(A, 0, true), undefined);
    assert.equal(l.admit(A, 0, true), undefined);
  });
});
