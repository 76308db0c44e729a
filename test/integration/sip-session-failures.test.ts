/**
 * Failure containment in INVITE sessions (src/sip/ua/invite-session.ts): an expected condition is answered as the
 * RFC says and the call goes on — an offer the application refuses gets 488 with a Warning (RFC 3261 §21.4.26,
 * §20.43); a programming error — a TypeError in the offer handler, an exception from the event handler in work
 * nobody awaits — is logged with its stack and ends its own call alone (`internal-error`, 500 / BYE), never an
 * unhandled rejection. Two UAs on 127.0.0.1 (test/support/loopback-phone.ts), and sipp as a caller that never ACKs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { NoCommonCodecError } from '../../src/media/index.ts';
import { getCSeq } from '../../src/sip/message/headers.ts';
import { InviteSessionState } from '../../src/sip/ua/index.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { LoopbackPhone } from '../support/loopback-phone.ts';
import { SessionEvents, testSdp } from '../support/session-events.ts';
import { runSipp, scenarioFile } from '../support/sipp.ts';

/** A pino destination that keeps every record, for what a UA logged. */
class LogRecords {
  readonly records: Array<{ level: number; msg: string; err?: { type: string; message: string; stack: string } }> = [];
  write(line: string): void {
    this.records.push(JSON.parse(line));
  }

  get errors() {
    return this.records.filter((r) => r.level >= 50);
  }
}

describe('failures in INVITE sessions between two UAs', () => {
  const bobLog = new LogRecords();
  let alice: LoopbackPhone;
  let bob: LoopbackPhone;
  before(async () => {
    alice = await LoopbackPhone.start();
    bob = await LoopbackPhone.start({ logger: createLogger('info', bobLog) });
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
  });

  it('an offer the application refuses (an expected failure) gets 488 with a Warning naming why, and the call goes on', async () => {
    const aliceEvents = new SessionEvents();
    const bobEvents = new SessionEvents(() => {
      throw new NoCommonCodecError('offered: opus only');
    });
    const { inviter, invitation } = await alice.call(bob, aliceEvents, bobEvents);
    const response = await inviter.reinvite(testSdp(42000, 'sendonly', 2));
    assert.equal(response.status, 488);
    // RFC 3261 §20.43: warn-code 399, warn-agent (our Contact's host:port), warn-text.
    assert.equal(response.headers.get('Warning'), `399 127.0.0.1:${bob.port} "No common codecs"`);
    assert.equal(inviter.state, InviteSessionState.Established);
    assert.equal(invitation.state, InviteSessionState.Established, 'the session goes on as before (§14.2)');
    assert.equal(bobLog.errors.length, 0, 'an expected condition is not an error');
    await inviter.bye();
    assert.equal((await bobEvents.waitFor('terminated')).cause, 'remote-bye');
  });

  it('a TypeError in the offer handler is logged with its stack, answered 500, and ends that call alone with BYE', async () => {
    const aliceEvents = new SessionEvents();
    const bobEvents = new SessionEvents((offer) => {
      // A programming error: reading a property of what is not there.
      return (undefined as unknown as { answer(o: Buffer): Buffer }).answer(offer);
    });
    const otherAlice = new SessionEvents();
    const otherBob = new SessionEvents(() => testSdp(42002, 'recvonly', 2));
    const { inviter, invitation } = await alice.call(bob, aliceEvents, bobEvents);
    const other = await alice.call(bob, otherAlice, otherBob);

    const response = await inviter.reinvite(testSdp(42000, 'sendonly', 2));
    assert.equal(response.status, 500, 'RFC 3261 §21.5.1');
    const ended = await bobEvents.waitFor('terminated');
    assert.equal(ended.cause, 'internal-error');
    assert.equal(invitation.state, InviteSessionState.Terminated);
    const byBob = await aliceEvents.waitFor('terminated');
    assert.equal(byBob.cause, 'remote-bye', 'the far end was told with a BYE');
    assert.equal(getCSeq(byBob.message!).method, 'BYE');
    const [logged] = bobLog.errors;
    assert.equal(logged?.err?.type, 'TypeError');
    assert.match(logged?.err?.stack ?? '', /TypeError: Cannot read properties of undefined[\s\S]*\n\s+at /);

    // The other call on the same UAs is untouched and still takes a re-INVITE.
    assert.equal(other.invitation.state, InviteSessionState.Established);
    assert.equal((await other.inviter.reinvite(testSdp(42000, 'sendonly', 3))).status, 200);
    await other.inviter.bye();
    await otherBob.waitFor('terminated');
  });
});

describe('an exception from the event handler in work nobody awaits', () => {
  it('is logged, not an unhandled rejection: the BYE after an unACKed 2xx ends the call (RFC 3261 §13.3.1.4)', async () => {
    const clock = new FakeClock();
    const log = new LogRecords();
    const phone = await LoopbackPhone.start({ clock, logger: createLogger('info', log) });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const seen: string[] = [];
      const accepted = new Promise<void>((resolve) => {
        phone.onNextInvite((invitation) => {
          invitation.delegate = {
            onEvent: (event) => {
              seen.push(event.type === 'terminated' ? `terminated ${event.cause}` : event.type);
              if (event.type === 'terminated') throw new Error('the application failed on terminated');
            },
          };
          invitation.accept(testSdp(42002));
          resolve();
        });
      });
      const sipp = await runSipp({
        scenarioFile: scenarioFile('uac-invite-no-ack'),
        mode: 'uac',
        transport: 'u1',
        remote: { host: '127.0.0.1', port: phone.port },
        service: phone.binding.user,
        timeoutMs: 15_000,
      });
      await accepted;
      // Timer H (64*T1 = 32 s): no ACK came; the UAS core "SHOULD generate a BYE request" (§13.3.1.4).
      clock.advance(32_000);
      await clock.runUntil(() => seen.includes('terminated ack-timeout'), 5_000);
      assert.deepEqual(seen, ['terminated ack-timeout']);
      // Let any rejection of the BYE's unawaited promise surface before looking.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
      assert.ok(log.errors.some((r) => r.err?.message === 'the application failed on terminated'), 'logged with the error');
      const result = await sipp.done;
      assert.equal(result.code, 0, `sipp got its BYE: ${result.stderr}${result.errors}`);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await phone.close();
    }
  });
});
