/**
 * INVITE sessions (RFC 3261 §12-§15, RFC 3515, RFC 6086) against sipp as the far end (test/support/sipp/): outgoing
 * calls answered, refused, cancelled, with early media, re-INVITEs both ways, INFO DTMF, blind transfer and the
 * expiry of its subscription (on a fake clock); incoming calls answered, rejected, cancelled by the caller, without
 * SDP, and never ACKed. Each sipp scenario checks what it receives (ereg check_it / expected messages): its exit
 * status 0 is part of every assertion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import {
  Invitation, Inviter, InviteSessionState, TransferStatus, UserAgent, type ContactBinding, type SipAccount,
} from '../../src/sip/ua/index.ts';
import { eventually } from '../support/eventually.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { freePort } from '../support/ports.ts';
import { SessionEvents, testSdp } from '../support/session-events.ts';
import { parseMessageTrace, runSipp, scenarioFile, type SippProcess, type SippResult, type SippTransport } from '../support/sipp.ts';

const SIPP_TIMEOUT_MS = 15_000;

async function startUa(t1 = 500, clock?: Clock): Promise<{ ua: UserAgent; port: number }> {
  const port = await freePort('both');
  const ua = await UserAgent.start({
    listen: [
      { protocol: 'UDP', address: '127.0.0.1', port },
      { protocol: 'TCP', address: '127.0.0.1', port },
    ],
    maxMessageBytes: 65535,
    userAgent: 'callhook-test',
    logger: createLogger('silent'),
    timers: { t1, t2: 8 * t1 },
    ...(clock && { clock }),
  });
  return { ua, port };
}

/** An outgoing call from alice on `ua` to the sipp callee. */
function dial(ua: UserAgent, sipp: SippProcess, events: SessionEvents, transport: 'UDP' | 'TCP' = 'UDP'): Inviter {
  const account: SipAccount = {
    aor: parseUri('sip:alice@callhook.test') as SipUri,
    displayName: 'Alice',
    nextHop: { host: '127.0.0.1', port: sipp.port, transport },
  };
  const params = transport === 'TCP' ? ';transport=tcp' : '';
  return new Inviter(ua, {
    account,
    target: parseUri(`sip:bob@127.0.0.1:${sipp.port}${params}`),
    sdp: testSdp(40000),
    delegate: events.delegate,
  });
}

/** The `transfer` events so far, as `STATUS info`. */
function transfers(events: SessionEvents): string[] {
  return events.events.flatMap((e) => (e.type === 'transfer' ? [`${e.status} ${e.info}`] : []));
}

function uas(name: string, options: { transport?: SippTransport } = {}): Promise<SippProcess> {
  return runSipp({
    scenarioFile: scenarioFile(name),
    mode: 'uas',
    transport: options.transport ?? 'u1',
    extraArgs: ['-rtp_echo'],
    timeoutMs: SIPP_TIMEOUT_MS,
  });
}

/** sipp ran its scenario to the end by itself (a sipp stopped at its timeout exits 0 as well). */
function assertSippOk(result: SippResult): void {
  assert.equal(result.timedOut, false, `sipp did not finish its scenario within ${SIPP_TIMEOUT_MS} ms: ${result.errors}`);
  assert.equal(result.code, 0, `sipp failed (code ${result.code}): ${result.stderr}\n${result.errors}`);
}

describe('outgoing INVITE sessions against a sipp callee', () => {
  let ua: UserAgent;
  before(async () => {
    ({ ua } = await startUa());
  });
  after(async () => {
    await ua?.close();
  });

  function call(sipp: SippProcess, events: SessionEvents, transport: 'UDP' | 'TCP' = 'UDP'): Inviter {
    return dial(ua, sipp, events, transport);
  }

  for (const transport of ['UDP', 'TCP'] as const) {
    it(`is answered (180, 200 with SDP), ACKed, and ended by our BYE over ${transport} (RFC 3261 §13.2.2.4, §15.1.1)`, async () => {
      const sipp = await uas('uas-answer', { transport: transport === 'UDP' ? 'u1' : 't1' });
      const events = new SessionEvents();
      const inviter = call(sipp, events, transport);
      await inviter.invite();
      const established = await events.waitFor('established');
      assert.match(established.sdp?.toString() ?? '', /m=audio \d+ RTP\/AVP 0 101/);
      assert.equal(inviter.state, InviteSessionState.Established);
      await inviter.bye();
      assertSippOk(await sipp.done);
      assert.deepEqual(events.summary().filter((s) => s !== 'provisional 100'), ['provisional 180', 'established', 'terminated local-bye']);
      const end = await events.waitFor('terminated');
      assert.equal(end.info, 'Normal call clearing');
      assert.equal(inviter.state, InviteSessionState.Terminated);
      assert.equal(ua.dialogs.dialogCount, 0, 'dialog released');
      assert.equal(ua.dialogs.sessionCount, 0, 'session released');
    });
  }

  it('ACKs a retransmitted 2xx again, and ACKs then BYEs a 2xx from a second fork (RFC 3261 §13.2.2.4)', async () => {
    const sipp = await uas('uas-2xx-fork');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    await inviter.sendDtmf('1');
    // The fork's ACK and BYE go to the same sipp; wait for its BYE before hanging up ours.
    await eventually(() => parseMessageTrace(sipp.messages()).some((m) => m.direction === 'received' && m.firstLine.startsWith('BYE')), 5000, 'the BYE for the second fork');
    await inviter.bye();
    assertSippOk(await sipp.done);
    assert.deepEqual(events.summary(), ['established', 'terminated local-bye'], 'the fork is not reported');
  });

  it('ends with remote-bye when the callee hangs up (RFC 3261 §15.1.2)', async () => {
    const sipp = await uas('uas-answer-bye');
    const events = new SessionEvents();
    await call(sipp, events).invite();
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'remote-bye');
    assert.equal(end.info, 'Normal call clearing');
    assert.match(end.raw ?? '', /^BYE sip:/);
    assertSippOk(await sipp.done);
  });

  it('ends the call when our BYE is answered 481 (RFC 3261 §15.1.1)', async () => {
    const sipp = await uas('uas-bye-481');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    await inviter.bye();
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'local-bye');
    assert.equal(end.status, 481);
    assert.equal(inviter.state, InviteSessionState.Terminated);
    assertSippOk(await sipp.done);
  });

  for (const [code, reason] of [[486, 'Busy Here'], [404, 'Not Found']] as const) {
    it(`reports a ${code} as rejected with "SIP ${code} ${reason}" and the raw response (RFC 3261 §13.2.2.3)`, async () => {
      const sipp = await uas(`uas-${code}`);
      const events = new SessionEvents();
      await call(sipp, events).invite();
      const end = await events.waitFor('terminated');
      assert.equal(end.cause, 'rejected');
      assert.equal(end.status, code);
      assert.equal(end.info, `SIP ${code} ${reason}`);
      assert.match(end.raw ?? '', new RegExp(`^SIP/2\\.0 ${code} ${reason}\\r\\n`));
      assertSippOk(await sipp.done);
    });
  }

  it('cancels a ringing call: CANCEL after the 180, the INVITE ends with 487 (RFC 3261 §9.1)', async () => {
    const sipp = await uas('uas-ring-no-answer');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('provisional', 5000, (e) => e.response.status === 180);
    inviter.cancel();
    assert.equal(inviter.state, InviteSessionState.Cancelling);
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'cancelled');
    assert.equal(end.status, 487);
    assertSippOk(await sipp.done);
  });

  it('holds a CANCEL asked for before any provisional response until one arrives (RFC 3261 §9.1)', async () => {
    const sipp = await uas('uas-ring-no-answer');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    inviter.cancel();
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'cancelled');
    assert.equal(end.status, 487);
    const result = await sipp.done;
    assertSippOk(result);
    const lines = parseMessageTrace(result.messages).map((m) => `${m.direction} ${m.firstLine.split(' ')[0]}`);
    assert.ok(lines.indexOf('received CANCEL') > lines.indexOf('sent SIP/2.0'), `CANCEL after the 180: ${lines.join(', ')}`);
  });

  it('reports a 183 with SDP as early media before the 200 (RFC 3261 §13.2.1)', async () => {
    const sipp = await uas('uas-183-early');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    const early = await events.waitFor('provisional', 5000, (e) => e.response.status === 183);
    assert.match(early.sdp?.toString() ?? '', /m=audio/);
    await events.waitFor('established');
    await inviter.bye();
    assertSippOk(await sipp.done);
    assert.deepEqual(events.summary(), ['provisional 183 sdp', 'established', 'terminated local-bye']);
  });

  it('answers a re-INVITE from the callee (hold, a=sendonly) with the offer handler\'s answer (RFC 3261 §14.2)', async () => {
    const sipp = await uas('uas-reinvite-hold');
    const offers: string[] = [];
    const events = new SessionEvents((offer) => {
      offers.push(offer.toString());
      return testSdp(40000, 'recvonly', 2);
    });
    const inviter = call(sipp, events);
    await inviter.invite();
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'remote-bye');
    assert.equal(offers.length, 1);
    assert.match(offers[0]!, /a=sendonly/);
    assert.match(inviter.localSdp?.toString() ?? '', /a=recvonly/);
    assertSippOk(await sipp.done);
  });

  it('puts the call on hold with its own re-INVITE and ACKs the 200 (RFC 3261 §14.1)', async () => {
    const sipp = await uas('uas-reinvite-recv');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    const pending = inviter.reinvite(testSdp(40000, 'sendonly', 2));
    await assert.rejects(inviter.reinvite(testSdp(40000)), { code: 'SIP_STATE' }, 'one INVITE transaction at a time (§14.1)');
    const response = await pending;
    assert.equal(response.status, 200);
    assert.match(response.body.toString(), /a=recvonly/);
    assert.match(inviter.remoteSdp?.toString() ?? '', /a=recvonly/);
    await inviter.bye();
    assertSippOk(await sipp.done);
  });

  it('sends DTMF 5 as INFO application/dtmf-relay, Signal=5 Duration=160 (RFC 6086)', async () => {
    const sipp = await uas('uas-info-dtmf');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    await assert.rejects(inviter.sendDtmf('5x'), { code: 'SIP_DTMF' });
    const response = await inviter.sendDtmf('5');
    assert.equal(response.status, 200);
    await inviter.bye();
    assertSippOk(await sipp.done);
  });

  it('ends the dialog with a BYE when a request in it is answered 408 (RFC 3261 §12.2.1.2)', async () => {
    const sipp = await uas('uas-info-408');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    const response = await inviter.sendInfo('text/plain', Buffer.from('hello'));
    assert.equal(response.status, 408);
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'dialog-gone');
    assert.equal(end.info, 'SIP 408 Request Timeout');
    // The scenario ends only with our BYE answered.
    assertSippOk(await sipp.done);
  });

  it('transfers blindly with REFER and reports the NOTIFY progress until the subscription ends (RFC 3515)', async () => {
    const sipp = await uas('uas-refer-notify');
    const events = new SessionEvents();
    const inviter = call(sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    await inviter.refer(parseUri('sip:carol@callhook.test'));
    const completed = await events.waitFor('transfer', 5000, (e) => e.status === TransferStatus.Completed);
    assert.equal(completed.info, 'SIP 200 OK');
    await inviter.bye();
    assertSippOk(await sipp.done);
    assert.deepEqual(transfers(events), [
      'PENDING REFER to sip:carol@callhook.test',
      'ACCEPTED SIP 202 Accepted',
      'TRYING SIP 100 Trying',
      'COMPLETED SIP 200 OK',
    ]);
  });
});

describe('the expiry of a transfer\'s implicit subscription, on a fake clock (RFC 3515 §2.4.4)', () => {
  const clock = new FakeClock();
  let ua: UserAgent;
  before(async () => {
    ({ ua } = await startUa(500, clock));
  });
  after(async () => {
    await ua?.close();
  });

  const EXPIRED = 'FAILED Transfer subscription expired without a final response';

  /** A call to the sipp `scenario`, established, and its REFER answered. */
  async function transferring(scenario: string): Promise<{ sipp: SippProcess; events: SessionEvents; inviter: Inviter }> {
    const sipp = await uas(scenario);
    const events = new SessionEvents();
    const inviter = dial(ua, sipp, events);
    await inviter.invite();
    await events.waitFor('established');
    await inviter.refer(parseUri('sip:carol@callhook.test'));
    return { sipp, events, inviter };
  }

  it('without any NOTIFY, FAILED comes 65 s after the 202 (60 s assumed, 5 s slack), not before', async () => {
    const { sipp, events, inviter } = await transferring('uas-refer-no-notify');
    clock.advance(64_999);
    assert.deepEqual(transfers(events), ['PENDING REFER to sip:carol@callhook.test', 'ACCEPTED SIP 202 Accepted']);
    clock.advance(1);
    assert.deepEqual(transfers(events).slice(2), [EXPIRED]);
    assert.equal(inviter.state, InviteSessionState.Established, 'the call itself goes on');
    await inviter.bye();
    assertSippOk(await sipp.done);
  });

  it('a NOTIFY with Subscription-State active;expires=10 sets the expiry: FAILED 15 s after it (RFC 6665 §8.2.3)', async () => {
    const { sipp, events, inviter } = await transferring('uas-refer-notify-expires');
    await events.waitFor('transfer', 5000, (e) => e.status === TransferStatus.Trying);
    clock.advance(14_999);
    assert.equal(transfers(events).at(-1), 'TRYING SIP 100 Trying');
    clock.advance(1);
    assert.equal(transfers(events).at(-1), EXPIRED);
    await inviter.bye();
    assertSippOk(await sipp.done);
  });
});

describe('incoming INVITE sessions from a sipp caller', () => {
  let ua: UserAgent;
  let port: number;
  let binding: ContactBinding;
  let nextInvitation: ((invitation: Invitation) => void) | undefined;
  before(async () => {
    ({ ua, port } = await startUa());
    binding = ua.bindContact(() => undefined, { onInvite: (invitation) => nextInvitation?.(invitation) });
  });
  after(async () => {
    binding?.close();
    await ua?.close();
  });

  /** Starts a sipp caller and resolves with the Invitation our contact got, its events already recorded. */
  async function incoming(scenario: string, events: SessionEvents): Promise<{ sipp: SippProcess; invitation: Invitation }> {
    const arrived = new Promise<Invitation>((resolve) => {
      nextInvitation = (invitation) => {
        invitation.delegate = events.delegate;
        resolve(invitation);
      };
    });
    const sipp = await runSipp({
      scenarioFile: scenarioFile(scenario),
      mode: 'uac',
      transport: 'u1',
      remote: { host: '127.0.0.1', port },
      service: binding.user,
      extraArgs: ['-rtp_echo'],
      timeoutMs: SIPP_TIMEOUT_MS,
    });
    const invitation = await Promise.race([
      arrived,
      sipp.done.then((r) => Promise.reject(new Error(`sipp ended before the INVITE arrived: ${r.stderr}${r.errors}`))),
    ]);
    return { sipp, invitation };
  }

  it('is answered: 180, 200 with the SDP answer, ACK, then the caller\'s BYE (RFC 3261 §13.3)', async () => {
    const events = new SessionEvents();
    const { sipp, invitation } = await incoming('uac-invite', events);
    assert.match(invitation.offer?.toString() ?? '', /m=audio/);
    assert.equal(invitation.caller.displayName, 'SIPp');
    assert.match(invitation.received.raw.toString(), /^INVITE sip:/);
    invitation.ring();
    invitation.accept(testSdp(40002));
    assert.equal(invitation.state, InviteSessionState.Answered);
    await events.waitFor('established');
    assert.equal(invitation.state, InviteSessionState.Established);
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'remote-bye');
    assertSippOk(await sipp.done);
    assert.equal(ua.dialogs.sessionCount, 0);
  });

  it('is rejected with 486 Busy Here (ACKed by the caller)', async () => {
    const events = new SessionEvents();
    const { sipp, invitation } = await incoming('uac-invite-reject', events);
    invitation.ring();
    invitation.reject(486);
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'declined');
    assert.equal(end.info, 'SIP 486 Busy Here');
    assert.throws(() => invitation.accept(testSdp(1)), { code: 'SIP_STATE' });
    assertSippOk(await sipp.done);
  });

  it('is cancelled by the caller: 200 to the CANCEL, 487 to the INVITE (RFC 3261 §9.2)', async () => {
    const events = new SessionEvents();
    const { sipp, invitation } = await incoming('uac-invite-cancel', events);
    invitation.ring();
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'remote-cancel');
    assert.match(end.raw ?? '', /^CANCEL /);
    assertSippOk(await sipp.done);
  });

  it('takes an INVITE without SDP: our offer in the 200, the answer from the ACK (RFC 3261 §13.2.1)', async () => {
    const events = new SessionEvents();
    const { sipp, invitation } = await incoming('uac-invite-no-sdp', events);
    assert.equal(invitation.offer, undefined);
    invitation.accept(testSdp(40004));
    const established = await events.waitFor('established');
    assert.match(established.sdp?.toString() ?? '', /m=audio/);
    assert.equal(established.message.kind, 'request');
    await events.waitFor('terminated');
    assertSippOk(await sipp.done);
  });
});

describe('an incoming call whose 200 is never ACKed', () => {
  it('is ended with BYE after 64*T1 (RFC 3261 §13.3.1.4)', async () => {
    const t1 = 50;
    const { ua, port } = await startUa(t1);
    const events = new SessionEvents();
    try {
      const binding = ua.bindContact(() => undefined, {
        onInvite: (invitation) => {
          invitation.delegate = events.delegate;
          invitation.accept(testSdp(40006));
        },
      });
      const sipp = await runSipp({
        scenarioFile: scenarioFile('uac-invite-no-ack'),
        mode: 'uac',
        transport: 'u1',
        remote: { host: '127.0.0.1', port },
        service: binding.user,
        timeoutMs: SIPP_TIMEOUT_MS,
      });
      const started = Date.now();
      const end = await events.waitFor('terminated');
      const elapsed = Date.now() - started;
      assert.equal(end.cause, 'ack-timeout');
      assert.ok(elapsed >= 64 * t1 - 100 && elapsed < 64 * t1 + 2000, `ended after ${elapsed} ms`);
      assertSippOk(await sipp.done);
    } finally {
      await ua.close();
    }
  });
});
