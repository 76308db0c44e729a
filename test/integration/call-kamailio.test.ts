/**
 * Calls through a real registrar/proxy (issue 5): a callhook session registered on the test Kamailio as alice, the
 * werift test client as its browser, and baresip phones (bob, carol: auto-answer, sending a 440 Hz tone) and sipp
 * UACs as the other parties. Outgoing and incoming calls with media both ways (counted at the test client, and at
 * baresip through its RTP events and callhook's relay counters), DTMF and hold at baresip, a blind transfer from bob
 * to carol, refused and declined incoming calls, and two calls of one session at once.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startBaresip, type BaresipInstance } from '../support/baresip.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { parseMessageTrace, runSipp, scenarioFile, type SippResult } from '../support/sipp.ts';
import { WebRtcClient, type ClientCall } from '../support/webrtc-client.ts';
import { openUdpSockets } from '../support/ports.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
  { username: 'carol', password: 'carol-pw' },
  { username: 'dave', password: 'dave-pw' },
];
const APP = 'callApp';
const STEP_MS = 10_000;

function assertSippOk(result: SippResult): void {
  assert.equal(result.timedOut, false, `sipp did not finish its scenario: ${result.errors}`);
  assert.equal(result.code, 0, `sipp failed (code ${result.code}): ${result.stderr}\n${result.errors}`);
}

describe('calls through Kamailio: callhook session alice ↔ baresip phones and sipp', { timeout: 240_000 }, () => {
  let kamailio: KamailioInstance;
  let backend: TestBackend;
  let ts: TestServer;
  let bob: BaresipInstance;
  let carol: BaresipInstance;
  let udpBefore = 0;
  const clients: WebRtcClient[] = [];

  const events = (callId: string, hook = 'CallStatusEvent'): RecordedRequest[] =>
    backend.requests.filter((r) => r.hook === hook && r.json?.['callId'] === callId);

  async function connectAlice(): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(ts.wsUrl, {
      appKey: APP, sipLogin: 'alice', sipPassword: 'alice-pw', sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host,
      sipPort: kamailio.port, sipRegisterRequired: true,
    });
    clients.push(client);
    return client;
  }

  /** Resolves once `packets` more of baresip's tone reached the browser; throws after `ms` (50 a second are sent). */
  async function toneArrives(call: ClientCall, packets: number, ms: number): Promise<void> {
    const before = call.receivedAudio();
    const arrived = () => call.receivedAudio() - before;
    await eventually(() => arrived() >= packets, ms, () => `${packets} packets of the tone at the browser (${arrived()} came)`);
  }

  /** The relay counters of the session's only live call. */
  function relayed(): { toSip: number; toBrowser: number } {
    const [info] = ts.server.gateway.calls();
    return { toSip: info?.packetsToSip ?? 0, toBrowser: info?.packetsToBrowser ?? 0 };
  }

  before(async () => {
    udpBefore = openUdpSockets();
    kamailio = await startKamailio({ users: USERS });
    backend = await TestBackend.start();
    ts = await startTestServer({ rtpPortMin: 48000, rtpPortMax: 48999, webrtcPortMin: 49000, webrtcPortMax: 49999 });
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
    bob = await startBaresip({ user: 'bob', password: 'bob-pw', domain: kamailio.domain, outboundProxy: kamailio });
    carol = await startBaresip({ user: 'carol', password: 'carol-pw', domain: kamailio.domain, outboundProxy: kamailio, toneHz: 660 });
    await bob.waitRegistered(STEP_MS);
    await carol.waitRegistered(STEP_MS);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const phone of [bob, carol]) {
      // A call a test left up (it failed half-way) must not reach the next test.
      if (/ESTABLISHED|RINGING|INCOMING|OUTGOING/.test((await phone.command('listcalls')).data)) await phone.command('hangup');
    }
    await eventually(() => ts.server.gateway.sessionCount === 0 && ts.server.gateway.calls().length === 0, STEP_MS, 'sessions and calls to end');
    await eventually(() => ts.server.media.rtpPorts.inUse === 0 && ts.server.media.webrtcPorts.inUse === 0, 5000, 'ports to be released');
    await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'alice'), 5000);
    backend.requests.length = 0;
    backend.responder = () => ({ kind: 'echo' });
  });

  after(async () => {
    for (const c of clients) await c.close();
    await bob?.stop();
    await carol?.stop();
    await ts?.stop();
    await backend?.stop();
    await kamailio?.stop();
    await eventually(() => openUdpSockets() <= udpBefore, 5000, `UDP sockets to close (${openUdpSockets()} open, ${udpBefore} before)`);
  });

  it('alice calls bob (baresip answers): ESTABLISHED, media both ways, alice hangs up → bob sees the BYE', async () => {
    const alice = await connectAlice();
    const closedBefore = bob.events().filter((e) => e.type === 'CALL_CLOSED').length;
    const call = await alice.call('bob');
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    const sentBefore = relayed().toSip;
    await Promise.all([toneArrives(call, 90, 2000), call.sendAudio(100)]);
    // baresip reports the first RTP packet it gets from us.
    await bob.waitForEvent('CALL_RTPESTAB', STEP_MS, (e) => e.peeruri === `sip:alice@${kamailio.domain}`);
    const toSip = relayed().toSip - sentBefore;
    assert.ok(toSip >= 90, `${toSip}/100 of the browser's packets were relayed to bob`);
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    await eventually(() => bob.events().filter((e) => e.type === 'CALL_CLOSED').length > closedBefore, STEP_MS, 'bob to see the call end');
    // RING when the 180 came first: Kamailio's UDP workers may forward baresip's 180 and 200 in either order, and a
    // 180 after the 200 is no news (RFC 3261 §17.1.1.2: the transaction is over).
    assert.deepEqual(call.statuses().filter((s) => s !== 'TRYING' && s !== 'RING'), ['ESTABLISHED', 'FINISH']);
    assert.ok(!call.statuses().includes('RING') || call.statuses().indexOf('RING') < call.statuses().indexOf('ESTABLISHED'), call.statuses().join(' → '));
  });

  it('bob calls alice: OnCallEvent, setRemoteSDP before notifyIncomingCall, RING; answered → ESTABLISHED with media; bob hangs up → FINISH', async () => {
    const alice = await connectAlice();
    await bob.command('dial', `sip:alice@${kamailio.domain}`);
    const call = await alice.nextIncoming(STEP_MS);
    assert.ok(call.offerBeforeNotify, 'setRemoteSDP came before notifyIncomingCall');
    const notify = call.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>;
    assert.equal(notify['incoming'], true);
    assert.equal(notify['status'], 'PENDING');
    assert.equal(notify['caller'], 'bob');
    assert.equal(notify['callee'], 'alice');
    await call.waitStatus('RING');
    await eventually(() => events(call.callId, 'OnCallEvent').length === 1 || backend.requests.some((r) => r.hook === 'OnCallEvent'), 5000, 'OnCallEvent');
    const onCall = backend.requests.find((r) => r.hook === 'OnCallEvent')!.json!;
    assert.equal(onCall['callId'], call.callId);
    assert.match(String(onCall['sipMessageRaw']), /^INVITE sip:/);
    assert.equal(onCall['incoming'], true);
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    await bob.waitForEvent('CALL_ESTABLISHED', STEP_MS, (e) => e.peeruri === `sip:alice@${kamailio.domain}`);
    await Promise.all([toneArrives(call, 90, 2000), call.sendAudio(100)]);
    assert.ok(relayed().toSip >= 90, `${relayed().toSip} of the browser's packets were relayed to bob`);
    await bob.command('hangup');
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    assert.equal(end['info'], 'Normal call clearing');
    assert.deepEqual(call.statuses(), ['RING', 'ESTABLISHED', 'FINISH']);
    assert.ok(backend.requests.some((r) => r.hook === 'answer' && r.json?.['callId'] === call.callId));
  });

  it('an incoming call the client declines gets 486 Busy Here', async () => {
    const alice = await connectAlice();
    const closed = () => bob.events().filter((e) => e.type === 'CALL_CLOSED');
    const before = closed().length;
    await bob.command('dial', `sip:alice@${kamailio.domain}`);
    const call = await alice.nextIncoming(STEP_MS);
    await call.waitStatus('RING');
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    await eventually(() => closed().length > before, STEP_MS, 'bob to see the refusal');
    assert.match(String(closed().at(-1)!.param), /486 Busy Here/);
  });

  it('the caller gives up while it rings (CANCEL): 487 to the caller, FINISH to the client; the ports are released', async () => {
    const alice = await connectAlice();
    await bob.command('dial', `sip:alice@${kamailio.domain}`);
    const call = await alice.nextIncoming(STEP_MS);
    await call.waitStatus('RING');
    assert.equal(ts.server.media.webrtcPorts.inUse, 1, 'the offer holds a WebRTC port');
    await bob.command('hangup');
    const end = await call.waitEnd(STEP_MS);
    assert.equal(end['status'], 'FINISH');
    assert.equal(end['info'], 'Normal call clearing');
    assert.match(String(end['sipMessageRaw']), /^CANCEL sip:/);
    assert.deepEqual(call.statuses(), ['RING', 'FINISH']);
  });

  it('an incoming call the OnCallEvent hook refuses (restOnError FAIL) gets 403 Forbidden, and the client `fail`', async () => {
    backend.responder = (req) => {
      if (req.hook === 'connect') return { kind: 'json', body: { ...req.json, restClientConfig: { OnCallEvent: { restOnError: 'FAIL' } } } };
      if (req.hook === 'OnCallEvent') return { kind: 'json', status: 403, body: { status: 403, reason: 'alice takes no calls' } };
      return { kind: 'echo' };
    };
    const alice = await connectAlice();
    const closed = () => bob.events().filter((e) => e.type === 'CALL_CLOSED');
    const before = closed().length;
    await bob.command('dial', `sip:alice@${kamailio.domain}`);
    await eventually(() => closed().length > before, STEP_MS, 'bob to see the refusal');
    assert.match(String(closed().at(-1)!.param), /403 Forbidden/);
    await eventually(() => alice.ws.frames.some((f) => f.message === 'fail'), 5000, 'fail at the client');
    const fail = alice.ws.frames.find((f) => f.message === 'fail')!.data[0] as Record<string, unknown>;
    assert.equal(fail['apiMethod'], 'CallStatusEvent');
    assert.equal(fail['info'], 'alice takes no calls');
    assert.ok(!alice.ws.frames.some((f) => f.message === 'notifyIncomingCall'), 'the client never heard of the call');
    await eventually(() => backend.requests.some((r) => r.hook === 'CallStatusEvent' && r.json?.['status'] === 'FAILED'), 5000, 'CallStatusEvent FAILED');
  });

  it('DTMF reaches bob both ways: RFC 4733 events on RTP and SIP INFO dtmf-relay (CALL_DTMF_START at baresip)', async () => {
    const alice = await connectAlice();
    const call = await alice.call('bob');
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    const digits = () => bob.events().filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param);
    const before = digits().length;
    call.sendDtmf('4');
    await eventually(() => digits().length > before, STEP_MS, 'the RFC 4733 digit at bob');
    assert.equal(digits().at(-1), '4');
    call.sendDtmf('9', 'INFO_RELAY');
    await eventually(() => digits().length > before + 1, STEP_MS, 'the INFO digit at bob');
    assert.equal(digits().at(-1), '9');
    call.hangup();
    await call.waitEnd();
  });

  it('hold and unhold with bob: HOLD, then ESTABLISHED, media flowing again', async () => {
    const alice = await connectAlice();
    const call = await alice.call('bob');
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    call.hold();
    await call.waitStatus('HOLD', STEP_MS);
    const held = relayed();
    await call.sendAudio(25);
    assert.equal(relayed().toSip, held.toSip, 'nothing goes to a held bob');
    call.unhold();
    await eventually(() => call.statuses().filter((s) => s === 'ESTABLISHED').length === 2, STEP_MS, 'ESTABLISHED again');
    await Promise.all([toneArrives(call, 40, 1000), call.sendAudio(50)]);
    call.hangup();
    await call.waitEnd();
  });

  it('blind transfer: alice transfers bob to carol; bob calls carol, NOTIFY 200 → COMPLETED, alice is done (FINISH)', async () => {
    const alice = await connectAlice();
    const call = await alice.call('bob');
    await call.waitStatus('ESTABLISHED', STEP_MS);
    const carolCalls = () => carol.events().filter((e) => e.type === 'CALL_ESTABLISHED' && e.peeruri === `sip:bob@${kamailio.domain}`).length;
    const before = carolCalls();
    call.transfer('carol');
    const end = await call.waitEnd(STEP_MS);
    assert.equal(end['status'], 'FINISH');
    const transfer = call.frames.filter((f) => f.message === 'notifyTransferEvent').map((f) => (f.data[0] as Record<string, unknown>)['status']);
    assert.equal(transfer[0], 'PENDING');
    assert.equal(transfer.at(-1), 'COMPLETED');
    await eventually(() => carolCalls() > before, STEP_MS, 'bob and carol to be talking');
    await eventually(() => events(call.callId, 'TransferStatusEvent').some((r) => r.json?.['status'] === 'COMPLETED'), 5000, 'TransferStatusEvent COMPLETED');
    await bob.command('hangup');
  });

  it('two calls of one session at once: alice talks to bob and carol, each with its own media', async () => {
    const alice = await connectAlice();
    const [toBob, toCarol] = await Promise.all([alice.call('bob'), alice.call('carol')]);
    await Promise.all([toBob.waitStatus('ESTABLISHED', STEP_MS), toCarol.waitStatus('ESTABLISHED', STEP_MS)]);
    await Promise.all([toBob.connected(), toCarol.connected()]);
    assert.equal(ts.server.gateway.calls().length, 2);
    await Promise.all([toneArrives(toBob, 40, 1000), toneArrives(toCarol, 40, 1000)]);
    assert.equal(ts.server.media.rtpPorts.inUse, 2);
    toBob.hangup();
    toCarol.hangup();
    await Promise.all([toBob.waitEnd(), toCarol.waitEnd()]);
  });

  it('a sipp UAC calls alice through Kamailio: answered, RTP echoed both ways; sipp hangs up → FINISH', async () => {
    const alice = await connectAlice();
    const sipp = await runSipp({
      scenarioFile: scenarioFile('uac-call'), mode: 'uac', transport: 'u1', remote: kamailio, service: 'alice',
      auth: USERS[3]!, keys: { caller: 'dave', domain: kamailio.domain },
      extraArgs: ['-rtp_echo', '-auth_uri', `sip:alice@${kamailio.domain}`, '-d', '4000'], timeoutMs: 30_000,
    });
    const call = await alice.nextIncoming(STEP_MS);
    assert.ok(call.offerBeforeNotify);
    assert.equal((call.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>)['caller'], 'dave');
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    const echoed = await call.exchangeAudio(100, 90);
    assert.ok(echoed >= 90, `${echoed}/100 packets made the round trip through sipp`);
    const end = await call.waitEnd(STEP_MS);
    assert.equal(end['status'], 'FINISH');
    assertSippOk(await sipp.done);
  });

  it('the client hangs up an incoming call from sipp: our BYE reaches it', async () => {
    const alice = await connectAlice();
    const sipp = await runSipp({
      scenarioFile: scenarioFile('uac-call-wait-bye'), mode: 'uac', transport: 'u1', remote: kamailio, service: 'alice',
      auth: USERS[3]!, keys: { caller: 'dave', domain: kamailio.domain },
      extraArgs: ['-rtp_echo', '-auth_uri', `sip:alice@${kamailio.domain}`], timeoutMs: 30_000,
    });
    const call = await alice.nextIncoming(STEP_MS);
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    const result = await sipp.done;
    assertSippOk(result);
    assert.ok(parseMessageTrace(result.messages).some((m) => m.direction === 'received' && m.firstLine.startsWith('BYE')));
  });

  it('an INVITE without SDP (RFC 3261 §13.2.1): our offer in the 200, the answer in the ACK; RTP echoed', async () => {
    const alice = await connectAlice();
    const sipp = await runSipp({
      scenarioFile: scenarioFile('uac-call-no-sdp'), mode: 'uac', transport: 'u1', remote: kamailio, service: 'alice',
      auth: USERS[3]!, keys: { caller: 'dave', domain: kamailio.domain },
      extraArgs: ['-rtp_echo', '-auth_uri', `sip:alice@${kamailio.domain}`, '-d', '3000'], timeoutMs: 30_000,
    });
    const call = await alice.nextIncoming(STEP_MS);
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    const echoed = await call.exchangeAudio(50, 45);
    assert.ok(echoed >= 45, `${echoed}/50 packets made the round trip through sipp`);
    assert.equal((await call.waitEnd(STEP_MS))['status'], 'FINISH');
    assertSippOk(await sipp.done);
  });
});
