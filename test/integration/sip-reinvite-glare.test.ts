/**
 * Re-INVITE glare (RFC 3261 §14.1, §14.2) between two callhook UAs on 127.0.0.1 that share a fake clock
 * (test/support/fake-clock.ts): both re-INVITE at once, each answers the other's with 491, and each re-tries after
 * its §14.1 back-off — the owner of the Call-ID (the caller) after 2.1-4 s, the other side after 0-2 s. The
 * seconds pass on the fake clock, so the test takes well under one of real time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../support/fake-clock.ts';
import { LoopbackPhone } from '../support/loopback-phone.ts';
import { reinviteBoth, SessionEvents, testSdp } from '../support/session-events.ts';

/**
 * Fake time the in-process exchange itself may take on top of a back-off: the 491 and the re-try each cross the
 * loopback in an event-loop turn or two, and the clock moves 5 ms a turn.
 */
const SLACK_MS = 100;

describe('re-INVITE glare between two UAs on a fake clock (RFC 3261 §14.1)', () => {
  const clock = new FakeClock();
  let alice: LoopbackPhone;
  let bob: LoopbackPhone;
  before(async () => {
    alice = await LoopbackPhone.start({ clock });
    bob = await LoopbackPhone.start({ clock });
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
  });

  it('both get 491; the callee re-tries within 0-2 s and is answered, the caller (Call-ID owner) within 2.1-4 s', async () => {
    /** Fake times at which each side was asked for an answer to a re-offer. */
    const offersAt = { alice: [] as number[], bob: [] as number[] };
    const aliceEvents = new SessionEvents(() => {
      offersAt.alice.push(clock.now());
      return testSdp(42000, 'sendrecv', 3);
    });
    const bobEvents = new SessionEvents(() => {
      offersAt.bob.push(clock.now());
      return testSdp(42002, 'sendrecv', 3);
    });
    const { inviter: call, invitation } = await alice.call(bob, aliceEvents, bobEvents);

    const started = clock.now();
    const { responses: [fromAlice, fromBob], elapsed } = await reinviteBoth(
      clock, [call, testSdp(42000, 'sendonly', 2)], [invitation, testSdp(42002, 'sendonly', 2)],
    );
    assert.equal(fromAlice.status, 200);
    assert.equal(fromBob.status, 200);
    // Each side was asked once, for the other's re-try: the first two re-INVITEs crossed and got 491 (§14.2).
    assert.equal(offersAt.alice.length, 1, 'bob re-tried once');
    assert.equal(offersAt.bob.length, 1, 'alice re-tried once');
    const bobRetry = offersAt.alice[0]! - started;
    const aliceRetry = offersAt.bob[0]! - started;
    assert.ok(bobRetry <= 2000 + SLACK_MS, `the callee re-tried after ${bobRetry} ms`);
    assert.ok(aliceRetry >= 2100 && aliceRetry <= 4000 + SLACK_MS, `the Call-ID owner re-tried after ${aliceRetry} ms`);
    assert.ok(elapsed < 4000 + 2 * SLACK_MS, `both answered after ${elapsed} ms of fake time`);

    await call.bye();
    assert.equal((await bobEvents.waitFor('terminated')).cause, 'remote-bye');
    assert.equal(alice.ua.dialogs.dialogCount + bob.ua.dialogs.dialogCount, 0);
  });
});
