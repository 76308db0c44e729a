/**
 * RFC 4028 session timers, with callhook as its own process (sipSessionExpires 4 s, sipMinSe 2 s: short values the
 * sipp scenarios can play within seconds) and alice registered on a real Asterisk 22:
 * - sipp as callee: a 422 answered by a longer interval, callhook as refresher (re-INVITE at half the interval);
 * - sipp as caller: our 422 to a too short interval, the caller's refresh answered, the session expired → our BYE;
 * - sipp as caller refreshing with UPDATE (RFC 3311): without SDP, then with an offer that moves the media;
 * - Asterisk (`timers=always`, its 90 s minimum): callhook's 4 s interval gets Asterisk's 422, the call goes on at
 *   90 s with callhook refreshing (re-INVITE); Asterisk's own call to alice is refreshed by Asterisk (UPDATE, as
 *   callhook allows it); both calls outlive their first refresh with audio. Over UDP, TCP and TLS at once (one user
 *   per transport): the 45 s wait for the first refresh is paid once, not three times.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, afterEach, before, describe, it } from 'node:test';
import { ASTERISK_TRANSPORTS, startAsteriskBench, type AsteriskBench, type AsteriskTransport } from '../support/asterisk-bench.ts';
import type { AsteriskInstance } from '../support/asterisk.ts';
import { eventually } from '../support/eventually.ts';
import { LOOPBACK } from '../support/ports.ts';
import { parseMessageTrace, runSipp, scenarioFile, type SippProcess, type SippResult } from '../support/sipp.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';

const STEP_MS = 10_000;
const TIMERS = { timers: 'always', timers_sess_expires: '90', timers_min_se: '90' };
const ALICE = { username: 'alice', password: 'alice-pw', endpoint: TIMERS };
/** Who registers over each transport for the Asterisk scenario (alice over UDP). */
const USER_OVER: Readonly<Record<AsteriskTransport, string>> = { udp: 'alice', tcp: 'alicetcp', tls: 'alicetls' };
const ENDPOINTS = [ALICE, ...(['tcp', 'tls'] as const).map((t) => ({ username: USER_OVER[t], password: `${USER_OVER[t]}-pw`, endpoint: TIMERS }))];
/** Asterisk's smallest session interval (timers_min_se cannot go lower): its first refresh comes at 45 s. */
const ASTERISK_INTERVAL_S = 90;

function assertSippOk(result: SippResult): void {
  assert.equal(result.timedOut, false, `sipp did not finish its scenario: ${result.errors}`);
  assert.equal(result.code, 0, `sipp failed (code ${result.code}): ${result.stderr}\n${result.errors}`);
}

/** The requests and responses sipp received, by first line. */
function receivedLines(sipp: SippProcess): string[] {
  return parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'received').map((m) => m.firstLine);
}

describe('RFC 4028 session timers: callhook ↔ sipp and Asterisk', { timeout: 300_000 }, () => {
  let bench: AsteriskBench;
  let asterisk: AsteriskInstance;
  const clients: WebRtcClient[] = [];
  const sipps: SippProcess[] = [];

  const connectAlice = (): Promise<WebRtcClient> => bench.connect(ALICE.username);

  before(async () => {
    bench = await startAsteriskBench({ endpoints: ENDPOINTS, tls: true, settings: { sipSessionExpires: 4, sipMinSe: 2, sipT1Ms: 100, sipT2Ms: 400 } });
    asterisk = bench.asterisk;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sipps.splice(0)) await s.kill();
    await bench.settle();
  });

  after(async () => {
    for (const s of sipps) await s.kill();
    await bench?.stop();
  });

  it('callhook calls sipp: 422 → the INVITE again at Min-SE; callhook refreshes at half the interval; then hangs up', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-session-timer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 30_000 });
    sipps.push(sipp);
    const client = await WebRtcClient.connect(bench.callhook.wsUrl, { sipLogin: 'alice', sipDomain: LOOPBACK, sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(client);
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED', STEP_MS);
    // INVITE (422), INVITE, ACK of the 2xx, then the refreshing re-INVITE and its ACK.
    await eventually(() => receivedLines(sipp).filter((l) => l.startsWith('ACK')).length === 3, STEP_MS, () => `the refresh and its ACK at sipp (${receivedLines(sipp).join(', ')})`);
    assert.deepEqual(receivedLines(sipp).filter((l) => l.startsWith('INVITE')).length, 3);
    assert.equal(call.statuses().at(-1), 'ESTABLISHED', 'the refresh changes nothing the client sees');
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    assertSippOk(await sipp.done);
  });

  it('sipp calls alice: our 422 to a 1 s interval; its refresh answered; unrefreshed, the session ends with our BYE', async () => {
    const alice = await connectAlice();
    const [contact] = await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
    const contactUser = /^sip:([^@]+)@/.exec(contact!.uri)![1]!;
    const sipp = await runSipp({
      scenarioFile: scenarioFile('uac-session-timer'), mode: 'uac', transport: 'u1', remote: { host: LOOPBACK, port: bench.callhook.sipPort },
      service: contactUser, extraArgs: ['-rtp_echo'], timeoutMs: 30_000,
    });
    sipps.push(sipp);
    const call = await alice.nextIncoming(STEP_MS);
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    const end = await call.waitEnd(STEP_MS);
    assert.deepEqual([end['status'], end['info']], ['FAILED', 'Session expired without a refresh (RFC 4028 §10)']);
    assertSippOk(await sipp.done);
  });

  it('sipp calls alice and refreshes with UPDATE (RFC 3311): without SDP answered 200 with the timer; an offer moving the media is answered, and the media moves', async () => {
    const alice = await connectAlice();
    const [contact] = await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
    const contactUser = /^sip:([^@]+)@/.exec(contact!.uri)![1]!;
    // Where the UPDATE's offer moves the media: a socket of the test's, which counts what callhook sends it.
    const moved = createSocket('udp4');
    let movedPackets = 0;
    moved.on('message', () => movedPackets++);
    await new Promise<void>((resolve) => moved.bind(0, LOOPBACK, resolve));
    try {
      const sipp = await runSipp({
        scenarioFile: scenarioFile('uac-update-refresh'), mode: 'uac', transport: 'u1', remote: { host: LOOPBACK, port: bench.callhook.sipPort },
        service: contactUser, extraArgs: ['-rtp_echo', '-set', 'newport', String(moved.address().port)], timeoutMs: 60_000,
      });
      sipps.push(sipp);
      const call = await alice.nextIncoming(STEP_MS);
      await call.answer();
      await call.waitStatus('ESTABLISHED', STEP_MS);
      await call.connected();
      // Audio flows to sipp's echo while both UPDATEs come and are answered (the INVITE's 200 and two more).
      await eventually(async () => {
        await call.sendAudio(5);
        return receivedLines(sipp).filter((l) => l.startsWith('SIP/2.0 200')).length >= 3;
      }, STEP_MS, () => `the two UPDATEs answered 200 (${receivedLines(sipp).join(', ')})`);
      // After the move, what alice says goes to the new address, and keeps going there.
      const before = movedPackets;
      await call.sendAudio(25);
      await eventually(() => movedPackets - before >= 20, STEP_MS, () => `RTP at the moved address (${movedPackets - before})`);
      const later = movedPackets;
      await call.sendAudio(25);
      await eventually(() => movedPackets - later >= 20, STEP_MS, () => `RTP still at the moved address (${movedPackets - later})`);
      assert.equal(call.statuses().at(-1), 'ESTABLISHED', 'the refreshes change nothing the client sees');
      call.hangup();
      assert.equal((await call.waitEnd())['status'], 'FINISH');
      assertSippOk(await sipp.done);
    } finally {
      moved.close();
    }
  });

  it(`Asterisk (timers=always), over UDP, TCP and TLS: both calls outlive their first refresh at ${ASTERISK_INTERVAL_S / 2} s, audio flowing`, async () => {
    const calls = [];
    for (const transport of ASTERISK_TRANSPORTS) {
      const user = USER_OVER[transport];
      const client = await bench.connect(user, { sipTransport: transport });
      await asterisk.waitFor(async () => (await asterisk.contacts()).filter((c) => c.aor === user), (c) => c.length === 1, STEP_MS, `${user} registered`);
      // Outgoing: our 4 s gets Asterisk's 422 (Min-SE 90); its 2xx makes callhook the refresher (refresher=uac).
      const outgoing = await client.call('echo');
      await outgoing.waitStatus('ESTABLISHED', STEP_MS);
      await outgoing.connected();
      // Incoming: Asterisk asks for 90 s with Supported: timer; callhook lets it refresh (refresher=uac).
      await asterisk.originate(user, { callerIdNumber: '5550200' });
      const incoming = await client.nextIncoming(STEP_MS);
      await incoming.waitStatus('RING');
      await incoming.answer();
      await incoming.waitStatus('ESTABLISHED', STEP_MS);
      await incoming.connected();
      calls.push({ transport, outgoing, incoming });
    }
    const log = asterisk.logs();
    assert.match(log, /SIP\/2\.0 422 Session Interval Too Small[\s\S]*Min-SE: 90/);
    for (const transport of ASTERISK_TRANSPORTS) {
      assert.match(log, new RegExp(`Transmitting SIP response \\(\\d+ bytes\\) to ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\nSIP/2\\.0 422 `), `Asterisk's 422 over ${transport}`);
    }
    assert.match(log, /SIP\/2\.0 200 OK[^[]*Session-Expires: 90;refresher=uac[^[]*Require: timer/, "callhook's 200 to Asterisk's INVITE");

    // The refreshes are in the calls' dialogs (a To tag), one from each side per transport: callhook's re-INVITE, and
    // Asterisk's UPDATE (RFC 3311), which it sends because callhook's Allow lists UPDATE.
    const refreshes = () => asterisk.logs().split(/\n(?=\[)/).filter((e) => /^(INVITE|UPDATE) sip:/m.test(e) && /^To: .*;tag=/m.test(e) && /^Session-Expires: 90;refresher=/m.test(e));
    const refreshed = (transport: AsteriskTransport) => {
      const over = refreshes().filter((e) => e.includes(`${transport.toUpperCase()}:127.0.0.1:`));
      return { byCallhook: over.some((e) => /Received SIP request/.test(e) && /^INVITE sip:/m.test(e)), byAsterisk: over.some((e) => /Transmitting SIP request/.test(e) && /^UPDATE sip:/m.test(e)) };
    };
    await eventually(
      () => ASTERISK_TRANSPORTS.every((t) => refreshed(t).byCallhook && refreshed(t).byAsterisk),
      (ASTERISK_INTERVAL_S / 2 + 15) * 1000,
      () => `a refresh of each call over each transport (${JSON.stringify(ASTERISK_TRANSPORTS.map((t) => [t, refreshed(t)]))})`,
      { maxPollMs: 500 },
    );
    for (const { transport, outgoing, incoming } of calls) {
      assert.ok((await outgoing.exchangeAudio(25, 20)) >= 20, `the outgoing call over ${transport} still echoes after its refresh`);
      assert.ok((await incoming.exchangeAudio(25, 20)) >= 20, `the incoming call over ${transport} still echoes after its refresh`);
    }
    assert.deepEqual((await asterisk.channels()).map((c) => c.state).filter((s) => s !== 'Up'), []);
    for (const { outgoing, incoming } of calls) {
      outgoing.hangup();
      incoming.hangup();
      assert.equal((await outgoing.waitEnd())['status'], 'FINISH');
      assert.equal((await incoming.waitEnd())['status'], 'FINISH');
    }
  });
});
