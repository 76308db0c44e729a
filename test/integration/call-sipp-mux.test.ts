/**
 * callhook with one UDP port for every browser's media (config `webrtcPort`: ICE UDP mux), end to end: werift test
 * clients (test/support/webrtc-client.ts) call through an in-process callhook to a sipp UAS with `-rtp_echo`. Two
 * calls at once on the one port, RTP both ways, what the admin API and /metrics say of their ports (no WebRTC pair
 * is taken, so no `webrtc` range is shown), the port still held after the calls; and `callhook start` refusing a
 * webrtcPort another process holds, naming it, with exit 1 rather than an abort.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallInfo } from '../../src/gateway/info.ts';
import { bindUdp, closeSocket } from '../../src/media/udp.ts';
import { startCallhookProcess } from '../support/callhook-process.ts';
import { scrapeMetrics } from '../support/metrics.ts';
import { canBindUdp, freePort, freeUdpRange, LOOPBACK } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const PACKETS = 100;
const ENOUGH = 90;

describe('calls with one UDP port for all browsers (webrtcPort): werift clients → callhook → sipp UAS (-rtp_echo)', { timeout: 120_000 }, () => {
  let ts: TestServer;
  let sipp: SippProcess;
  let webrtcPort: number;
  const clients: WebRtcClient[] = [];

  before(async () => {
    webrtcPort = await freePort('udp');
    const rtp = await freeUdpRange(8);
    ts = await startTestServer({ webrtcEngine: 'libdatachannel', webrtcPort, rtpPortMin: rtp, rtpPortMax: rtp + 7, webrtcConnectTimeoutMs: 10_000 });
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', calls: 2, extraArgs: ['-rtp_echo'], timeoutMs: 60_000 });
  });

  after(async () => {
    for (const c of clients) await c.close();
    await sipp?.kill();
    await ts?.stop();
  });

  it('relays two calls at once on the port; the admin API shows it as each call\'s WebRTC port, /metrics no WebRTC pair', async () => {
    const calls = await Promise.all(['alice', 'carol'].map(async (login) => {
      const client = await WebRtcClient.connect(ts.wsUrl, { sipLogin: login, sipDomain: '127.0.0.1', sipPort: sipp.port, sipRegisterRequired: false });
      clients.push(client);
      const call = await client.call('bob');
      await call.waitStatus('ESTABLISHED');
      await call.connected();
      return call;
    }));
    const echoed = await Promise.all(calls.map((c) => c.exchangeAudio(PACKETS, ENOUGH)));
    assert.ok(echoed.every((n) => n >= ENOUGH), `round trips: ${echoed.join(', ')} of ${PACKETS}`);
    const response = await fetch(`${ts.server.adminUrl}/api/calls`, { headers: { authorization: `Bearer ${ts.server.adminToken}` } });
    const listed = (await response.json()) as CallInfo[];
    assert.deepEqual(listed.map((c) => c.webrtcPort), [webrtcPort, webrtcPort]);
    assert.equal(ts.server.media.webrtcPorts.inUse, 0, 'no webrtcPortMin..Max pair taken');
    const metrics = await scrapeMetrics(ts.server);
    assert.match(metrics, /^callhook_media_port_pairs\{range="rtp",state="used"\} 2$/m);
    assert.doesNotMatch(metrics, /range="webrtc"/);
    for (const c of calls) c.hangup();
    await Promise.all(calls.map((c) => c.waitEnd()));
    await eventually(() => ts.server.gateway.calls().length === 0, 10_000, 'the calls to end');
    assert.equal(await canBindUdp(webrtcPort), false, `port ${webrtcPort} still held with no call up`);
  });
});

describe('callhook start with a webrtcPort another process holds', () => {
  it('exits 1 naming the port (MEDIA_PORT_TAKEN), without an abort', async () => {
    const taken = await freePort('udp');
    const holder = await bindUdp(LOOPBACK, taken);
    try {
      await assert.rejects(startCallhookProcess({ webrtcEngine: 'libdatachannel', webrtcPort: taken }), (err: Error) => {
        assert.match(err.message, /callhook did not start \(exited with code 1\)/);
        assert.match(err.message, new RegExp(`webrtcPort ${taken}: UDP port ${taken} on 127\\.0\\.0\\.1 cannot be bound \\(EADDRINUSE\\)`));
        return true;
      });
    } finally {
      await closeSocket(holder);
    }
  });
});
