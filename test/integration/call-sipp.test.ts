/**
 * Outgoing calls end to end (issue 5): the werift test client (test/support/webrtc-client.ts) speaks the WCS protocol
 * to an in-process callhook, which calls a sipp UAS scenario (test/support/sipp/) with `-rtp_echo`. Each test
 * asserts the status sequence on the wire and at the recording backend (test/support/backend.ts), that RTP made the
 * round trip browser → callhook → sipp → callhook → browser (≥ 90 % of what was sent), sipp's own verdict on what
 * it received (exit status 0), and that the call's ports were released.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { BrowserPeer } from '../../bench/media-peers.ts';
import { renderCalls } from '../../src/admin/cli/render.ts';
import type { CallInfo } from '../../src/gateway/info.ts';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { parseMessageTrace, runSipp, scenarioFile, type SippProcess, type SippResult } from '../support/sipp.ts';
import { WebRtcClient, type ClientCall } from '../support/webrtc-client.ts';
import { openUdpSockets } from '../support/ports.ts';
import { sampleValue, scrapeMetrics } from '../support/metrics.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const APP = 'callApp';
const SIPP_TIMEOUT_MS = 20_000;
const PACKETS = 100;
const ENOUGH = 90;

function assertSippOk(result: SippResult): void {
  assert.equal(result.timedOut, false, `sipp did not finish its scenario: ${result.errors}`);
  assert.equal(result.code, 0, `sipp failed (code ${result.code}): ${result.stderr}\n${result.errors}`);
}

/** The 200s sipp sent to INFO requests (a response repeats its request's CSeq, RFC 3261 §8.2.6.2). */
function infoAnswers(sipp: SippProcess): number {
  return parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'sent' && m.firstLine.startsWith('SIP/2.0 200') && /^CSeq: \d+ INFO\r?$/m.test(m.text)).length;
}

/** What sipp received, by request line / status line. */
function received(result: SippResult): string[] {
  return parseMessageTrace(result.messages).filter((m) => m.direction === 'received').map((m) => m.firstLine.split(' ')[0]!);
}

describe('outgoing calls: werift client → callhook → sipp UAS (-rtp_echo)', { timeout: 120_000 }, () => {
  let backend: TestBackend;
  let ts: TestServer;
  let udpBefore = 0;
  const clients: WebRtcClient[] = [];
  const sipps: SippProcess[] = [];

  const events = (callId: string, hook = 'CallStatusEvent'): RecordedRequest[] =>
    backend.requests.filter((r) => r.hook === hook && r.json?.['callId'] === callId);
  const backendStatuses = (callId: string) => events(callId).map((r) => String(r.json?.['status']));

  async function uas(name: string): Promise<SippProcess> {
    const sipp = await runSipp({ scenarioFile: scenarioFile(name), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: SIPP_TIMEOUT_MS });
    sipps.push(sipp);
    return sipp;
  }

  /** A session of alice whose next hop is the sipp UAS (no registration). */
  async function connect(sipp: SippProcess): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(ts.wsUrl, {
      appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false,
    });
    clients.push(client);
    return client;
  }

  async function established(call: ClientCall): Promise<void> {
    await call.waitStatus('ESTABLISHED');
    await call.connected();
  }

  before(async () => {
    udpBefore = openUdpSockets();
    backend = await TestBackend.start();
    ts = await startTestServer({
      rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999, webrtcConnectTimeoutMs: 3000,
      sipT1Ms: 100, sipT2Ms: 400,
    });
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sipps.splice(0)) await s.kill();
    await eventually(() => ts.server.gateway.sessionCount === 0 && ts.server.gateway.calls().length === 0, 10_000, 'sessions and calls to end');
    await eventually(() => ts.server.media.rtpPorts.inUse === 0 && ts.server.media.webrtcPorts.inUse === 0, 5000, 'ports to be released');
    backend.requests.length = 0;
  });

  after(async () => {
    await ts?.stop();
    await backend?.stop();
    await eventually(() => openUdpSockets() <= udpBefore, 5000, `UDP sockets to close (${openUdpSockets()} open, ${udpBefore} before)`);
  });

  it('answered: TRYING, RING, ESTABLISHED; RTP both ways; our hangup sends BYE → FINISH; the hooks in order', async () => {
    const sipp = await uas('uas-answer');
    const client = await connect(sipp);
    // The call counters are cumulative over the server's life: what this call adds is compared to before it.
    const before = await scrapeMetrics(ts.server);
    const call = await client.call('bob');
    await established(call);
    const echoed = await call.exchangeAudio(PACKETS, ENOUGH);
    assert.ok(echoed >= ENOUGH, `${echoed}/${PACKETS} packets made the round trip`);
    const live = ts.server.gateway.calls();
    assert.equal(live.length, 1);
    assert.equal(live[0]!.status, 'ESTABLISHED');
    assert.equal(live[0]!.codec, 'PCMU');
    assert.ok(live[0]!.rtpPort! >= 46000 && live[0]!.rtpPort! <= 46999, `rtp port ${live[0]!.rtpPort}`);
    assert.ok(live[0]!.webrtcPort! >= 47000 && live[0]!.webrtcPort! <= 47999, `webrtc port ${live[0]!.webrtcPort}`);
    assert.ok(live[0]!.packetsToSip! >= ENOUGH && live[0]!.packetsToBrowser! >= ENOUGH, JSON.stringify(live[0]));
    // `callhook show calls` reads GET /api/calls; its table shows the state and the media ports.
    const response = await fetch(`${ts.server.adminUrl}/api/calls`, { headers: { authorization: `Bearer ${ts.server.adminToken}` } });
    const listed = (await response.json()) as CallInfo[];
    assert.deepEqual(listed.map((c) => [c.callId, c.status, c.rtpPort, c.webrtcPort]), [[call.callId, 'ESTABLISHED', live[0]!.rtpPort, live[0]!.webrtcPort]]);
    const table = renderCalls(listed);
    assert.match(table, new RegExp(`${call.callId}\\s+out\\s+ESTABLISHED\\s+alice\\s+bob\\s+PCMU\\s+${live[0]!.rtpPort}\\s+${live[0]!.webrtcPort}`));
    // Prometheus sees the session and the call by status.
    const metrics = await scrapeMetrics(ts.server);
    assert.match(metrics, /^callhook_sessions 1$/m);
    assert.match(metrics, /^callhook_calls\{status="ESTABLISHED"\} 1$/m);
    call.hangup();
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    assert.equal(end['info'], 'Normal call clearing');
    // The call moved the lifecycle counters, its setup time (call request → 200 OK) was observed, and its relayed
    // packets were counted at its end; the event loop's lag is served.
    const after = await scrapeMetrics(ts.server);
    const added = (series: string): number => (sampleValue(after, series) ?? NaN) - (sampleValue(before, series) ?? 0);
    assert.equal(added('callhook_calls_started_total{direction="outgoing"}'), 1, after);
    assert.equal(added('callhook_calls_ended_total{status="FINISH"}'), 1, after);
    assert.equal(added('callhook_call_setup_seconds_count{direction="outgoing"}'), 1, after);
    const setupSeconds = added('callhook_call_setup_seconds_sum{direction="outgoing"}');
    assert.ok(setupSeconds > 0 && setupSeconds < SIPP_TIMEOUT_MS / 1000, `setup ${setupSeconds} s`);
    assert.ok(added('callhook_media_packets_total{direction="to_sip"}') >= ENOUGH, after);
    assert.ok(added('callhook_media_packets_total{direction="to_browser"}') >= ENOUGH, after);
    assert.ok(sampleValue(after, 'callhook_media_packets_lost_total') !== undefined, after);
    for (const stat of ['p50', 'p99', 'max']) {
      const lag = sampleValue(after, `callhook_event_loop_lag_seconds{stat="${stat}"}`);
      assert.ok(lag !== undefined && lag >= 0 && lag < 10, `event loop lag ${stat}: ${lag}`);
    }
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(received(result), ['INVITE', 'ACK', 'BYE']);
    assert.deepEqual(call.wire(), ['notifyTryingResponse:TRYING', 'ring:RING', 'talk:ESTABLISHED', 'finish:FINISH']);
    const talk = await call.waitStatus('ESTABLISHED');
    assert.equal(talk['info'], 'SIP 200 OK');
    assert.equal(talk['sipStatus'], 200);
    assert.match(String(talk['sipMessageRaw']), /^SIP\/2\.0 200 OK\r\n/);
    assert.equal(talk['callee'], 'bob');
    assert.equal(talk['caller'], 'alice');
    assert.equal(talk['incoming'], false);
    assert.equal(talk['mediaProvider'], 'WebRTC');
    assert.equal(call.frames[0]!.message, 'setRemoteSDP', 'the answer comes first');
    await eventually(() => backendStatuses(call.callId).length >= 4, 5000, 'four CallStatusEvents');
    assert.deepEqual(backendStatuses(call.callId), ['TRYING', 'RING', 'ESTABLISHED', 'FINISH']);
    const hooks = backend.requests.filter((r) => r.json?.['callId'] === call.callId).map((r) => r.hook);
    assert.equal(hooks[0], 'call', 'the call hook before anything else');
    assert.ok(hooks.includes('hangup'));
    const callHook = backend.requests.find((r) => r.hook === 'call')!.json!;
    assert.match(String(callHook['sdp']), /^v=0/);
    assert.equal(callHook['callee'], 'bob');
  });

  it('486 Busy Here → BUSY, 404 Not Found → FAILED, each with info, sipStatus and sipMessageRaw', async () => {
    for (const [scenario, status, info] of [['uas-486', 'BUSY', 'SIP 486 Busy Here'], ['uas-404', 'FAILED', 'SIP 404 Not Found']] as const) {
      const sipp = await uas(scenario);
      const client = await connect(sipp);
      const call = await client.call('bob');
      const end = await call.waitEnd();
      assert.equal(end['status'], status);
      assert.equal(end['info'], info);
      assert.equal(end['sipStatus'], Number(info.split(' ')[1]));
      assert.match(String(end['sipMessageRaw']), new RegExp(`^SIP/2\\.0 ${info.slice(4)}\r\n`));
      assert.deepEqual(call.wire(), ['notifyTryingResponse:TRYING', `finish:${status}`]);
      assertSippOk(await sipp.done);
      await eventually(() => backendStatuses(call.callId).length >= 2, 5000, 'CallStatusEvents');
      assert.deepEqual(backendStatuses(call.callId), ['TRYING', status]);
      assert.equal(events(call.callId)[1]!.json!['info'], info);
    }
  });

  it('no answer: the client hangs up while it rings → CANCEL, 487 → FINISH', async () => {
    const sipp = await uas('uas-ring-no-answer');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await call.waitStatus('RING');
    call.hangup();
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    assert.equal(end['info'], 'Normal call clearing');
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(received(result), ['INVITE', 'CANCEL', 'ACK']);
    assert.deepEqual(call.statuses(), ['RING', 'FINISH']);
  });

  it('183 with SDP is early media (SESSION_PROGRESS), then the 200 → ESTABLISHED; RTP flows', async () => {
    const sipp = await uas('uas-183-early');
    const client = await connect(sipp);
    const call = await client.call('bob');
    const progress = await call.waitStatus('SESSION_PROGRESS');
    assert.equal(progress['info'], 'SIP 183 Session Progress');
    await established(call);
    const echoed = await call.exchangeAudio(50, 45);
    assert.ok(echoed >= 45, `${echoed}/50 packets made the round trip`);
    call.hangup();
    await call.waitEnd();
    assertSippOk(await sipp.done);
    assert.deepEqual(call.statuses(), ['SESSION_PROGRESS', 'ESTABLISHED', 'FINISH']);
  });

  it('the far end holds the call (re-INVITE sendonly → our recvonly answer): HOLD; its BYE → FINISH', async () => {
    const sipp = await uas('uas-reinvite-hold');
    const client = await connect(sipp);
    const call = await client.call('bob');
    const hold = await call.waitStatus('HOLD');
    assert.equal(hold['info'], 'Held by the remote party');
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    assert.equal(end['info'], 'Normal call clearing');
    assert.match(String(end['sipMessageRaw']), /^BYE sip:/);
    assertSippOk(await sipp.done);
    assert.deepEqual(call.statuses(), ['ESTABLISHED', 'HOLD', 'FINISH']);
  });

  it('the far end hangs up (BYE) → FINISH; the call is gone from show calls', async () => {
    const sipp = await uas('uas-answer-bye');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED');
    assert.equal(ts.server.gateway.calls().length, 1);
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    assertSippOk(await sipp.done);
    assert.deepEqual(ts.server.gateway.calls(), []);
  });

  it('hold and unhold from the client: re-INVITE sendonly → HOLD, no RTP while held; sendrecv → ESTABLISHED, RTP again', async () => {
    const sipp = await uas('uas-hold-unhold');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await established(call);
    assert.ok((await call.exchangeAudio(25, 22)) >= 22, 'RTP before the hold');
    call.hold();
    const held = await call.waitStatus('HOLD');
    assert.equal(held['info'], 'SIP 200 OK');
    const sentWhileHeld = await call.sendAudio(25);
    call.unhold();
    await eventually(() => call.statuses().filter((s) => s === 'ESTABLISHED').length === 2, 5000, 'ESTABLISHED after unhold');
    assert.ok((await call.exchangeAudio(25, 22)) >= 22, 'RTP after the unhold');
    // Echoes come back in the order sent: an echo of a packet sent while held would have arrived before these.
    assert.equal(call.echoesOf(sentWhileHeld, 25), 0, 'nothing reaches the held peer, nothing comes back');
    call.hangup();
    await call.waitEnd();
    assertSippOk(await sipp.done);
    assert.deepEqual(call.wire().slice(-4), ['talk:ESTABLISHED', 'hold:HOLD', 'talk:ESTABLISHED', 'finish:FINISH']);
    await eventually(() => backend.requests.some((r) => r.hook === 'unhold'), 5000, 'the unhold hook');
    assert.ok(backend.requests.some((r) => r.hook === 'hold' && r.json?.['callId'] === call.callId));
  });

  it('DTMF: RFC2833 as RFC 4733 events on RTP (echoed back by sipp), INFO (application/dtmf) and INFO_RELAY (dtmf-relay) checked by sipp', async () => {
    const sipp = await uas('uas-dtmf');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await established(call);
    call.sendDtmf('1#');
    // callhook's telephone-event towards the browser is Chrome's 126 (telephone-event/8000 in the werift offer).
    await eventually(() => call.received(126) >= 6, 5000, 'the RFC 4733 events to come back through the echo');
    call.sendDtmf('7', 'INFO');
    call.sendDtmf('#', 'INFO_RELAY');
    await eventually(() => parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'received' && m.firstLine.startsWith('INFO')).length === 2, 5000, 'two INFOs at sipp');
    // Hang up once both INFO transactions are answered, so that no DTMF is cut short by the BYE.
    await eventually(() => infoAnswers(sipp) === 2, 5000, "sipp's 200s to both INFOs");
    call.hangup();
    await call.waitEnd();
    assertSippOk(await sipp.done);
    const dtmfHooks = backend.requests.filter((r) => r.hook === 'sendDtmf').map((r) => [r.json?.['dtmf'], r.json?.['type']]);
    assert.deepEqual(dtmfHooks, [['1#', 'RFC2833'], ['7', 'INFO'], ['#', 'INFO_RELAY']]);
    assert.equal(call.frames.filter((f) => f.message === 'fail').length, 0, 'no DTMF was refused');
  });

  it('blind transfer: REFER → PENDING, ACCEPTED, TRYING, COMPLETED (notifyTransferEvent and TransferStatusEvent); then our BYE → FINISH', async () => {
    const sipp = await uas('uas-refer-notify');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED');
    call.transfer('carol');
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(received(result), ['INVITE', 'ACK', 'REFER', 'SIP/2.0', 'SIP/2.0', 'BYE']);
    const transfer = call.frames.filter((f) => f.message === 'notifyTransferEvent').map((f) => (f.data[0] as Record<string, unknown>)['status']);
    assert.deepEqual(transfer, ['PENDING', 'ACCEPTED', 'TRYING', 'COMPLETED']);
    await eventually(() => events(call.callId, 'TransferStatusEvent').length >= 4, 5000, 'TransferStatusEvents');
    assert.deepEqual(events(call.callId, 'TransferStatusEvent').map((r) => r.json?.['status']), ['PENDING', 'ACCEPTED', 'TRYING', 'COMPLETED']);
    assert.equal(backend.requests.find((r) => r.hook === 'transfer')?.json?.['target'], 'carol');
  });

  it('the browser never completes ICE: FAILED "Failed by ICE error", and the SIP leg is ended (CANCEL while ringing)', async () => {
    const sipp = await uas('uas-ring-no-answer');
    const client = await connect(sipp);
    const call = await client.call('bob');
    // The browser goes away before it could check: callhook's answer is never applied.
    await call.peer.close();
    const end = await call.waitEnd(10_000);
    assert.equal(end['status'], 'FAILED');
    assert.equal(end['info'], 'Failed by ICE error');
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(received(result), ['INVITE', 'CANCEL', 'ACK']);
  });

  it('the client disconnects mid-call: BYE to the far end, FINISH at the backend, every port released', async () => {
    const sipp = await uas('uas-answer');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await established(call);
    assert.ok(ts.server.media.rtpPorts.inUse === 1 && ts.server.media.webrtcPorts.inUse === 1, 'one pair each while the call is up');
    await client.ws.close();
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(received(result), ['INVITE', 'ACK', 'BYE']);
    await eventually(() => backendStatuses(call.callId).includes('FINISH'), 5000, 'FINISH at the backend');
    assert.equal(events(call.callId).at(-1)!.json!['info'], 'Disconnected by the client');
    await eventually(() => ts.server.media.rtpPorts.inUse === 0 && ts.server.media.webrtcPorts.inUse === 0, 5000, 'the ports');
  });

  it('the call hook may overwrite the callee (OVERWRITE), and refuse a call (restOnError FAIL → fail, FAILED)', async () => {
    const sipp = await uas('uas-answer');
    backend.responder = (req) => {
      if (req.hook === 'connect') {
        return { kind: 'json', body: { ...req.json, restClientConfig: { call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee', restOnError: 'FAIL' } } } };
      }
      if (req.hook === 'call' && req.json?.['callee'] === 'forbidden') return { kind: 'json', status: 403, body: { status: 403, reason: 'Calls to forbidden are not allowed' } };
      if (req.hook === 'call') return { kind: 'json', body: { ...req.json, callee: 'carol' } };
      return { kind: 'echo' };
    };
    try {
      const client = await connect(sipp);
      const refused = await client.call('forbidden');
      const fail = await refused.waitFrame('fail');
      assert.deepEqual(fail, { callId: refused.callId, status: 'FAILED', info: 'Calls to forbidden are not allowed', apiMethod: 'CallStatusEvent' });
      assert.equal((await refused.waitEnd())['status'], 'FAILED');
      assert.deepEqual(refused.statuses(), ['FAILED']);

      const call = await client.call('bob');
      const talk = await call.waitStatus('ESTABLISHED');
      assert.equal(talk['callee'], 'carol', 'the overwritten callee');
      call.hangup();
      await call.waitEnd();
      const result = await sipp.done;
      assertSippOk(result);
      const invite = parseMessageTrace(result.messages).find((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE'))!;
      assert.match(invite.firstLine, /^INVITE sip:carol@127\.0\.0\.1/);
    } finally {
      backend.responder = () => ({ kind: 'echo' });
    }
  });

  it('refuses call messages for unknown calls or in the wrong state, naming the message; a second call with the same id', async () => {
    const sipp = await uas('uas-answer');
    const client = await connect(sipp);
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED');
    client.send('call', { callId: call.callId, callee: 'bob', sdp: 'v=0' });
    assert.equal((await call.waitFrame('fail'))['info'], `call: callId ${call.callId} is already in use`);
    client.send('answer', { callId: call.callId, sdp: 'v=0' });
    assert.equal((await call.waitFrame('fail', 5000, (d) => d['apiMethod'] === 'answer'))['info'], 'answer: the call is ESTABLISHED');
    client.send('unhold', { callId: 'nope' });
    await eventually(() => client.ws.frames.some((f) => f.message === 'fail' && (f.data[0] as Record<string, unknown>)['callId'] === 'nope'), 5000, 'fail for nope');
    const nope = client.ws.frames.find((f) => f.message === 'fail' && (f.data[0] as Record<string, unknown>)['callId'] === 'nope')!;
    assert.deepEqual(nope.data, [{ callId: 'nope', status: 'FAILED', info: 'unhold: no call nope in this session', apiMethod: 'unhold' }]);
    // The backend hears of each refusal as ErrorStatusEvent (docs/hooks.md: errors without an event of their own).
    const errorEvents = () => backend.requests.filter((r) => r.hook === 'ErrorStatusEvent');
    await eventually(() => errorEvents().length >= 3, 5000, 'three ErrorStatusEvents');
    assert.deepEqual(errorEvents().map((r) => [r.json?.['apiMethod'], r.json?.['info'], r.json?.['callId']]), [
      ['call', `call: callId ${call.callId} is already in use`, call.callId],
      ['answer', 'answer: the call is ESTABLISHED', call.callId],
      ['unhold', 'unhold: no call nope in this session', 'nope'],
    ]);
    call.hangup();
    await call.waitEnd();
    assertSippOk(await sipp.done);
  });

  it('a browser without G.711 (Opus only): transcoded (codecPolicy passthrough), ESTABLISHED as OPUS/PCMU, hangup → FINISH', async () => {
    const sipp = await uas('uas-answer');
    const client = await connect(sipp);
    const opusOnly = new BrowserPeer({ audio: [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 }] });
    const call = await client.call('bob', {}, opusOnly);
    await established(call);
    assert.equal(ts.server.gateway.calls().find((c) => c.callId === call.callId)?.codec, 'OPUS/PCMU');
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    assertSippOk(await sipp.done);
  });
});

describe('a browser SDP no WebRTC engine can connect', { timeout: 60_000 }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999 });
  });
  after(async () => {
    await ts?.stop();
  });

  it('an offer without a DTLS fingerprint: FAILED naming it at once, no INVITE, no port kept', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', calls: 1, timeoutMs: 30_000 });
    const client = await WebRtcClient.connect(ts.wsUrl, { sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port });
    const peer = new BrowserPeer();
    const offer = peer.createOffer.bind(peer);
    peer.createOffer = async () => (await offer()).replace(/^a=fingerprint:.*\r\n/gm, '');
    try {
      const call = await client.call('bob', {}, peer);
      const end = await call.waitEnd();
      assert.equal(end['status'], 'FAILED');
      assert.match(String(end['info']), /^Failed by session creation: the browser SDP has no a=fingerprint/);
      assert.equal(ts.server.media.webrtcPorts.inUse, 0);
      assert.deepEqual(received(await sipp.kill()), [], 'sipp got nothing');
    } finally {
      await client.close();
    }
  });
});

describe('media inactivity: no RTP from the SIP side of an established call', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let sipp: SippProcess | undefined;
  let client: WebRtcClient | undefined;
  before(async () => {
    ts = await startTestServer({ rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999, rtpInactivityTimeoutMs: 1000 });
  });
  after(async () => {
    await client?.close();
    await sipp?.kill();
    await ts?.stop();
  });

  it('ends the call with FAILED "Failed by RTP activity" and a BYE; ringing without media does not count', async () => {
    // No -rtp_echo: sipp sends no RTP at all. It rings for 1.5 s first (longer than the timeout).
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-slow-answer'), mode: 'uas', transport: 'u1', timeoutMs: SIPP_TIMEOUT_MS });
    client = await WebRtcClient.connect(ts.wsUrl, { sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port });
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED');
    const started = Date.now();
    const end = await call.waitEnd(5000);
    assert.equal(end['status'], 'FAILED');
    assert.equal(end['info'], 'Failed by RTP activity');
    assert.ok(Date.now() - started >= 800, 'not before the timeout');
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(received(result), ['INVITE', 'ACK', 'BYE']);
    await eventually(() => ts.server.media.rtpPorts.inUse === 0 && ts.server.media.webrtcPorts.inUse === 0, 5000, 'ports to be released');
  });
});
