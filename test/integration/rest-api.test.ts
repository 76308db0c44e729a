/**
 * The REST API (issue 14, docs/rest-api.md) against real peers: an in-process callhook, a real hook backend
 * (test/support/backend.ts) and sipp UAS scenarios with `-rtp_echo`. A server-started call plays a WAV file, which
 * sipp echoes back; the call's recording must hold the echo in its right channel (same length as the file within
 * one packet, correlation ≥ 0.9). DTMF goes out both ways (RFC 4733, echoed back, and INFO, checked by sipp) and
 * comes in (echoed RFC 4733, sipp's INFO) as OnDtmfEvent; call/terminate ends server and browser calls with a BYE;
 * bad input is answered 4xx naming what was wrong.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { assertSippOk, parseMessageTrace, runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { restApi, type ApiReply } from '../support/rest-api.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { audibleSpan, correlation, pcmWav, readPcmWav, testSignal } from '../support/wav.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const APP = 'restApp';
const SIPP_TIMEOUT_MS = 30_000;
/** The played file: 1.2 s at 16 kHz (so it is resampled on the way). */
const SOUND_SECONDS = 1.2;
/** One RTP packet of G.711: 20 ms at 8000 Hz. */
const PACKET_SAMPLES = 160;

describe('REST API: server-started calls and call control, against sipp (-rtp_echo)', { timeout: 180_000 }, () => {
  let backend: TestBackend;
  let ts: TestServer;
  let dir: string;
  let sound: string;
  const sipps: SippProcess[] = [];
  const clients: WebRtcClient[] = [];

  const events = (hook: string, callId: string): RecordedRequest[] =>
    backend.requests.filter((r) => r.hook === hook && r.json?.['callId'] === callId);
  const statuses = (callId: string): string[] => events('CallStatusEvent', callId).map((r) => String(r.json?.['status']));

  const api = (path: string, body?: unknown): Promise<ApiReply> => restApi(ts.server)(path, body);

  async function uas(name: string, keys?: Record<string, string>): Promise<SippProcess> {
    const sipp = await runSipp({
      scenarioFile: scenarioFile(name), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: SIPP_TIMEOUT_MS, ...(keys && { keys }),
    });
    sipps.push(sipp);
    return sipp;
  }

  /** call/startup towards a sipp UAS; returns the callId once the call is ESTABLISHED at the backend. */
  async function startCall(sipp: SippProcess, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await api('/rest-api/call/startup', {
      appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port, callee: 'bob', ...extra,
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const callId = String(r.json.callId);
    assert.match(String(r.json.sessionId), /^\/rest-api\//);
    await eventually(() => statuses(callId).includes('ESTABLISHED'), 10_000, `ESTABLISHED of ${callId} (so far ${statuses(callId).join(', ')})`);
    return callId;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-rest-api-'));
    sound = join(dir, 'prompt.wav');
    await writeFile(sound, pcmWav(testSignal(SOUND_SECONDS, 16000), 16000));
    backend = await TestBackend.start();
    ts = await startTestServer({ rtpPortMin: 48000, rtpPortMax: 48999, webrtcPortMin: 49000, webrtcPortMax: 49999 });
    ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    ts.server.store.apps.enableMethod(APP, '*');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sipps.splice(0)) await s.kill();
    await eventually(() => ts.server.gateway.sessionCount === 0 && ts.server.gateway.calls().length === 0, 10_000, 'sessions and calls to end');
    await eventually(() => ts.server.media.rtpPorts.inUse === 0, 5000, 'ports to be released');
    backend.requests.length = 0;
    backend.responder = () => ({ kind: 'echo' });
  });

  after(async () => {
    await ts?.stop();
    await backend?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('startup plays the file, sipp echoes it into the recording; terminate sends BYE; the statuses reach the backend', async () => {
    const sipp = await uas('uas-answer');
    const callId = await startCall(sipp, { play: sound, record: true });
    // The sound plays in real time: once the echo of all of it is back, the call is ended.
    const played = (SOUND_SECONDS * 1000) / 20;
    await eventually(() => {
      const c = ts.server.gateway.calls()[0];
      return (c?.packetsToSip ?? 0) >= played && (c?.packetsToBrowser ?? 0) >= played;
    }, 10_000, () => `the sound and its echo (${JSON.stringify(ts.server.gateway.calls()[0])})`);
    const found = await api('/rest-api/call/find', { callId });
    assert.equal(found.status, 200);
    assert.deepEqual(found.json.map((c: { callId: string; status: string; sipLogin: string }) => [c.callId, c.status, c.sipLogin]), [[callId, 'ESTABLISHED', 'alice']]);
    assert.equal((await api('/rest-api/call/terminate', { callId })).status, 200);
    const result = await sipp.done;
    assertSippOk(result);
    assert.ok(parseMessageTrace(result.messages).some((m) => m.direction === 'received' && m.firstLine.startsWith('BYE ')), 'sipp got a BYE');
    await eventually(() => statuses(callId).includes('FINISH'), 5000, 'FINISH at the backend');
    assert.deepEqual(statuses(callId), ['TRYING', 'RING', 'ESTABLISHED', 'FINISH']);
    assert.equal(events('CallStatusEvent', callId).at(-1)!.json!['info'], 'Terminated by API');
    assert.equal(events('call', callId).length, 1, 'the call hook was asked');

    // The recording: listed, served, stereo 8 kHz; its right channel is the echo of the file.
    // The recording is complete once the call's RTP port is given back.
    await eventually(() => ts.server.media.rtpPorts.inUse === 0, 5000, 'the call to be closed');
    assert.ok((await api('/api/recordings')).json.some((r: { callId: string }) => r.callId === callId), 'the recording listed');
    const cdr = (await api('/api/cdr')).json.find((r: { callId: string }) => r.callId === callId);
    assert.equal(cdr?.recording, `${encodeURIComponent(callId)}.wav`, 'the recording in the call detail record');
    const wav = await api(`/api/recordings/${encodeURIComponent(callId)}`);
    assert.equal(wav.status, 200);
    const recorded = readPcmWav(wav.json as Buffer);
    assert.equal(recorded.channels, 2);
    assert.equal(recorded.rate, 8000);
    const reference = testSignal(SOUND_SECONDS, 8000);
    const [refStart, refEnd] = audibleSpan(reference);
    const [start, end] = audibleSpan(recorded.samples[1]!);
    assert.ok(Math.abs((end - start) - (refEnd - refStart)) <= PACKET_SAMPLES, `echo ${end - start} samples, file ${refEnd - refStart}`);
    let best = -1;
    for (let lag = start - refStart - 40; lag <= start - refStart + 40; lag++) {
      if (lag < 0) continue;
      best = Math.max(best, correlation(recorded.samples[1]!.subarray(lag, lag + reference.length), reference));
    }
    assert.ok(best >= 0.9, `correlation of the echo with the file: ${best}`);
    // The left channel is what callhook sent: the file itself.
    const [leftStart, leftEnd] = audibleSpan(recorded.samples[0]!);
    assert.ok(Math.abs((leftEnd - leftStart) - (refEnd - refStart)) <= PACKET_SAMPLES, `sent ${leftEnd - leftStart} samples`);
  });

  it('send_dtmf RFC2833 reaches sipp, whose echo comes back as OnDtmfEvent; hangupAfterPlay ends the call', async () => {
    const sipp = await uas('uas-answer');
    const callId = await startCall(sipp);
    assert.equal((await api('/rest-api/call/send_dtmf', { callId, dtmf: '1#', type: 'RFC2833' })).status, 200);
    await eventually(() => events('OnDtmfEvent', callId).length >= 2, 10_000, () => `OnDtmfEvent (so far ${JSON.stringify(events('OnDtmfEvent', callId).map((r) => r.json))})`);
    const dtmf = events('OnDtmfEvent', callId).map((r) => r.json!);
    assert.deepEqual(dtmf.map((e) => [e['digit'], e['method']]), [['1', 'RFC2833'], ['#', 'RFC2833']]);
    assert.ok(dtmf.every((e) => typeof e['duration'] === 'number' && e['duration'] > 0), JSON.stringify(dtmf));
    // inject_sound into the live call, with hangupAfterPlay not set: stop_sound stops it.
    assert.equal((await api('/rest-api/call/inject_sound', { callId, file: sound, loop: true })).status, 200);
    assert.deepEqual((await api('/rest-api/call/stop_sound', { callId })).json, { stopped: true });
    assert.deepEqual((await api('/rest-api/call/stop_sound', { callId })).json, { stopped: false });
    assert.equal((await api('/rest-api/call/terminate', { callId })).status, 200);
    assertSippOk(await sipp.done);
  });

  it('startup with hangupAfterPlay ends the call with a BYE once the file has played', async () => {
    const sipp = await uas('uas-answer');
    const callId = await startCall(sipp, { play: sound, hangupAfterPlay: true });
    assertSippOk(await sipp.done);
    await eventually(() => statuses(callId).includes('FINISH'), 5000, 'FINISH at the backend');
    assert.equal(events('CallStatusEvent', callId).at(-1)!.json!['info'], 'Sound played');
  });

  it('hold and unhold a server-started call: HOLD, then ESTABLISHED, re-INVITEs checked by sipp', async () => {
    const sipp = await uas('uas-hold-unhold');
    const callId = await startCall(sipp);
    assert.equal((await api('/rest-api/call/hold', { callId })).status, 200);
    await eventually(() => statuses(callId).includes('HOLD'), 5000, 'HOLD');
    assert.equal((await api('/rest-api/call/unhold', { callId })).status, 200);
    await eventually(() => statuses(callId).filter((st) => st === 'ESTABLISHED').length === 2, 5000, 'ESTABLISHED again');
    assert.equal((await api('/rest-api/call/terminate', { callId })).status, 200);
    assertSippOk(await sipp.done);
  });

  it('transfer a server-started call: REFER to sipp, TransferStatusEvent up to COMPLETED, then our BYE', async () => {
    const sipp = await uas('uas-refer-notify');
    const callId = await startCall(sipp);
    assert.equal((await api('/rest-api/call/transfer', { callId, target: 'carol' })).status, 200);
    const result = await sipp.done;
    assertSippOk(result);
    assert.deepEqual(parseMessageTrace(result.messages).filter((m) => m.direction === 'received').map((m) => m.firstLine.split(' ')[0]), ['INVITE', 'ACK', 'REFER', 'SIP/2.0', 'SIP/2.0', 'BYE']);
    await eventually(() => events('TransferStatusEvent', callId).length >= 4, 5000, 'TransferStatusEvents');
    assert.deepEqual(events('TransferStatusEvent', callId).map((r) => r.json?.['status']), ['PENDING', 'ACCEPTED', 'TRYING', 'COMPLETED']);
  });

  it('startup with maxDurationSec ends the call with a BYE when the time is up', async () => {
    const sipp = await uas('uas-answer');
    const callId = await startCall(sipp, { maxDurationSec: 1 });
    assertSippOk(await sipp.done);
    await eventually(() => statuses(callId).includes('FINISH'), 5000, 'FINISH at the backend');
    assert.equal(events('CallStatusEvent', callId).at(-1)!.json!['info'], 'Maximum duration reached');
  });

  it('send_dtmf INFO and INFO_RELAY reach sipp as the INFO bodies it checks', async () => {
    const sipp = await uas('uas-dtmf');
    const callId = await startCall(sipp);
    assert.equal((await api('/rest-api/call/send_dtmf', { callId, dtmf: '7', type: 'INFO' })).status, 200);
    assert.equal((await api('/rest-api/call/send_dtmf', { callId, dtmf: '#', type: 'INFO_RELAY' })).status, 200);
    await eventually(() => parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'sent' && /^CSeq: \d+ INFO\r?$/m.test(m.text)).length >= 2, 10_000, 'both INFOs answered');
    assert.equal((await api('/rest-api/call/terminate', { callId })).status, 200);
    assertSippOk(await sipp.done);
  });

  it('DTMF the far end sends as SIP INFO reaches the backend as OnDtmfEvent method INFO', async () => {
    const sipp = await uas('uas-answer-send-info', { digit: '5' });
    const callId = await startCall(sipp);
    await eventually(() => events('OnDtmfEvent', callId).length === 1, 10_000, 'OnDtmfEvent');
    const e = events('OnDtmfEvent', callId)[0]!.json!;
    assert.deepEqual([e['digit'], e['duration'], e['method']], ['5', 160, 'INFO']);
    assert.equal((await api('/rest-api/call/terminate', { callId })).status, 200);
    assertSippOk(await sipp.done);
  });

  it('terminates a browser call: the client sees FINISH "Terminated by API", sipp gets a BYE; find_all and connection/find_all list it', async () => {
    const sipp = await uas('uas-answer');
    const client = await WebRtcClient.connect(ts.wsUrl, { appKey: APP, sipLogin: 'carol', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(client);
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED');
    const all = await api('/rest-api/call/find_all');
    assert.deepEqual(all.json.map((c: { callId: string; sipLogin: string }) => [c.callId, c.sipLogin]), [[call.callId, 'carol']]);
    const bySipLogin = await api('/rest-api/call/find', { sipLogin: 'carol' });
    assert.equal(bySipLogin.json.length, 1);
    assert.deepEqual((await api('/rest-api/call/find', { callee: 'nobody' })).json, []);
    const sessions = await api('/rest-api/connection/find_all');
    assert.deepEqual(sessions.json.map((s: { sipLogin: string }) => s.sipLogin), ['carol']);
    assert.equal((await api('/rest-api/call/terminate', { callId: call.callId })).status, 200);
    const end = await call.waitEnd();
    assert.equal(end['status'], 'FINISH');
    assert.equal(end['info'], 'Terminated by API');
    assertSippOk(await sipp.done);
    // connection/terminate ends the browser's session.
    const sessionId = String(sessions.json[0].sessionId);
    assert.equal((await api('/rest-api/connection/terminate', { sessionId })).status, 200);
    await eventually(() => ts.server.gateway.sessionCount === 0, 5000, 'the session to end');
    const disconnected = () => backend.requests.filter((r) => r.hook === 'ConnectionStatusEvent' && r.json?.['status'] === 'DISCONNECTED' && r.json?.['sessionId'] === sessionId);
    await eventually(() => disconnected().length === 1, 5000, 'DISCONNECTED at the backend');
    assert.equal(disconnected()[0]!.json!['info'], 'Terminated by API');
  });

  it("inject_sound into a browser call: the far end hears the file instead of the browser, then the browser again; the call hook's record: true records it", async () => {
    backend.responder = (req) => {
      if (req.hook === 'connect') return { kind: 'json', body: { ...req.json, restClientConfig: { call: { restPolicy: 'OVERWRITE', restOverwrite: 'record' } } } };
      if (req.hook === 'call') return { kind: 'json', body: { ...req.json, record: true } };
      return { kind: 'echo' };
    };
    const sipp = await uas('uas-answer');
    const client = await WebRtcClient.connect(ts.wsUrl, { appKey: APP, sipLogin: 'carol', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(client);
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED');
    await call.connected();
    assert.ok((await call.exchangeAudio(25, 20)) >= 20, 'the browser is heard before');
    assert.equal((await api('/rest-api/call/inject_sound', { callId: call.callId, file: sound, loop: true })).status, 200);
    // While it plays, sipp echoes the file: the browser receives audio, but none of its own packets come back.
    const receivedBefore = call.receivedAudio();
    const first = await call.sendAudio(25);
    await eventually(() => call.receivedAudio() - receivedBefore >= 25, 5000, 'the echo of the file at the browser');
    assert.equal(call.echoesOf(first, 25), 0, 'no browser audio reached the far end while the file played');
    assert.deepEqual((await api('/rest-api/call/stop_sound', { callId: call.callId })).json, { stopped: true });
    assert.ok((await call.exchangeAudio(25, 20)) >= 20, 'the browser is heard again after stop_sound');
    // A sound that ends by itself gives the browser back too.
    const short = join(dir, 'short.wav');
    await writeFile(short, pcmWav(testSignal(0.2, 8000), 8000));
    assert.equal((await api('/rest-api/call/inject_sound', { callId: call.callId, file: short })).status, 200);
    assert.ok((await call.exchangeAudio(50, 30)) >= 30, 'the browser is heard again after the sound ended');
    call.hangup();
    await call.waitEnd();
    assertSippOk(await sipp.done);
    // Recorded: the left channel has the browser's packets (constant bytes) and the file; the right their echo.
    await eventually(() => ts.server.media.rtpPorts.inUse === 0, 5000, 'the call to be closed');
    const wav = await api(`/api/recordings/${encodeURIComponent(call.callId)}`);
    assert.equal(wav.status, 200);
    const [left, right] = readPcmWav(wav.json as Buffer).samples as [Int16Array, Int16Array];
    const [ls, le] = audibleSpan(left);
    const [rs, re] = audibleSpan(right);
    assert.ok(le - ls > 8000 && re - rs > 8000, `left ${le - ls}, right ${re - rs} audible samples`);
  });

  it('answers bad input with a 4xx naming what was wrong', async () => {
    const startup = { appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: 5060, callee: 'bob' };
    const missing = await api('/rest-api/call/startup', { ...startup, play: join(dir, 'nope.wav') });
    assert.equal(missing.status, 400);
    assert.match(missing.json.error, /sound file .*nope\.wav does not exist/);
    const cd = join(dir, 'cd.wav');
    await writeFile(cd, pcmWav(testSignal(0.1, 44100), 44100));
    const unsupported = await api('/rest-api/call/startup', { ...startup, play: cd });
    assert.equal(unsupported.status, 400);
    assert.match(unsupported.json.error, /unsupported audio format: PCM at 44100 Hz/);
    const mp3 = join(dir, 'prompt.mp3');
    await writeFile(mp3, Buffer.from('ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000', 'latin1'));
    assert.match((await api('/rest-api/call/startup', { ...startup, play: mp3 })).json.error, /unsupported audio format: an MP3 file/);
    const noCallee = await api('/rest-api/call/startup', { ...startup, callee: undefined });
    assert.equal(noCallee.status, 400);
    assert.match(noCallee.json.error, /body\.callee/);
    const unknownField = await api('/rest-api/call/startup', { ...startup, colour: 'red' });
    assert.match(unknownField.json.error, /unknown field "colour"/);
    assert.match((await api('/rest-api/call/startup', { ...startup, loop: true })).json.error, /loop and hangupAfterPlay need play/);
    for (const path of ['terminate', 'hold', 'unhold', 'stop_sound']) {
      const r = await api(`/rest-api/call/${path}`, { callId: 'no-such-call' });
      assert.equal(r.status, 404, path);
      assert.equal(r.json.error, 'no live call no-such-call', path);
    }
    assert.equal((await api('/rest-api/call/send_dtmf', { callId: 'no-such-call', dtmf: '1' })).status, 404);
    assert.equal((await api('/rest-api/call/inject_sound', { callId: 'no-such-call', file: sound })).status, 404);
    assert.equal((await api('/rest-api/call/transfer', { callId: 'no-such-call', target: 'carol' })).status, 404);
    assert.match((await api('/rest-api/call/send_dtmf', { callId: 'x', dtmf: '1', type: 'SMS' })).json.error, /body\.type/);
    assert.match((await api('/rest-api/call/send_dtmf', { callId: 'x', dtmf: '1X' })).json.error, /body\.dtmf: must be DTMF digits/);
    assert.match((await api('/rest-api/call/find', {})).json.error, /give callId, callee or sipLogin/);
    assert.equal((await api('/rest-api/connection/terminate', { sessionId: '/nobody' })).status, 404);
    assert.equal((await api('/api/recordings/no-such-call')).status, 404);
    const noToken = await fetch(`${ts.server.adminUrl}/rest-api/call/find_all`, { method: 'POST' });
    assert.equal(noToken.status, 401);
  });

  it('a call the call hook refuses is answered 400 with the reason, and the backend hears FAILED', async () => {
    backend.responder = (req) => {
      // The session's restClientConfig (from the connect answer) makes the call hook's failure a refusal.
      if (req.hook === 'connect') return { kind: 'json', body: { ...req.json, restClientConfig: { call: { restOnError: 'FAIL' } } } };
      if (req.hook === 'call') return { kind: 'raw', status: 403, body: 'not today' };
      return { kind: 'echo' };
    };
    const r = await api('/rest-api/call/startup', { appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: 5060, callee: 'bob', callId: 'refused-1' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'call refused-1: Forbidden');
    await eventually(() => statuses('refused-1').includes('FAILED'), 5000, 'FAILED at the backend');
  });
});
