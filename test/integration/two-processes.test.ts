/**
 * One callhook per core on one machine (issue 18, docs/scaling.md "One process per core on one machine"): two
 * `callhook start` processes with their own ports, port ranges and data directories, behind the documented nginx
 * block (least_conn), registering on the test Kamailio. The connections are spread over both processes, each
 * session's binding carries its own process's SIP port, and a MESSAGE from a session of one process reaches a
 * session of the other through the registrar.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionInfo } from '../../src/gateway/info.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { startNginxBalancer, type NginxProxy } from '../support/nginx.ts';
import { freeUdpRange } from '../support/ports.ts';
import { eventually, TestClient } from '../support/ws-client.ts';

const USERS = Array.from({ length: 6 }, (_, i) => ({ username: `user${i}`, password: `pw-${i}` }));
/** Media ports per process: none is bound here (no call), but the ranges must not overlap. */
const RANGE = 20;
const STEP_MS = 15_000;

describe('two callhook processes on one machine behind nginx', { timeout: 120_000 }, () => {
  let kamailio: KamailioInstance;
  const processes: CallhookProcess[] = [];
  let nginx: NginxProxy;
  const clients = new Map<string, TestClient>();

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    for (let i = 0; i < 2; i++) {
      const rtp = await freeUdpRange(RANGE);
      const webrtc = await freeUdpRange(RANGE);
      processes.push(
        await startCallhookProcess({
          rtpPortMin: rtp, rtpPortMax: rtp + RANGE - 1, webrtcPortMin: webrtc, webrtcPortMax: webrtc + RANGE - 1, trustedProxies: '127.0.0.1',
        }),
      );
    }
    nginx = await startNginxBalancer([processes[0]!.wsPort, processes[1]!.wsPort]);
  });

  after(async () => {
    for (const c of clients.values()) await c.close();
    await nginx?.stop();
    for (const p of processes) await p.stop();
    await kamailio?.stop();
  });

  async function sessionsOf(p: CallhookProcess): Promise<SessionInfo[]> {
    const res = await fetch(`${p.adminUrl}/api/sessions`, { headers: { authorization: `Bearer ${p.adminToken}` } });
    return (await res.json()) as SessionInfo[];
  }

  it('spreads the sessions over both processes; each registers with its own Contact; a MESSAGE crosses from one to the other', async (t) => {
    for (const u of USERS) {
      const c = await TestClient.open(nginx.url);
      clients.set(u.username, c);
      c.send('connection', {
        sipLogin: u.username, sipPassword: u.password, sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host,
        sipPort: String(kamailio.port), sipRegisterRequired: true,
      });
      await c.expect('getUserData', STEP_MS);
      await c.expect('registered', STEP_MS);
    }
    const held = await Promise.all(processes.map(async (p) => (await sessionsOf(p)).map((s) => s.sipLogin!).sort()));
    t.diagnostic(`sessions per process: ${held.map((h) => h.join(' ')).join(' | ')}`);
    assert.ok(held.every((h) => h.length > 0), `one process holds every session: ${JSON.stringify(held)}`);
    assert.deepEqual(held.flat().sort(), USERS.map((u) => u.username).sort());

    // Each binding names the SIP port of the process that holds its session.
    const bindings = await kamailio.waitForLocations((b) => b.length === USERS.length, STEP_MS);
    for (const [i, p] of processes.entries()) {
      for (const login of held[i]!) {
        const contact = bindings.find((b) => b.aor === login)?.contact ?? '';
        assert.match(contact, new RegExp(`^sip:[^@]+@127\\.0\\.0\\.1:${p.sipPort}\\b`), `${login} on process ${i}: ${contact}`);
      }
    }

    const [from, to] = [held[0]![0]!, held[1]![0]!];
    clients.get(from)!.send('sendMessage', { id: 'across', to, body: `from ${from} to ${to}` });
    const received = await eventually(
      () => clients.get(to)!.frames.find((f) => f.message === 'notifyMessage' && (f.data[0] as Record<string, unknown>)['status'] === 'RECEIVED'),
      STEP_MS,
      `${to} (second process) to receive the MESSAGE of ${from} (first process)`,
    );
    const message = received.data[0] as Record<string, unknown>;
    assert.deepEqual([message['from'], message['body']], [`sip:${from}@${kamailio.domain}`, `from ${from} to ${to}`]);
    t.diagnostic(`RSS with ${held[0]!.length} + ${held[1]!.length} sessions: ${processes.map((p) => `${(p.rssBytes() / 2 ** 20).toFixed(0)} MiB`).join(' + ')}`);
  });
});
