/**
 * Call detail records against real peers (docs/admin.md "Call detail records"): the werift test client calls sipp UAS
 * scenarios through an in-process callhook; each call's record in the store, at GET /api/cdr (JSON and CSV), in
 * `callhook show cdr`'s table and as the CallDetailRecord event at the backend. Then a crash: the real server
 * process is killed with a call up, and the next start closes its record with `Server restarted`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { renderCallRecords, type CallRecordData } from '../../src/admin/cli/render.ts';
import { openStore } from '../../src/store/index.ts';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { messageFlow, parseMessageTrace, runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient, type ClientCall } from '../support/webrtc-client.ts';
import { restApi } from '../support/rest-api.ts';
import { audibleSpan, readPcmWav } from '../support/wav.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const APP = 'cdrApp';
const SIPP_TIMEOUT_MS = 20_000;

/** The Call-ID of the first INVITE sipp received. */
function inviteCallId(messages: string): string | undefined {
  const invite = parseMessageTrace(messages).find((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE'));
  return invite && /^Call-ID:\s*(\S+)\r?$/im.exec(invite.text)?.[1];
}

/** The Call-ID of the INVITE sipp sent (as a UAC). */
function inviteCallIdSent(messages: string): string | undefined {
  const invite = parseMessageTrace(messages).find((m) => m.direction === 'sent' && m.firstLine.startsWith('INVITE'));
  return invite && /^Call-ID:\s*(\S+)\r?$/im.exec(invite.text)?.[1];
}

describe('call detail records: werift client → callhook → sipp UAS', { timeout: 120_000 }, () => {
  let backend: TestBackend;
  let ts: TestServer;
  const clients: WebRtcClient[] = [];
  const sipps: SippProcess[] = [];

  async function uas(name: string): Promise<SippProcess> {
    const sipp = await runSipp({ scenarioFile: scenarioFile(name), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: SIPP_TIMEOUT_MS });
    sipps.push(sipp);
    return sipp;
  }

  async function call(sipp: SippProcess, appKey = APP, extra: Record<string, unknown> = {}): Promise<ClientCall> {
    const client = await WebRtcClient.connect(ts.wsUrl, { appKey, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(client);
    return client.call('bob', extra);
  }

  /** The session id of the client of the last call placed. */
  const lastSessionId = (): string => clients.at(-1)!.sessionId;

  /** The call's record in the store, once it is closed. */
  async function recordOf(callId: string) {
    await eventually(async () => (await ts.server.store.callRecords.query()).some((r) => r.callId === callId && r.endedAt !== null), 5000, `the record of ${callId}`);
    return (await ts.server.store.callRecords.query()).find((r) => r.callId === callId)!;
  }

  const pushed = (callId: string): RecordedRequest[] =>
    backend.requests.filter((r) => r.hook === 'CallDetailRecord' && r.json?.['callId'] === callId);

  async function api(path: string): Promise<Response> {
    return fetch(`${ts.server.adminUrl}${path}`, { headers: { authorization: `Bearer ${ts.server.adminToken}` } });
  }

  before(async () => {
    backend = await TestBackend.start();
    ts = await startTestServer({
      rtpPortMin: 43000, rtpPortMax: 43499, webrtcPortMin: 43500, webrtcPortMax: 43999, webrtcConnectTimeoutMs: 3000, sipT1Ms: 100, sipT2Ms: 400,
    });
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sipps.splice(0)) await s.kill();
    await eventually(() => ts.server.gateway.sessionCount === 0 && ts.server.gateway.calls().length === 0, 10_000, 'sessions and calls to end');
  });

  after(async () => {
    await ts?.stop();
    await backend?.stop();
  });

  it('answered, then the client hangs up: the whole record, at the API (JSON, CSV), in show cdr and pushed once', async () => {
    const sipp = await uas('uas-answer');
    // A page cannot record a call: only the backend's answer can (the backend here echoes what it is sent).
    const c = await call(sipp, APP, { record: true });
    // Live: the record is open.
    await c.waitStatus('ESTABLISHED');
    await c.connected();
    const open = (await ts.server.store.callRecords.query()).find((r) => r.callId === c.callId)!;
    assert.equal(open.endedAt, null);
    assert.notEqual(open.answeredAt, null);
    const echoed = await c.exchangeAudio(60, 50);
    assert.ok(echoed >= 50, `${echoed}/60 packets made the round trip`);
    // Seven packets that never reach callhook: the WebRTC leg counts them from the sequence numbers, and, sipp
    // echoing the relayed stream with its gap, so does the SIP leg.
    c.skipSequenceNumbers(7);
    await c.exchangeAudio(20, 15);
    c.hangup();
    await c.waitEnd();
    const result = await sipp.done;
    const r = await recordOf(c.callId);
    assert.equal(r.appKey, APP);
    assert.equal(r.sessionId, lastSessionId());
    assert.equal(r.direction, 'outgoing');
    assert.equal(r.caller, 'alice');
    assert.equal(r.callee, 'bob');
    assert.equal(r.sipCallId, inviteCallId(result.messages));
    assert.equal(r.status, 'FINISH');
    assert.equal(r.info, 'Normal call clearing');
    assert.equal(r.hangupSide, 'client');
    assert.equal(r.sipStatus, 200, 'the answer to our BYE');
    assert.equal(r.codec, 'PCMU');
    assert.ok(r.startedAt <= r.answeredAt! && r.answeredAt! <= r.endedAt!, JSON.stringify(r));
    assert.equal(r.durationMs, r.endedAt! - r.answeredAt!);
    assert.ok(r.packetsToSip! >= 50 && r.packetsToBrowser! >= 50, JSON.stringify(r));
    assert.deepEqual([r.lostFromBrowser, r.lostFromSip], [7, 7]);
    assert.equal(r.recording, null);
    assert.deepEqual(r.hooks, [{ method: 'call', outcome: 'ok' }, { method: 'hangup', outcome: 'ok' }]);

    // The backend gets it once, as the API shows it (ISO times, no row id).
    await eventually(() => pushed(c.callId).length === 1, 5000, 'the CallDetailRecord event');
    const event = pushed(c.callId)[0]!.json!;
    assert.equal(event['sipCallId'], r.sipCallId);
    assert.equal(event['startedAt'], new Date(r.startedAt).toISOString());
    assert.equal(event['durationMs'], r.durationMs);
    assert.equal(event['hangupSide'], 'client');
    assert.equal(event['appKey'], APP);
    assert.equal(Object.hasOwn(event, 'id'), false);

    const listed = (await (await api(`/api/cdr?app=${APP}&since=1h&limit=10`)).json()) as CallRecordData[];
    const mine = listed.find((x) => x.callId === c.callId)!;
    assert.equal(mine.startedAt, new Date(r.startedAt).toISOString());
    assert.equal(mine.status, 'FINISH');
    assert.deepEqual((await (await api('/api/cdr?app=nobody')).json()), []);
    assert.deepEqual((await (await api(`/api/cdr?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json()), []);
    const table = renderCallRecords(listed);
    assert.match(table, new RegExp(`out\\s+alice\\s+bob\\s+FINISH\\s+\\S+\\s+client\\s+\\d+\\.\\d\\s+PCMU\\s+Normal call clearing\\s+${c.callId}`));

    const csv = await api(`/api/cdr?app=${APP}&format=csv`);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    assert.equal(lines[0], 'id,callId,sessionId,appKey,direction,caller,callee,sipCallId,startedAt,answeredAt,endedAt,durationMs,status,info,sipStatus,hangupSide,codec,packetsToSip,packetsToBrowser,droppedToSip,droppedToBrowser,lostFromSip,lostFromBrowser,recording,hooks');
    const row = lines.find((l) => l.includes(c.callId))!;
    assert.match(row, new RegExp(`,outgoing,alice,bob,${r.sipCallId!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},`));
    assert.match(row, /,FINISH,Normal call clearing,200,client,PCMU,\d+,\d+,\d+,\d+,7,7,,call:ok hangup:ok$/);

    const bad = await api('/api/cdr?since=yesterday');
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /since.*ISO 8601 time/);
  });

  it('the far end hangs up (BYE): FINISH by the remote side', async () => {
    const sipp = await uas('uas-answer-bye');
    const c = await call(sipp);
    // sipp hangs up 1 s after our ACK; should the call outlive that, its trace tells which message went missing.
    await c.waitEnd().catch((err: Error) => {
      throw new Error(`${err.message}\nsipp's messages:\n${messageFlow(sipp.messages())}`, { cause: err });
    });
    const r = await recordOf(c.callId);
    assert.equal(r.status, 'FINISH');
    assert.equal(r.hangupSide, 'remote');
    assert.notEqual(r.answeredAt, null);
  });

  it('busy (486): BUSY with its SIP status, never answered, by the remote side', async () => {
    const sipp = await uas('uas-486');
    const c = await call(sipp);
    await c.waitEnd();
    const result = await sipp.done;
    const r = await recordOf(c.callId);
    assert.deepEqual(
      [r.status, r.info, r.sipStatus, r.hangupSide, r.answeredAt, r.durationMs, r.sipCallId],
      ['BUSY', 'SIP 486 Busy Here', 486, 'remote', null, 0, inviteCallId(result.messages)],
    );
  });

  it('failed (404): FAILED with its SIP status', async () => {
    const sipp = await uas('uas-404');
    const c = await call(sipp);
    await c.waitEnd();
    const r = await recordOf(c.callId);
    assert.deepEqual([r.status, r.info, r.sipStatus, r.hangupSide, r.answeredAt], ['FAILED', 'SIP 404 Not Found', 404, 'remote', null]);
  });

  it('cancelled: the client hangs up while it rings → FINISH by the client, never answered', async () => {
    const sipp = await uas('uas-ring-no-answer');
    const c = await call(sipp);
    await c.waitStatus('RING');
    c.hangup();
    await c.waitEnd();
    const r = await recordOf(c.callId);
    assert.deepEqual([r.status, r.info, r.hangupSide, r.answeredAt, r.durationMs], ['FINISH', 'Normal call clearing', 'client', null, 0]);
  });

  it('refused by the call hook (restOnError FAIL): FAILED, and the refusal is in the record', async () => {
    backend.responder = (req) => (req.hook === 'call' ? { kind: 'json', status: 500, body: {} } : { kind: 'echo' });
    await ts.server.store.apps.update(APP, { restClientConfig: { call: { restOnError: 'FAIL' } } });
    try {
      const sipp = await uas('uas-answer');
      const c = await call(sipp);
      await c.waitEnd();
      const r = await recordOf(c.callId);
      assert.equal(r.status, 'FAILED');
      assert.equal(r.sipCallId, null, 'no INVITE went out');
      assert.equal(r.hooks.length, 1);
      assert.equal(r.hooks[0]!.method, 'call');
      assert.equal(r.hooks[0]!.outcome, 'refused');
      assert.match(r.hooks[0]!.info!, /Internal Server Error/);
    } finally {
      backend.responder = () => ({ kind: 'echo' });
      await ts.server.store.apps.update(APP, { restClientConfig: {} });
    }
  });

  it('an app without CallDetailRecord enabled still gets the record, and no event', async () => {
    const quiet = 'quietApp';
    await ts.server.store.apps.add({ name: quiet, appKey: quiet, url: backend.url() });
    await ts.server.store.apps.enableMethod(quiet, 'call');
    const sipp = await uas('uas-486');
    const c = await call(sipp, quiet);
    await c.waitEnd();
    const r = await recordOf(c.callId);
    assert.equal(r.appKey, quiet);
    assert.equal(r.status, 'BUSY');
    assert.equal(backend.requests.filter((q) => q.hook === 'CallDetailRecord' && q.json?.['appKey'] === quiet).length, 0);
  });
});

describe('call detail records: an incoming call through Kamailio', { timeout: 120_000 }, () => {
  const users = [{ username: 'alice', password: 'alice-pw' }, { username: 'dave', password: 'dave-pw' }];
  let kamailio: KamailioInstance;
  let backend: TestBackend;
  let ts: TestServer;
  let client: WebRtcClient | undefined;

  before(async () => {
    kamailio = await startKamailio({ users });
    // The app records alice's incoming calls: its OnCallEvent answer says `record: true` (with `record` in restOverwrite).
    backend = await TestBackend.start({
      responder: (req) => {
        if (req.hook === 'connect') return { kind: 'json', body: { ...req.json, restClientConfig: { OnCallEvent: { restPolicy: 'OVERWRITE', restOverwrite: 'record' } } } };
        if (req.hook === 'OnCallEvent') return { kind: 'json', body: { ...req.json, record: true } };
        return { kind: 'echo' };
      },
    });
    ts = await startTestServer({ rtpPortMin: 51000, rtpPortMax: 51499, webrtcPortMin: 51500, webrtcPortMax: 51999 });
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });

  after(async () => {
    await client?.close();
    await ts?.stop();
    await backend?.stop();
    await kamailio?.stop();
  });

  it('a sipp UAC calls alice, she answers, sipp hangs up: incoming, answered, by the remote side, OnCallEvent and answer hooks; recorded as the OnCallEvent answer says', async () => {
    client = await WebRtcClient.connect(ts.wsUrl, {
      appKey: APP, sipLogin: 'alice', sipPassword: 'alice-pw', sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host,
      sipPort: kamailio.port, sipRegisterRequired: true,
    });
    const sipp = await runSipp({
      scenarioFile: scenarioFile('uac-call'), mode: 'uac', transport: 'u1', remote: kamailio, service: 'alice',
      auth: users[1]!, keys: { caller: 'dave', domain: kamailio.domain },
      extraArgs: ['-rtp_echo', '-auth_uri', `sip:alice@${kamailio.domain}`, '-d', '4000'], timeoutMs: 30_000,
    });
    const c = await client.nextIncoming(10_000);
    // The client's answer cannot turn the app's recording off.
    await c.answer({ record: false });
    await c.waitStatus('ESTABLISHED', 10_000);
    await c.connected();
    // alice speaks; sipp echoes her: both channels of the recording have audio.
    await c.exchangeAudio(25, 10);
    await c.waitEnd(10_000);
    const result = await sipp.done;
    await eventually(async () => (await ts.server.store.callRecords.query()).some((r) => r.callId === c.callId && r.endedAt !== null), 5000, 'the record');
    const r = (await ts.server.store.callRecords.query()).find((x) => x.callId === c.callId)!;
    assert.deepEqual(
      [r.direction, r.caller, r.callee, r.status, r.hangupSide, r.sipCallId, r.codec],
      ['incoming', 'dave', 'alice', 'FINISH', 'remote', inviteCallIdSent(result.messages), 'PCMU'],
    );
    assert.notEqual(r.answeredAt, null);
    assert.ok(r.durationMs! > 0);
    assert.deepEqual(r.hooks.map((h) => `${h.method}:${h.outcome}`), ['OnCallEvent:ok', 'answer:ok']);
    await eventually(() => backend.requests.some((q) => q.hook === 'CallDetailRecord' && q.json?.['callId'] === c.callId), 5000, 'the event');

    assert.equal(r.recording, `${encodeURIComponent(c.callId)}.wav`);
    const listed: CallRecordData[] = (await restApi(ts.server)('/api/cdr')).json;
    assert.equal(listed.find((x) => x.callId === c.callId)?.recording, r.recording);
    const wav = await restApi(ts.server)(`/api/recordings/${encodeURIComponent(c.callId)}`);
    assert.equal(wav.status, 200);
    const [left, right] = readPcmWav(wav.json as Buffer).samples;
    const heard = (s: Int16Array): number => { const [start, end] = audibleSpan(s, 100); return end - start; };
    // 10 or more 20 ms frames each way: 160 samples a frame at 8000 Hz.
    assert.ok(heard(left!) >= 1600 && heard(right!) >= 1600, `alice ${heard(left!)} samples, dave ${heard(right!)}`);
  });
});

describe('call detail records: a crash with a call up', { timeout: 120_000 }, () => {
  let dataDir: string;
  let backend: TestBackend;
  let sipp: SippProcess;
  const servers: CallhookProcess[] = [];
  const clients: WebRtcClient[] = [];

  async function start(): Promise<CallhookProcess> {
    const server = await startCallhookProcess({ dataDir, rtpPortMin: 50000, rtpPortMax: 50499, webrtcPortMin: 50500, webrtcPortMax: 50999 });
    servers.push(server);
    return server;
  }

  before(async () => {
    backend = await TestBackend.start();
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 100_000 });
    dataDir = await mkdtemp(join(tmpdir(), 'callhook-cdr-crash-'));
    const store = openStore({ dataDir, adminPort: 0 });
    await store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await store.apps.enableMethod(APP, '*');
    store.close();
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const s of servers) await s.kill('SIGKILL');
    await sipp?.kill();
    await backend?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('kill -9 mid-call, restart: the record is closed with "Server restarted" and pushed once', async () => {
    const first = await start();
    const client = await WebRtcClient.connect(first.wsUrl, { appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(client);
    const c = await client.call('bob');
    await c.waitStatus('ESTABLISHED', 20_000);
    assert.equal(await first.kill('SIGKILL'), 'killed by SIGKILL');

    const second = await start();
    const res = await fetch(`${second.adminUrl}/api/cdr`, { headers: { authorization: `Bearer ${second.adminToken}` } });
    const [r, ...others] = (await res.json()) as CallRecordData[];
    assert.deepEqual(others, []);
    assert.equal(r!.callId, c.callId);
    assert.equal(r!.status, 'FINISH');
    assert.equal(r!.info, 'Server restarted');
    assert.equal(r!.hangupSide, 'callhook');
    assert.notEqual(r!.answeredAt, null, 'it was answered before the crash');
    assert.ok(r!.durationMs! >= 0);
    await eventually(() => backend.requests.some((q) => q.hook === 'CallDetailRecord' && q.json?.['callId'] === c.callId), 10_000, 'the CallDetailRecord event');
    assert.match(JSON.stringify(second.logLines(/detail records are closed/)), /"calls":1/);

    // A clean stop and another start: nothing is left to close, nothing is pushed again.
    assert.equal(await second.kill('SIGTERM'), 'exited with code 0');
    const third = await start();
    assert.deepEqual(third.logLines(/detail records are closed/), []);
    assert.equal(await third.kill('SIGTERM'), 'exited with code 0');
    assert.equal(backend.requests.filter((q) => q.hook === 'CallDetailRecord' && q.json?.['callId'] === c.callId).length, 1);
  });
});

describe('call detail records: the browser goes away mid-call (a real callhook process)', { timeout: 120_000 }, () => {
  let backend: TestBackend;
  let sipp: SippProcess;
  let server: CallhookProcess;
  let client: WebRtcClient | undefined;

  before(async () => {
    backend = await TestBackend.start();
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 100_000 });
    server = await startCallhookProcess({ rtpPortMin: 52000, rtpPortMax: 52499, webrtcPortMin: 52500, webrtcPortMax: 52999 });
    await server.addApp(APP, backend.url());
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await server?.stop();
    await sipp?.kill();
    await backend?.stop();
  });

  it('the WebSocket drops with a call up (no close frame): the record is closed, hung up by the client, and the far end gets BYE', async () => {
    client = await WebRtcClient.connect(server.wsUrl, { appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
    const c = await client.call('bob');
    await c.waitStatus('ESTABLISHED', 20_000);
    // As a tab that crashes or loses its network: the TCP connection ends without a WebSocket close handshake.
    client.ws.ws.terminate();
    const result = await sipp.done;
    assert.ok(parseMessageTrace(result.messages).some((m) => m.direction === 'received' && m.firstLine.startsWith('BYE')), 'sipp got no BYE');
    let record: CallRecordData | undefined;
    await eventually(async () => {
      const res = await fetch(`${server.adminUrl}/api/cdr?app=${APP}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
      record = ((await res.json()) as CallRecordData[]).find((r) => r.callId === c.callId);
      return record?.endedAt !== null && record?.endedAt !== undefined;
    }, 10_000, 'the closed record');
    assert.deepEqual(
      [record!.status, record!.info, record!.hangupSide],
      ['FINISH', 'Connection lost (WebSocket close code 1006)', 'client'],
    );
    assert.notEqual(record!.answeredAt, null);
  });
});
