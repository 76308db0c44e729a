/**
 * The info-level log an operator reads (docs/admin.md "Logs"): one line per lifecycle step of a session, its
 * registration and its calls, each carrying the ids that tie them together (sessionId, appKey, callId). An
 * in-process callhook logs at `info` into memory; a werift client calls a sipp UAS that answers and hangs up.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { TestBackend } from '../support/backend.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, scenarioFile } from '../support/sipp.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const APP = 'logApp';

describe('lifecycle logs at info', { timeout: 60_000 }, () => {
  const lines: Record<string, unknown>[] = [];
  let backend: TestBackend;
  let ts: TestServer;

  const logged = (msg: string): Record<string, unknown>[] => lines.filter((l) => l['msg'] === msg);

  before(async () => {
    backend = await TestBackend.start();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    ts = await startTestServer(
      { rtpPortMin: 53500, rtpPortMax: 53699, webrtcPortMin: 53700, webrtcPortMax: 53899, sipT1Ms: 100, sipT2Ms: 400 },
      { logger: createLogger('info', sink) },
    );
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });

  after(async () => {
    await ts?.stop();
    await backend?.stop();
  });

  it('session connected / ended, call started / answered / ended, with the ids that tie them', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer-bye'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 20_000 });
    try {
      const client = await WebRtcClient.connect(ts.wsUrl, { appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
      const call = await client.call('bob');
      await call.waitEnd();
      await client.close();
      await eventually(() => logged('session ended').length === 1, 5000, 'session ended');
      const sessionId = client.sessionId;

      const [connected] = logged('session connected');
      assert.equal(connected!['sessionId'], sessionId);
      assert.equal(connected!['appKey'], APP);
      assert.equal(connected!['ip'], '127.0.0.1');
      const [started] = logged('call started');
      assert.deepEqual([started!['sessionId'], started!['appKey'], started!['callId'], started!['direction'], started!['caller'], started!['callee']], [sessionId, APP, call.callId, 'outgoing', 'alice', 'bob']);
      assert.equal(logged('call answered')[0]!['callId'], call.callId);
      const [ended] = logged('call ended');
      assert.equal(ended!['callId'], call.callId);
      assert.equal(ended!['sessionId'], sessionId);
      assert.equal(ended!['status'], 'FINISH');
      assert.equal(ended!['info'], 'Normal call clearing');
      assert.equal(ended!['hangupSide'], 'remote');
      assert.equal(typeof ended!['sipCallId'], 'string');
      assert.ok(Number(ended!['durationMs']) > 0, JSON.stringify(ended));
      const [gone] = logged('session ended');
      assert.deepEqual([gone!['sessionId'], gone!['appKey'], gone!['ip'], gone!['reason']], [sessionId, APP, '127.0.0.1', 'Disconnected by the client']);
      // In this order.
      const order = lines.map((l) => l['msg']).filter((m) => ['session connected', 'call started', 'call answered', 'call ended', 'session ended'].includes(String(m)));
      assert.deepEqual(order, ['session connected', 'call started', 'call answered', 'call ended', 'session ended']);
    } finally {
      await sipp.kill();
    }
  });

  it('a registration that fails, and a connect the backend refuses', async () => {
    // No registrar on this port: the REGISTER times out (64*T1 with T1 = 100 ms).
    const client = await WebRtcClient.connect(ts.wsUrl, {
      appKey: APP, sipLogin: 'alice', sipPassword: 'pw', sipDomain: '127.0.0.1', sipPort: await freePort('udp'), sipRegisterRequired: true,
    }).catch((e: unknown) => e);
    await eventually(() => logged('registration failed').length === 1, 15_000, 'registration failed');
    const [failed] = logged('registration failed');
    assert.equal(failed!['appKey'], APP);
    assert.equal(failed!['status'], 'FAILED');
    assert.equal(typeof failed!['sessionId'], 'string');
    assert.equal(typeof failed!['info'], 'string');
    if (client instanceof WebRtcClient) await client.close();

    await WebRtcClient.connect(ts.wsUrl, { appKey: 'noSuchApp', sipLogin: 'alice', sipDomain: '127.0.0.1', sipRegisterRequired: false }).catch(() => undefined);
    await eventually(() => logged('session refused').length === 1, 5000, 'session refused');
    const [refused] = logged('session refused');
    assert.equal(refused!['appKey'], 'noSuchApp');
    assert.match(String(refused!['reason']), /unknown appKey "noSuchApp"/);
  });
});
