/**
 * Call limits and port exhaustion (issue 10, item 6): one session or one IP address cannot take every media port.
 * The attack of the issue — one session placing call after call while the far end rings, to hold every port pair —
 * is run against a real callhook (werift browsers over the WCS protocol, a real HTTP backend, a sipp UAS that rings
 * and never answers). A second client IP address is 127.0.0.2 (any 127/8 address is loopback on Linux).
 *
 * Incoming calls count too: through a registration on the test Kamailio, a sipp caller that finds the session at its
 * limit gets 486 Busy Here.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { LOOPBACK } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient, type ClientCall } from '../support/webrtc-client.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const APP = 'limitsApp';
const SECOND_ADDRESS = '127.0.0.2';
const RTP_MIN = 53000;
const WEBRTC = { webrtcPortMin: 53200, webrtcPortMax: 53399 };

type LogLine = Record<string, unknown> & { msg?: string };

describe('call limits: werift browsers → callhook → sipp UAS that rings', { timeout: 240_000 }, () => {
  let backend: TestBackend;
  let sipp: SippProcess;
  let ts: TestServer | undefined;
  const log: LogLine[] = [];
  const clients: WebRtcClient[] = [];

  /** A callhook with `overrides`, its app pointed at the backend. */
  async function start(overrides: Record<string, unknown>): Promise<TestServer> {
    ts = await startTestServer(
      { rtpPortMin: RTP_MIN, rtpPortMax: RTP_MIN + 99, ...WEBRTC, sipT1Ms: 100, sipT2Ms: 400, ...overrides },
      { logger: createLogger('info', { write: (line: string) => void log.push(JSON.parse(line) as LogLine) }) },
    );
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
    return ts;
  }

  async function connect(localAddress = LOOPBACK): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(
      ts!.wsUrl,
      { appKey: APP, sipLogin: 'alice', sipDomain: LOOPBACK, sipPort: sipp.port, sipRegisterRequired: false },
      { localAddress },
    );
    clients.push(client);
    return client;
  }

  async function ringing(client: WebRtcClient): Promise<ClientCall> {
    const call = await client.call('bob');
    await call.waitStatus('RING');
    return call;
  }

  /**
   * A call refused by a limit: `fail` for `call` naming it, then `finish` FAILED with the same info; its detail
   * record says so, and is pushed to the backend.
   */
  async function refused(client: WebRtcClient, info: string): Promise<ClientCall> {
    const call = await client.call('bob');
    const fail = await call.waitFrame('fail');
    assert.deepEqual([fail['apiMethod'], fail['info'], fail['callId']], ['call', info, call.callId]);
    const end = await call.waitEnd();
    assert.deepEqual([end['status'], end['info']], ['FAILED', info]);
    const record = (await ts!.server.store.callRecords.query()).find((r) => r.callId === call.callId);
    assert.deepEqual(
      record && [record.sessionId, record.appKey, record.direction, record.caller, record.callee, record.status, record.info, record.hangupSide, record.sipCallId, record.answeredAt, record.durationMs],
      [client.sessionId, APP, 'outgoing', 'alice', 'bob', 'FAILED', info, 'callhook', null, null, 0],
    );
    assert.notEqual(record!.endedAt, null);
    await eventually(() => hooks('CallDetailRecord', call.callId).length === 1, 5000, 'the CallDetailRecord event');
    return call;
  }

  const hooks = (hook: string, callId: string): RecordedRequest[] => backend.requests.filter((r) => r.hook === hook && r.json?.['callId'] === callId);

  async function hangUp(call: ClientCall): Promise<void> {
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
  }

  async function metrics(): Promise<string> {
    const response = await fetch(`${ts!.server.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ts!.server.adminToken}` } });
    return response.text();
  }

  before(async () => {
    backend = await TestBackend.start();
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-ring-no-answer'), mode: 'uas', transport: 'u1', calls: 1000, timeoutMs: 230_000 });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    if (ts) await eventually(() => ts!.server.gateway.calls().length === 0, 10_000, 'calls to end');
    await ts?.stop();
    ts = undefined;
    backend.requests.length = 0;
    log.length = 0;
  });

  after(async () => {
    await sipp?.kill();
    await backend?.stop();
  });

  it('maxCallsPerSession (default 4): a session cannot take a 10-pair port range; another user still calls', async () => {
    // The attack: 20 RTP ports (10 pairs), one session placing 10 calls that all ring.
    await start({ rtpPortMin: RTP_MIN, rtpPortMax: RTP_MIN + 19 });
    const attacker = await connect();
    const held: ClientCall[] = [];
    for (let i = 0; i < 4; i++) held.push(await ringing(attacker));
    const info = 'call: too many calls in this session (the limit is 4: maxCallsPerSession)';
    for (let i = 0; i < 6; i++) {
      const call = await refused(attacker, info);
      // The backend hears of the refusal, and is never asked about the call.
      await eventually(() => hooks('ErrorStatusEvent', call.callId).length === 1, 5000, 'ErrorStatusEvent');
      assert.deepEqual(
        [hooks('ErrorStatusEvent', call.callId)[0]!.json?.['apiMethod'], hooks('ErrorStatusEvent', call.callId)[0]!.json?.['info']],
        ['call', info],
      );
      assert.equal(hooks('call', call.callId).length, 0);
    }
    assert.equal(ts!.server.media.rtpPorts.inUse, 4);

    const user = await connect();
    await ringing(user);
    // The attacker's live calls are untouched; one hung up makes room for one more.
    assert.equal(ts!.server.gateway.calls().filter((c) => c.status === 'RING').length, 5);
    await hangUp(held[0]!);
    await ringing(attacker);
    // A client that keeps hitting a limit is logged once, then counted.
    assert.equal(log.filter((l) => l.msg === 'call refused: a call limit').length, 1);
  });

  it('maxCallsPerIp: the sessions of one address share the limit; a client from another address still calls', async () => {
    await start({ maxCallsPerIp: 3 });
    const first = await connect();
    const second = await connect();
    await ringing(first);
    const toHangUp = await ringing(first);
    await ringing(second);
    await refused(second, 'call: too many calls from 127.0.0.1 (the limit is 3: maxCallsPerIp)');

    const elsewhere = await connect(SECOND_ADDRESS);
    await ringing(elsewhere);
    await hangUp(toHangUp);
    await ringing(second);
  });

  it('callsPerIpPerMinute: calls placed faster than the limit are refused, also after hanging up; another address is not', async () => {
    await start({ callsPerIpPerMinute: 3 });
    const client = await connect();
    for (let i = 0; i < 3; i++) await hangUp(await ringing(client));
    await refused(client, 'call: too many new calls from 127.0.0.1 (the limit is 3 a minute: callsPerIpPerMinute)');
    const elsewhere = await connect(SECOND_ADDRESS);
    await ringing(elsewhere);
  });

  it('port exhaustion: used and free pairs and refusals are metrics; a nearly exhausted range is a warning', async () => {
    const rtpPortMax = RTP_MIN + 3; // 2 pairs
    const range = `RTP ports ${RTP_MIN}-${rtpPortMax}`;
    await start({ rtpPortMax, maxCallsPerSession: 10 });
    const client = await connect();
    assert.match(await metrics(), /^callhook_media_port_pairs\{range="rtp",state="free"\} 2$/m);
    const calls = [await ringing(client), await ringing(client)];
    let text = await metrics();
    assert.match(text, /^callhook_media_port_pairs\{range="rtp",state="used"\} 2$/m);
    assert.match(text, /^callhook_media_port_pairs\{range="rtp",state="free"\} 0$/m);
    assert.match(text, /^callhook_media_port_pairs\{range="webrtc",state="used"\} 2$/m);
    assert.match(text, /^callhook_media_port_exhaustions_total\{range="rtp"\} 0$/m);
    assert.deepEqual(log.filter((l) => l.msg === `${range} nearly exhausted`).map((l) => [l['level'], l['inUse'], l['capacity']]), [[40, 2, 2]]);

    const third = await client.call('bob');
    const end = await third.waitEnd();
    assert.equal(end['status'], 'FAILED');
    assert.equal(end['info'], `Failed by session creation: ${range}: no port pair could be bound`);
    text = await metrics();
    assert.match(text, /^callhook_media_port_exhaustions_total\{range="rtp"\} 1$/m);
    assert.match(text, /^callhook_media_port_exhaustions_total\{range="webrtc"\} 0$/m);
    assert.equal(log.filter((l) => l.msg === `${range} exhausted: a call could not get a port pair`).length, 1);

    for (const call of calls) await hangUp(call);
    await eventually(() => ts!.server.media.rtpPorts.inUse === 0, 5000, 'the RTP ports to be released');
    assert.match(await metrics(), /^callhook_media_port_pairs\{range="rtp",state="free"\} 2$/m);
    assert.equal(log.filter((l) => l.msg === `${range} no longer nearly exhausted`).length, 1);
  });
});

describe('call limits: incoming calls count too', { timeout: 120_000 }, () => {
  let kamailio: KamailioInstance;
  let ts: TestServer;
  const sipps: SippProcess[] = [];
  let alice: WebRtcClient | undefined;

  before(async () => {
    kamailio = await startKamailio({ users: [{ username: 'alice', password: 'alice-pw' }] });
    ts = await startTestServer({ rtpPortMin: RTP_MIN, rtpPortMax: RTP_MIN + 99, ...WEBRTC, maxCallsPerSession: 1 });
  });

  after(async () => {
    await alice?.close();
    for (const s of sipps) await s.kill();
    await ts?.stop();
    await kamailio?.stop();
  });

  it('a session at maxCallsPerSession answers a new INVITE with 486 Busy Here; its ringing call goes on', async () => {
    alice = await WebRtcClient.connect(ts.wsUrl, {
      sipLogin: 'alice', sipPassword: 'alice-pw', sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host, sipPort: kamailio.port,
      sipRegisterRequired: true,
    });
    const [binding] = await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'alice'), 5000);
    // The registrar would route a call for alice to this Contact; the callers send it there themselves.
    const contactUser = /^sip:([^@]+)@/.exec(binding!.contact)![1]!;
    const caller = (scenario: string): Promise<SippProcess> =>
      runSipp({ scenarioFile: scenarioFile(scenario), mode: 'uac', transport: 'u1', remote: { host: LOOPBACK, port: ts.server.sipPort }, service: contactUser, timeoutMs: 20_000 }).then((s) => {
        sipps.push(s);
        return s;
      });

    await caller('uac-invite');
    const first = await alice.nextIncoming();
    await first.waitStatus('RING');
    const busy = await (await caller('uac-invite-reject')).done;
    assert.equal(busy.code, 0, `the second caller expected 486 Busy Here: ${busy.stderr}\n${busy.errors}`);
    assert.deepEqual(ts.server.gateway.calls().map((c) => [c.callId, c.status]), [[first.callId, 'RING']]);
    // The refused call has its detail record: the INVITE's Call-ID, the 486 it got and the limit that refused it.
    const sipCallId = /^Call-ID:\s*(\S+)\r?$/im.exec(busy.messages)?.[1];
    const refusedRecord = (await ts.server.store.callRecords.query()).find((r) => r.sipCallId === sipCallId);
    assert.deepEqual(
      refusedRecord && [refusedRecord.direction, refusedRecord.callee, refusedRecord.status, refusedRecord.sipStatus, refusedRecord.hangupSide, refusedRecord.info],
      ['incoming', contactUser, 'FAILED', 486, 'callhook', 'too many calls in this session (the limit is 1: maxCallsPerSession)'],
    );
  });
});
