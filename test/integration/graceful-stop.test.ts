/**
 * A graceful stop (docs/deploy.md "Stopping"): `callhook start` with a session registered on Kamailio and a session
 * in an answered call to sipp gets SIGTERM. Within shutdownDrainMs it must send the call's BYE (sipp's scenario
 * completes), remove the registration (Kamailio's location is empty), deliver DISCONNECTED, UNREGISTERED and FINISH
 * to a backend that takes its time answering events (the outbox is flushed, not left for the next start), and exit
 * with code 0. While it drains, new work is refused with 503 and Retry-After: a WebSocket upgrade, and a new INVITE
 * (RFC 3261 §21.5.4); afterwards the WebSocket port no longer listens. A stop that cannot finish (a
 * backend that never answers its events) still exits 0 within shutdownDrainMs, the events left pending. The time the stop took is logged (`stopMs`, the figure of docs/benchmarks.md).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { LOOPBACK } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually } from '../support/ws-client.ts';

const APP = 'drainApp';
const USER = { username: 'alice', password: 'alice-secret' };
const DRAIN_MS = 8_000;
/** Each event the backend answers this late: several of them in a row outlast a stop that does not flush. */
const EVENT_ANSWER_MS = 300;
const EVENTS = new Set(['ConnectionStatusEvent', 'RegistrationStatusEvent', 'CallStatusEvent']);

/** Whether a TCP connection to `port` on loopback is refused (nothing listens). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** The status and Retry-After of the answer to a WebSocket upgrade on `port`. */
function upgradeAnswer(port: number): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: LOOPBACK, port, path: '/', headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.once('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
    });
    req.once('upgrade', (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, retryAfter: undefined });
    });
    req.once('error', reject);
    req.end();
  });
}

/** The first line and Retry-After of the final response to a new INVITE sent over UDP to `port`. */
async function inviteAnswer(port: number): Promise<{ statusLine: string; retryAfter: string | undefined }> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    const local = socket.address().port;
    const invite = [
      `INVITE sip:alice@${LOOPBACK}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${LOOPBACK}:${local};branch=z9hG4bK-drain-${local};rport`,
      'Max-Forwards: 70',
      `From: <sip:carol@${LOOPBACK}>;tag=drain`,
      `To: <sip:alice@${LOOPBACK}>`,
      `Call-ID: drain-${local}@${LOOPBACK}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:carol@${LOOPBACK}:${local}>`,
      'Content-Length: 0',
      '', '',
    ].join('\r\n');
    const final = new Promise<string>((resolve) => {
      socket.on('message', (data) => {
        const text = data.toString('utf8');
        if (!/^SIP\/2\.0 1\d\d /.test(text)) resolve(text);
      });
    });
    socket.send(invite, port, LOOPBACK);
    const text = await final;
    return { statusLine: text.split('\r\n')[0]!, retryAfter: /^Retry-After:\s*(.+?)\r?$/im.exec(text)?.[1] };
  } finally {
    socket.close();
  }
}

describe('SIGTERM drains: BYE, unREGISTER, hook events delivered, exit 0 within shutdownDrainMs', { timeout: 120_000 }, () => {
  let backend: TestBackend;
  let kamailio: KamailioInstance;
  let sipp: SippProcess;
  let server: CallhookProcess;
  const clients: WebRtcClient[] = [];

  const events = (hook: string, status: string): RecordedRequest[] =>
    backend.requests.filter((r) => r.hook === hook && r.json?.['status'] === status);

  before(async () => {
    backend = await TestBackend.start({
      responder: (req) => (EVENTS.has(req.hook) ? { kind: 'delay', ms: EVENT_ANSWER_MS, then: { kind: 'echo' } } : { kind: 'echo' }),
    });
    kamailio = await startKamailio({ users: [USER] });
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 100_000 });
    server = await startCallhookProcess({ shutdownDrainMs: DRAIN_MS });
    await server.addApp(APP, backend.url());
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server?.stop();
    await sipp?.kill();
    await kamailio?.stop();
    await backend?.stop();
  });

  it('ends the call and the registration, flushes the outbox and exits 0', async () => {
    const registered = await WebRtcClient.connect(server.wsUrl, {
      appKey: APP, sipLogin: USER.username, sipPassword: USER.password, sipDomain: kamailio.domain,
      sipOutboundProxy: kamailio.host, sipPort: kamailio.port, sipRegisterRequired: true,
    });
    clients.push(registered);
    const caller = await WebRtcClient.connect(server.wsUrl, { appKey: APP, sipLogin: 'bob', sipDomain: LOOPBACK, sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(caller);
    const call = await caller.call('sipp');
    await call.waitStatus('ESTABLISHED', 20_000);
    await kamailio.waitForLocations((b) => b.length === 1, 10_000);
    await eventually(() => events('CallStatusEvent', 'ESTABLISHED').length === 1, 10_000, 'the backend to hear of the call');

    const t0 = Date.now();
    const stopping = server.kill('SIGTERM');
    // The events take the backend 300 ms each: the process drains for longer than these checks need.
    const retryAfter = String(DRAIN_MS / 1000);
    await eventually(async () => (await upgradeAnswer(server.wsPort)).status === 503, DRAIN_MS, 'a WebSocket upgrade to get 503 while callhook drains');
    assert.deepEqual(await upgradeAnswer(server.wsPort), { status: 503, retryAfter });
    assert.deepEqual(await inviteAnswer(server.sipPort), { statusLine: 'SIP/2.0 503 Service Unavailable', retryAfter });
    assert.equal(server.status, undefined, 'still draining');
    await eventually(async () => (await refused(server.wsPort)) || server.status !== undefined, DRAIN_MS, 'the WebSocket port to close at the end of the stop');
    const status = await stopping;
    const stopMs = Date.now() - t0;

    assert.equal(status, 'exited with code 0', server.process.tail(30));
    assert.ok(stopMs < DRAIN_MS, `stopped in ${stopMs} ms, within shutdownDrainMs ${DRAIN_MS}`);
    const result = await sipp.done;
    assert.equal(result.code, 0, `sipp got the BYE and completed its call: ${result.errors}`);
    assert.deepEqual(await kamailio.locations(), [], 'the registration is removed');
    // Delivered before the process exited, not left pending for the next start.
    assert.deepEqual(events('ConnectionStatusEvent', 'DISCONNECTED').map((r) => r.json?.['sessionId']).sort(), [registered.sessionId, caller.sessionId].sort());
    assert.deepEqual(events('RegistrationStatusEvent', 'UNREGISTERED').map((r) => r.json?.['sessionId']), [registered.sessionId]);
    assert.deepEqual(events('CallStatusEvent', 'FINISH').map((r) => r.json?.['callId']), [call.callId]);
    const stopped = server.logLines(/^callhook stopped$/)[0];
    assert.equal(typeof stopped?.['stopMs'], 'number', 'the stop logs how long it took');
    console.log(`graceful stop with a call and a registration: ${String(stopped?.['stopMs'])} ms in the server, ${stopMs} ms to exit`);
  });
});

describe('a stop that cannot finish is cut at shutdownDrainMs', { timeout: 120_000 }, () => {
  const CUT_DRAIN_MS = 2_000;
  let backend: TestBackend;
  let sipp: SippProcess;
  let server: CallhookProcess;
  const clients: WebRtcClient[] = [];

  before(async () => {
    // Events never answered (within the test), and a call to a SIP peer that answers nothing.
    backend = await TestBackend.start({
      responder: (req) => (EVENTS.has(req.hook) ? { kind: 'delay', ms: 100_000, then: { kind: 'echo' } } : { kind: 'echo' }),
    });
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-silent'), mode: 'uas', transport: 'u1', timeoutMs: 100_000 });
    server = await startCallhookProcess({ shutdownDrainMs: CUT_DRAIN_MS });
    await server.addApp(APP, backend.url());
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server?.stop();
    await sipp?.kill();
    await backend?.stop();
  });

  it('exits 0 within shutdownDrainMs with the hook events still out, leaving them pending for the next start', async () => {
    const caller = await WebRtcClient.connect(server.wsUrl, { appKey: APP, sipLogin: 'bob', sipDomain: LOOPBACK, sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(caller);
    await caller.call('sipp');
    await eventually(() => sipp.messages().includes('INVITE sip:'), 10_000, 'the INVITE to reach sipp');

    const t0 = Date.now();
    const status = await server.kill('SIGTERM');
    const exitMs = Date.now() - t0;

    assert.equal(status, 'exited with code 0', server.process.tail(30));
    const stopped = server.logLines(/^callhook stopped$/)[0];
    assert.ok(Number(stopped?.['stopMs']) <= CUT_DRAIN_MS, `stopMs ${String(stopped?.['stopMs'])} within ${CUT_DRAIN_MS}`);
    // Node's exit and the test's own wait on a loaded machine come on top of stopMs.
    assert.ok(exitMs < CUT_DRAIN_MS + 2_000, `exited ${exitMs} ms after SIGTERM`);
    const undelivered = server.logLines(/^stopping with hook events undelivered/)[0];
    assert.ok(Number((undelivered?.['outbox'] as { pending?: number } | undefined)?.pending) > 0, 'the events left pending are counted in the log');
  });
});
