/**
 * RFC 4028 session timers (src/sip/ua/session-timer.ts) on a fake clock: the UAS's choice of refresher and its 422,
 * the UAC's headers before and after a 422 and in a refresh, and the §10 times — the refresh at half the interval,
 * the BYE at the last third or 32 s before the end, whichever is lower — to the millisecond.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerGroup } from '../../src/clock.ts';
import { Headers, SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import { decideAsUas, expiryMs, SessionTimer, uasResponseHeaders } from '../../src/sip/ua/session-timer.ts';
import { FakeClock } from '../support/fake-clock.ts';

const SETTINGS = { sessionExpiresS: 1800, minSeS: 90 };

function invite(headers: Record<string, string>): SipRequest {
  const h = new Headers();
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  return new SipRequest('INVITE', parseUri('sip:alice@example.com'), h);
}

function response(status: number, headers: Record<string, string>): SipResponse {
  const h = new Headers();
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  return new SipResponse(status, 'x', h);
}

function timer(settings = SETTINGS) {
  const clock = new FakeClock();
  const fired: string[] = [];
  const t = new SessionTimer(settings, {
    timers: new TimerGroup(clock),
    refresh: () => fired.push(`refresh@${clock.now()}`),
    expire: () => fired.push(`expire@${clock.now()}`),
  });
  return { clock, fired, t };
}

describe('RFC 4028 session timers', () => {
  it('UAS (§9): 422 below Min-SE; the refresher asked for, else the UAC when it supports timers, else us', () => {
    assert.deepEqual(decideAsUas(invite({}), SETTINGS), { kind: 'none' });
    assert.deepEqual(decideAsUas(invite({ 'Session-Expires': '60' }), SETTINGS), { kind: 'too-small', minSeS: 90 });
    assert.deepEqual(decideAsUas(invite({ 'Session-Expires': '1800', Supported: 'replaces, timer' }), SETTINGS), {
      kind: 'timer', expires: { intervalS: 1800, refresher: 'uac' },
    });
    assert.deepEqual(decideAsUas(invite({ 'Session-Expires': '1800' }), SETTINGS), { kind: 'timer', expires: { intervalS: 1800, refresher: 'uas' } });
    assert.deepEqual(decideAsUas(invite({ 'Session-Expires': '900;refresher=uas', Supported: 'timer' }), SETTINGS), {
      kind: 'timer', expires: { intervalS: 900, refresher: 'uas' },
    });
    assert.throws(() => decideAsUas(invite({ 'Session-Expires': 'soon' }), SETTINGS), /invalid Session-Expires/);
    assert.deepEqual(uasResponseHeaders({ intervalS: 90, refresher: 'uac' }), [
      { name: 'Session-Expires', value: '90;refresher=uac' },
      { name: 'Require', value: 'timer' },
    ]);
    assert.deepEqual(uasResponseHeaders({ intervalS: 90, refresher: 'uas' }), [{ name: 'Session-Expires', value: '90;refresher=uas' }]);
  });

  it('§10: the BYE at the last third of the interval or 32 s before its end, whichever is lower', () => {
    assert.equal(expiryMs(1800), 1_768_000);
    assert.equal(expiryMs(90), 60_000);
    assert.equal(expiryMs(3), 2_000);
  });

  it('UAC: Supported, Session-Expires and Min-SE; a 422 raises both; the refresh names the refresher (§7.4)', () => {
    const { t } = timer();
    assert.deepEqual(t.requestHeaders(), [
      { name: 'Supported', value: 'timer' },
      { name: 'Session-Expires', value: '1800' },
      { name: 'Min-SE', value: '90' },
    ]);
    assert.equal(t.tooSmall(response(422, { 'Min-SE': '60' })), undefined, 'no smaller than what was asked: not sent again');
    assert.deepEqual(t.tooSmall(response(422, { 'Min-SE': '3600' })), [
      { name: 'Session-Expires', value: '3600' },
      { name: 'Min-SE', value: '3600' },
    ]);
    t.negotiatedAsUac(response(200, { 'Session-Expires': '3600;refresher=uac', Require: 'timer' }));
    assert.deepEqual(t.requestHeaders().find((h) => h.name === 'Session-Expires'), { name: 'Session-Expires', value: '3600;refresher=uac' });
    t.stop();
  });

  it('as refresher: a refresh at half the interval; each 2xx restarts it; without one, the expiry', () => {
    const { clock, fired, t } = timer();
    t.negotiatedAsUac(response(200, { 'Session-Expires': '90;refresher=uac' }));
    clock.advance(44_999);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, ['refresh@45000']);
    // The refresh's 2xx: the interval starts again.
    t.negotiatedAsUac(response(200, { 'Session-Expires': '90;refresher=uac' }));
    clock.advance(45_000);
    assert.deepEqual(fired, ['refresh@45000', 'refresh@90000']);
    // No 2xx this time: the session expires 60 s after the last one.
    clock.advance(15_000);
    assert.deepEqual(fired, ['refresh@45000', 'refresh@90000', 'expire@105000']);
  });

  it('not refresher: no refresh of ours, the expiry unless the far end refreshes; a 2xx without Session-Expires stops it', () => {
    const { clock, fired, t } = timer();
    t.negotiatedAsUas({ kind: 'timer', expires: { intervalS: 90, refresher: 'uac' } });
    clock.advance(59_000);
    t.negotiatedAsUas({ kind: 'timer', expires: { intervalS: 90, refresher: 'uac' } });
    clock.advance(60_000);
    assert.deepEqual(fired, ['expire@119000']);
    t.negotiatedAsUac(response(200, {}));
    clock.advance(600_000);
    assert.deepEqual(fired, ['expire@119000']);
    assert.equal(clock.pendingCount, 0);
  });
});
