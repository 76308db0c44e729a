/**
 * Failure containment (issue 10, "Also"): a bug inside one call or one session ends that call or session with
 * `Internal error`, logged with its stack, and nothing else; a fault outside every call and session meets the
 * process-level handlers of `callhook start`.
 *
 * The faults are injected, not mocked peers: the server's own hook engine is made to throw for one request (a bug
 * in it, as the gateway sees it), and for the process, a module preloaded into the real `callhook start` process
 * (test/support/process-fault.mjs) raises an unhandled rejection or an uncaught exception on SIGUSR2. The far end
 * is a real sipp UAS, the browsers werift peers, the backend a real HTTP server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { HookEngine } from '../../src/hooks/types.ts';
import { createLogger } from '../../src/log.ts';
import type { RunningServer } from '../../src/server.ts';
import { TestBackend } from '../support/backend.ts';
import { CALLHOOK_CLI } from '../support/callhook-cli.ts';
import { freePort, LOOPBACK } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const APP = 'containApp';
const FAULT_PRELOAD = fileURLToPath(new URL('../support/process-fault.mjs', import.meta.url));

/** A log line of the server, parsed. */
type LogLine = Record<string, unknown> & { msg?: string; err?: { message?: string; stack?: string } };

/** Makes the server's hook engine throw for the `invoke` calls `fails` picks: a bug in it, as the gateway sees it. */
function breakHook(hooks: HookEngine, fails: (method: string, body: Record<string, unknown>) => boolean): () => void {
  const invoke = hooks.invoke;
  (hooks as { invoke: HookEngine['invoke'] }).invoke = (method, body, context) => {
    if (fails(method, body)) return Promise.reject(new TypeError(`injected fault in the ${method} hook`));
    return invoke(method, body, context);
  };
  return () => {
    (hooks as { invoke: HookEngine['invoke'] }).invoke = invoke;
  };
}

describe('a bug in one call or one session ends only that call or session', { timeout: 120_000 }, () => {
  let backend: TestBackend;
  let ts: TestServer;
  let server: RunningServer;
  let wsUrl: string;
  const log: LogLine[] = [];
  const clients: WebRtcClient[] = [];
  const sipps: SippProcess[] = [];
  let restoreHook: () => void = () => undefined;

  async function sippUas(calls: number): Promise<SippProcess> {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], calls, timeoutMs: 60_000 });
    sipps.push(sipp);
    return sipp;
  }

  async function connect(sipp: SippProcess): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(wsUrl, { appKey: APP, sipLogin: 'alice', sipDomain: LOOPBACK, sipPort: sipp.port, sipRegisterRequired: false });
    clients.push(client);
    return client;
  }

  const logged = (msg: string): LogLine[] => log.filter((l) => l.msg === msg);

  before(async () => {
    backend = await TestBackend.start();
    ts = await startTestServer(
      { rtpPortMin: 52000, rtpPortMax: 52099, webrtcPortMin: 52100, webrtcPortMax: 52199, sipT1Ms: 100, sipT2Ms: 400 },
      { logger: createLogger('error', { write: (line: string) => void log.push(JSON.parse(line) as LogLine) }) },
    );
    server = ts.server;
    wsUrl = ts.wsUrl;
    await server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await server.store.apps.enableMethod(APP, '*');
  });

  afterEach(async () => {
    restoreHook();
    for (const c of clients.splice(0)) await c.close();
    for (const s of sipps.splice(0)) await s.kill();
    await eventually(() => server.gateway.sessionCount === 0 && server.gateway.calls().length === 0, 10_000, 'sessions and calls to end');
    backend.requests.length = 0;
    log.length = 0;
  });

  after(async () => {
    await ts?.stop();
    await backend?.stop();
  });

  it('a call whose hold hits a bug ends FAILED "Internal error" (logged with the stack); the other call talks on', async () => {
    const sipp = await sippUas(3);
    const alice = await connect(sipp);
    const bob = await connect(sipp);
    const broken = await alice.call('bob');
    const healthy = await bob.call('carol');
    for (const c of [broken, healthy]) {
      await c.waitStatus('ESTABLISHED');
      await c.connected();
    }
    restoreHook = breakHook(server.hooks, (method, body) => method === 'hold' && body['callId'] === broken.callId);

    broken.hold();
    const end = await broken.waitEnd();
    assert.equal(end['status'], 'FAILED');
    assert.equal(end['info'], 'Internal error');
    await eventually(
      () => backend.requests.some((r) => r.hook === 'CallStatusEvent' && r.json?.['callId'] === broken.callId && r.json['status'] === 'FAILED' && r.json['info'] === 'Internal error'),
      5000, 'CallStatusEvent FAILED "Internal error" at the backend',
    );
    const [line, ...more] = logged('call failed unexpectedly: ending it');
    assert.equal(more.length, 0, 'logged once');
    assert.equal(line?.['callId'], broken.callId);
    assert.match(line?.err?.stack ?? '', /TypeError: injected fault in the hold hook\n\s+at /);

    // The other call, the session of the broken one, and the server go on.
    assert.deepEqual(server.gateway.calls().map((c) => [c.callId, c.status]), [[healthy.callId, 'ESTABLISHED']]);
    assert.ok((await healthy.exchangeAudio(50, 45)) >= 45, 'RTP still makes the round trip on the other call');
    const again = await alice.call('bob');
    await again.waitStatus('ESTABLISHED');
    assert.equal(alice.ws.isOpen, true);
  });

  it('a session whose sendMessage hits a bug ends: fail "Internal error", closed, DISCONNECTED; the other session stays', async () => {
    const sipp = await sippUas(1);
    const alice = await connect(sipp);
    const bob = await connect(sipp);
    const call = await alice.call('bob');
    await call.waitStatus('ESTABLISHED');
    restoreHook = breakHook(server.hooks, (method, body) => method === 'sendMessage' && body['id'] === 'm-broken');

    alice.send('sendMessage', { id: 'm-broken', to: 'bob', body: 'hello' });
    await alice.ws.closed;
    const fails = alice.ws.frames.filter((f) => f.message === 'fail').map((f) => f.data[0] as Record<string, unknown>);
    assert.deepEqual(fails.map((f) => [f['apiMethod'], f['info']]), [['ConnectionStatusEvent', 'Internal error']]);
    await eventually(
      () => backend.requests.some((r) => r.hook === 'ConnectionStatusEvent' && r.json?.['sessionId'] === alice.sessionId && r.json['status'] === 'DISCONNECTED' && r.json['info'] === 'Internal error'),
      5000, 'ConnectionStatusEvent DISCONNECTED "Internal error" at the backend',
    );
    // Its call ends with the session (BYE to the far end), as on any disconnect.
    await eventually(
      () => backend.requests.some((r) => r.hook === 'CallStatusEvent' && r.json?.['callId'] === call.callId && r.json['status'] === 'FINISH' && r.json['info'] === 'Internal error'),
      5000, 'CallStatusEvent FINISH "Internal error" at the backend',
    );
    const [line] = logged('session failed unexpectedly: ending it');
    assert.equal(line?.['step'], 'sendMessage');
    assert.match(line?.err?.stack ?? '', /TypeError: injected fault in the sendMessage hook\n\s+at /);

    assert.equal(bob.ws.isOpen, true);
    assert.deepEqual(server.gateway.sessions().map((s) => s.sessionId), [bob.sessionId]);
  });
});

/** `callhook start` with the fault preload; ready once it logged its start. */
async function startProcess(fault: 'rejection' | 'exception'): Promise<{
  wsPort: number; output: () => string; lines: () => LogLine[]; exited: Promise<number | null>; signal: (s: NodeJS.Signals) => void; dataDir: string;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-fault-'));
  const wsPort = await freePort('tcp');
  const child = spawn(process.execPath, [...CALLHOOK_CLI, 'start'], {
    env: {
      ...process.env,
      NODE_OPTIONS: `--import=${FAULT_PRELOAD}`,
      TEST_PROCESS_FAULT: fault,
      CALLHOOK_SIP_PORT: String(await freePort('both')),
      CALLHOOK_WS_PORT: String(wsPort),
      CALLHOOK_ADMIN_PORT: String(await freePort('tcp')),
      CALLHOOK_DATA_DIR: dataDir,
      CALLHOOK_LOCAL_IP: LOOPBACK,
      CALLHOOK_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const lines = (): LogLine[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  await eventually(() => out.includes('"msg":"callhook started"') || child.exitCode !== null, 20_000, 'the server to start');
  return { wsPort, output: () => out, lines, exited, signal: (s) => child.kill(s), dataDir };
}

async function exitWithin(exited: Promise<number | null>, ms: number): Promise<number | null | 'running'> {
  return Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), ms))]);
}

describe('process-level faults of callhook start', { timeout: 90_000 }, () => {
  it('an unhandled rejection is logged with its stack, and the server goes on serving its clients', async () => {
    const p = await startProcess('rejection');
    try {
      const client = await TestClient.open(`ws://${LOOPBACK}:${p.wsPort}/`);
      client.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
      await client.expect('getUserData', 10_000);
      p.signal('SIGUSR2');
      await eventually(() => p.lines().some((l) => l.msg?.startsWith('unhandled promise rejection') === true), 10_000, `the rejection to be logged:\n${p.output()}`);
      const line = p.lines().find((l) => l.msg?.startsWith('unhandled promise rejection'))!;
      assert.equal(line['level'], 50);
      assert.match(line.err?.stack ?? '', /Error: injected process fault\n\s+at /);
      assert.equal(await exitWithin(p.exited, 500), 'running', p.output());
      // Still serving: the connected client stays, a new one connects.
      assert.equal(client.isOpen, true);
      const other = await TestClient.open(`ws://${LOOPBACK}:${p.wsPort}/`);
      other.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
      await other.expect('getUserData', 10_000);
      await other.close();
      await client.close();
    } finally {
      p.signal('SIGKILL');
      await rm(p.dataDir, { recursive: true, force: true });
    }
  });

  it('an uncaught exception is logged with its stack, then the server stops cleanly (clients closed 1001) and exits 1', async () => {
    const p = await startProcess('exception');
    try {
      const client = await TestClient.open(`ws://${LOOPBACK}:${p.wsPort}/`);
      client.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
      await client.expect('getUserData', 10_000);
      p.signal('SIGUSR2');
      assert.equal(await exitWithin(p.exited, 20_000), 1, p.output());
      const fatal = p.lines().find((l) => l.msg?.startsWith('uncaught exception'));
      assert.equal(fatal?.['level'], 60, p.output());
      assert.match(fatal?.err?.stack ?? '', /Error: injected process fault\n\s+at /);
      assert.ok(p.lines().some((l) => l.msg === 'callhook stopped'), `a clean stop:\n${p.output()}`);
      assert.equal((await client.closed).code, 1001);
    } finally {
      p.signal('SIGKILL');
      await rm(p.dataDir, { recursive: true, force: true });
    }
  });
});
