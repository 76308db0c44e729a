/**
 * Several hosts on one machine (issue 17 "Tests"): three callhook nodes, each in a network namespace of its own,
 * and a fourth namespace with PostgreSQL, Kamailio (the registrar) and HAProxy, all joined by veth pairs to a
 * bridge on a private subnet the test creates and removes (support/cluster.ts). Clients come in through HAProxy.
 *
 * - 300 sessions connect through HAProxy, spread over the three nodes, and every one registers at Kamailio.
 * - Calls between sessions on different nodes go through Kamailio, with audio both ways.
 * - The admin API of node A lists the sessions of node C and terminates one of them.
 * - kill -9 of node B: its clients see their connection close, reconnect through HAProxy and register again; the
 *   events it had not delivered reach the backend from a survivor within the lease, none missing (every session's
 *   sequences run without a gap); its open call's record is closed `Node lost`.
 *
 * Root only (ip netns), and haproxy installed (scripts/ensure-deps.sh).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { TestBackend } from '../support/backend.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { createTestNetwork, startHaproxy, type Haproxy, type Host, type TestNetwork } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { startPostgres, type Postgres } from '../support/postgres.ts';
import { WebRtcClient, type ClientCall } from '../support/webrtc-client.ts';
import { TestClient } from '../support/ws-client.ts';

const SESSIONS = 300;
const CALLS = 3;
const LEASE_MS = 3000;
const APP = 'clusterApp';
const PASSWORD = 'pw';
/** Inside its namespace each node has the ports to itself. */
const WS_PORT = 8080;
const ADMIN_PORT = 8081;
const SIP_PORT = 5060;
const CONNECT_BATCH = 25;
/** New clients during the rolling restart. */
/**
 * Logins for the rolling restart's new clients: one per attempt to land on the restarted node, made until HAProxy
 * sends one there (paced by ROLLING_POLL_MS, so a slow rise of C's checks does not use them all up).
 */
const ROLLING_CLIENTS = 100;
const ROLLING_POLL_MS = 250;

const skip = userInfo().uid !== 0 ? 'needs root (ip netns)' : !existsSync('/usr/sbin/haproxy') ? 'haproxy is not installed (scripts/ensure-deps.sh)' : false;

/** The machine's load, printed next to every figure (other test lanes share it). */
const load = (): string => `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`;

interface Listed {
  sessionId: string;
  node?: string;
  sipLogin?: string;
  registration?: string;
}

describe('three nodes behind HAProxy on one PostgreSQL and one Kamailio', { skip }, () => {
  let net: TestNetwork;
  let infra: Host;
  let postgres: Postgres;
  let kamailio: KamailioInstance;
  let backend: TestBackend;
  let haproxy: Haproxy;
  const nodes: CallhookProcess[] = [];
  const hosts: Host[] = [];
  const token = randomBytes(16).toString('hex');
  /** The 300 sessions' clients, by SIP login. */
  const clients = new Map<string, TestClient>();
  const webrtc: WebRtcClient[] = [];

  before(async () => {
    net = createTestNetwork();
    for (let i = 0; i < 3; i++) hosts.push(net.addHost());
    infra = net.addHost();
    postgres = await startPostgres({ name: infra.ns, ip: infra.ip, clients: net.cidr });
    const url = await postgres.newDatabase();
    const users = [
      ...Array.from({ length: SESSIONS }, (_, i) => ({ username: `u${i}`, password: PASSWORD })),
      ...Array.from({ length: 2 * CALLS }, (_, i) => ({ username: `w${i}`, password: PASSWORD })),
      ...Array.from({ length: ROLLING_CLIENTS }, (_, i) => ({ username: `r${i}`, password: PASSWORD })),
    ];
    kamailio = await startKamailio({ users, netns: { name: infra.ns, ip: infra.ip } });
    backend = await TestBackend.start({ host: net.gateway });
    postgresUrl = url;
    nodes.push(...(await Promise.all(hosts.map((_, i) => startNode(i)))));
    await nodes[0]!.addApp(APP, `http://${net.gateway}:${backend.port}/rest`);
    haproxy = await startHaproxy(infra, WS_PORT, hosts.map((h, i) => ({ name: `node-${'abc'[i]}`, ip: h.ip, wsPort: WS_PORT, adminPort: ADMIN_PORT })));
  });

  after(async () => {
    for (const c of webrtc) await c.close().catch(() => undefined);
    await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)));
    await haproxy?.stop();
    await Promise.all(nodes.map((n) => (n.status === undefined ? n.stop() : undefined)));
    await kamailio?.stop();
    await postgres?.stop();
    await backend?.stop();
    net?.remove();
  });

  let postgresUrl: string;
  /** Node i (a, b, c) in its namespace. */
  const startNode = (i: number): Promise<CallhookProcess> => startCallhookProcess({
    store: 'postgres', postgresUrl, nodeName: `node-${'abc'[i]}`, nodeLeaseMs: LEASE_MS, stopCallsWaitMs: 30_000, shutdownDrainMs: 4000,
    // A BYE to the killed node gives up after 64 × T1: 6.4 s rather than 32 s.
    sipT1Ms: 100,
    localIp: hosts[i]!.ip, wsHost: hosts[i]!.ip, adminHost: hosts[i]!.ip, wsPort: WS_PORT, adminPort: ADMIN_PORT, sipPort: SIP_PORT,
    // Every test client comes from the one test address, through HAProxy (X-Forwarded-For names it).
    trustedProxies: infra.ip, wsSessionsPerIp: 2 * SESSIONS,
  }, { netns: hosts[i]!.ns, adminToken: token });

  const sipFields = (login: string) => ({
    appKey: APP, sipLogin: login, sipPassword: PASSWORD, sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host,
    sipPort: kamailio.port, sipRegisterRequired: true,
  });

  /** Connects through HAProxy and registers; a node HAProxy still sends to while it is down is tried again. */
  const connectRegistered = async (login: string): Promise<TestClient> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const c = await TestClient.open(haproxy.wsUrl);
        c.send('connection', sipFields(login));
        await c.expect('getUserData', 20_000);
        const registered = await c.expect('registered', 20_000);
        assert.equal(registered['status'], 'REGISTERED');
        return c;
      } catch (e) {
        if (attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  const api = async (node: CallhookProcess, method: string, path: string): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${node.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, json: await res.json() };
  };

  /** The cluster's sessions, as node A's admin API lists them. */
  const listed = async (): Promise<Listed[]> => (await api(nodes[0]!, 'GET', '/api/sessions')).json as Listed[];

  it('300 sessions connect through HAProxy, spread over the nodes, and register', async (t) => {
    const started = Date.now();
    for (let i = 0; i < SESSIONS; i += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, SESSIONS - i) }, (_, k) => `u${i + k}`);
      for (const [login, c] of await Promise.all(batch.map(async (l) => [l, await connectRegistered(l)] as const))) clients.set(login, c);
    }
    const all = await eventually(async () => {
      const now = await listed();
      return now.length === SESSIONS && now.every((s) => s.registration === 'REGISTERED') ? now : undefined;
    }, 10_000, 'node A to list all 300 sessions, registered');
    const perNode = ['node-a', 'node-b', 'node-c'].map((n) => all.filter((s) => s.node === n).length);
    t.diagnostic(`${SESSIONS} sessions connected and registered in ${Date.now() - started} ms, ${CONNECT_BATCH} at a time; per node ${perNode.join('/')}; ${load()}`);
    assert.ok(perNode.every((n) => n >= SESSIONS / 6), `spread over the nodes: ${perNode.join(', ')}`);
  });

  /** Call i: from a session on node i to one on node i + 1. */
  const calls: Array<{ out: ClientCall; inc: ClientCall }> = [];

  it('calls between sessions on different nodes go through Kamailio, with audio both ways', async () => {
    for (let i = 0; i < CALLS; i++) {
      // Directly to a node each, so that the two ends of call i are on nodes i and i + 1.
      const ice = { iceAddress: net.gateway };
      const caller = await WebRtcClient.connect(`ws://${hosts[i]!.ip}:${WS_PORT}`, sipFields(`w${2 * i}`), ice);
      const callee = await WebRtcClient.connect(`ws://${hosts[(i + 1) % 3]!.ip}:${WS_PORT}`, sipFields(`w${2 * i + 1}`), ice);
      webrtc.push(caller, callee);
      const out = await caller.call(`w${2 * i + 1}`);
      const inc = await callee.nextIncoming(20_000);
      await inc.answer();
      await out.waitStatus('ESTABLISHED', 20_000);
      await Promise.all([out.connected(20_000), inc.connected(20_000)]);
      calls.push({ out, inc });
    }
    for (const { out, inc } of calls) {
      await Promise.all([out.sendAudio(25), inc.sendAudio(25)]);
      await eventually(() => out.receivedAudio() >= 15 && inc.receivedAudio() >= 15, 10_000,
        () => `audio both ways (caller got ${out.receivedAudio()}, callee ${inc.receivedAudio()})`);
    }
  });

  it('the admin API of node A lists the sessions of node C and terminates one', async () => {
    const onC = (await listed()).filter((s) => s.node === 'node-c' && clients.has(s.sipLogin ?? ''));
    assert.ok(onC.length > 0, 'node A lists node C\'s sessions');
    const victim = onC[0]!;
    const ended = await api(nodes[0]!, 'DELETE', `/api/sessions/${encodeURIComponent(victim.sessionId)}`);
    assert.deepEqual(ended, { status: 200, json: { terminated: victim.sessionId } });
    await eventually(async () => !((await api(nodes[2]!, 'GET', '/api/sessions')).json as Listed[]).some((s) => s.sessionId === victim.sessionId), 5000, 'node C to end it');
    await clients.get(victim.sipLogin!)!.closed;
    clients.set(victim.sipLogin!, await connectRegistered(victim.sipLogin!));
  });

  it('kill -9 of node B: its clients reconnect and register, its events arrive from a survivor, its call record is closed "Node lost"', async (t) => {
    const b = nodes[1]!;
    const bIp = hosts[1]!.ip;
    const bLogins = (await listed()).filter((s) => s.node === 'node-b' && clients.has(s.sipLogin ?? '')).map((s) => s.sipLogin!);
    assert.ok(bLogins.length > 0, 'node B holds sessions of HAProxy clients');

    // B's events from now on are refused, so they are still in its outbox when it dies: a few of its clients leave.
    const refused = new Set<string>();
    backend.responder = (req) => {
      if (String(req.json?.['nodeId'] ?? '').endsWith(`@${bIp}`) && req.hook !== 'connect') {
        refused.add(String(req.json?.['eventId']));
        return { kind: 'raw', status: 503, body: 'not now' };
      }
      return { kind: 'echo' };
    };
    const leaving = bLogins.slice(0, 3);
    for (const l of leaving) await clients.get(l)!.close();
    await eventually(() => refused.size >= leaving.length, 10_000, 'B\'s events to be refused at least once');
    const openCall = ((await api(b, 'GET', '/api/calls')).json as Array<{ callId: string; node: string }>).filter((c) => c.node === 'node-b');
    assert.ok(openCall.length > 0, 'node B has calls up');

    await b.kill('SIGKILL');
    const killedAt = Date.now();
    backend.responder = () => ({ kind: 'echo' });
    // B is gone: what the backend receives from now on comes from a survivor.
    const sinceKill = backend.requests.length;

    // Its undelivered events arrive from a survivor within the lease (plus a heartbeat and the delivery).
    const delivered = (): Set<string> => new Set(backend.requests.slice(sinceKill).map((r) => String(r.json?.['eventId'])));
    await eventually(() => [...refused].every((id) => delivered().has(id)), LEASE_MS + 10_000,
      () => `B's ${refused.size} refused events from a survivor (${[...refused].filter((id) => delivered().has(id)).length} arrived)`);
    t.diagnostic(`B's ${refused.size} undelivered events at the backend ${Date.now() - killedAt} ms after the kill (nodeLeaseMs ${LEASE_MS}); ${load()}`);

    // Its clients see the connection close, and reconnect through HAProxy to a live node.
    const staying = bLogins.filter((l) => !leaving.includes(l));
    await Promise.all(staying.map((l) => clients.get(l)!.closed));
    for (let i = 0; i < staying.length; i += CONNECT_BATCH) {
      const batch = staying.slice(i, i + CONNECT_BATCH);
      for (const [login, c] of await Promise.all(batch.map(async (l) => [l, await connectRegistered(l)] as const))) clients.set(login, c);
    }
    await eventually(async () => {
      const now = await listed();
      return staying.every((l) => now.some((s) => s.sipLogin === l && s.registration === 'REGISTERED' && s.node !== 'node-b'));
    }, 10_000, 'B\'s clients registered again on the other nodes');
    t.diagnostic(`B's ${staying.length} clients reconnected and registered again ${Date.now() - killedAt} ms after the kill`);

    // None missing: every session of B has its sequences 1..n without a gap at the backend.
    await eventually(() => {
      const bySession = new Map<string, Set<number>>();
      for (const r of backend.requests) {
        const sid = r.json?.['sessionId'];
        if (typeof sid !== 'string' || !sid.endsWith(`/${bIp}:${WS_PORT}`) || typeof r.json!['sequence'] !== 'number') continue;
        bySession.set(sid, (bySession.get(sid) ?? new Set()).add(r.json!['sequence']));
      }
      return [...bySession.values()].every((seqs) => seqs.size === Math.max(...seqs));
    }, 10_000, 'every one of B\'s sessions to have its sequences without a gap');

    // Its open call's record is closed "Node lost" (read on a survivor: the records are the cluster's).
    const records = await eventually(async () => {
      const all = (await api(nodes[0]!, 'GET', '/api/cdr')).json as Array<{ callId: string; info: string | null }>;
      const mine = all.filter((r) => openCall.some((c) => c.callId === r.callId));
      return mine.length > 0 && mine.every((r) => r.info === 'Node lost') ? mine : undefined;
    }, LEASE_MS + 10_000, 'B\'s call records closed "Node lost"');
    assert.ok(records.length > 0);
  });
  it('rolling restart of node C: it drains (its call finishes, new clients go to A), restarts, and takes clients again', async (t) => {
    const c = nodes[2]!;
    const health = async (): Promise<number> => (await fetch(`http://${hosts[2]!.ip}:${ADMIN_PORT}/healthz`)).status;
    const callOnC = calls[2]!;
    assert.ok(((await api(c, 'GET', '/api/calls')).json as Array<{ node: string }>).some((x) => x.node === 'node-c'), 'node C has a call up');

    const exited = c.process.kill('SIGTERM');
    await eventually(async () => (await health()) === 503, 5000, 'node C\'s /healthz to fail while it drains');
    let next = 0;
    /** The node holding a login's session, once the directory shows it. */
    const nodeOf = (login: string): Promise<string> =>
      eventually(async () => (await listed()).find((s) => s.sipLogin === login)?.node, 5000, `${login}'s session in the list`);
    const newClient = async (): Promise<string> => {
      const login = `r${next++}`;
      clients.set(login, await connectRegistered(login));
      return login;
    };
    // While C drains, new clients are served by A (B is dead), and C's call goes on.
    for (let i = 0; i < 4; i++) assert.equal(await nodeOf(await newClient()), 'node-a', 'a new client on node A');
    assert.equal(c.status, undefined, 'node C waits for its call');
    await Promise.all([callOnC.out.sendAudio(10), callOnC.inc.sendAudio(10)]);

    // Its calls end, the one from the dead B too (its BYE goes unanswered for 64 × T1); C stops, and starts again
    // under its name.
    const hungUp = Date.now();
    callOnC.out.hangup();
    calls[1]!.inc.hangup();
    await exited;
    assert.equal(c.logLines(/^drained/)[0]?.['calls'], 0, 'the drain ended with its calls, not by stopCallsWaitMs');
    const stoppedAt = Date.now();
    await c.stop();
    nodes[2] = await startNode(2);
    await eventually(async () => (await health()) === 200, 5000, 'node C\'s /healthz to pass again');
    t.diagnostic(`C stopped ${stoppedAt - hungUp} ms after its calls were hung up, and was back ${Date.now() - stoppedAt} ms later; ${load()}`);
    // HAProxy brings it back after two good checks; least connections sends it the next clients.
    await eventually(async () => (await nodeOf(await newClient())) === 'node-c', 15_000, 'a new client to land on node C', { maxPollMs: ROLLING_POLL_MS });
  });
});
