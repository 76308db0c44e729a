/**
 * Sessions benchmark (issue 4): N concurrent client sessions connected over WebSocket and registered through the
 * local Kamailio (digest), callhook in a child process (bench/server-process.ts) with the defaultApp + EchoApp
 * hooks. The load client is this process: one `ws` client per session, answering pings like SDK 2.0.
 *
 * Reports the time to register all, callhook's memory per session (JS heap and RSS), its CPU while idle with
 * registration refreshes running (registerExpires 60 → every session refreshes every 30 s), and the time to
 * disconnect all (each unregisters).
 *
 *   node --import tsx bench/sessions.ts [sessions=2000] [idleSeconds=40]
 *
 * BENCH_NODE_ARGS adds options to callhook's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it;
 * BENCH_CONFIG, a JSON object, adds settings to callhook's, e.g. '{"timelineKeepEnded":0}'.
 * BENCH_PROFILE=<dir> profiles callhook over the registration phase alone (no start-up, idle or disconnect) and writes
 * <dir>/registrations-<process>.cpuprofile (read it with bench/cpu-profile-share.ts) and .heapprofile (what the phase
 * allocated).
 * BENCH_PROCESSES=2 runs that many callhook processes (each its own ports and data directory, as docs/scaling.md's
 * "One process per core on one machine" does behind a balancer); the sessions go to them in turn, and the figures
 * are the processes' sums (CPU per session: all processes' CPU over all sessions).
 * BENCH_WARMUP=<n> first registers n other sessions, each closed (and unregistered) once registered, so the figures
 * are those of a server whose JavaScript V8 has optimised, not of one compiling it meanwhile.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startKamailio } from '../test/support/kamailio.ts';
import { machine, loopbackServerSettings } from './hooks-common.ts';
import type { ServerStats } from './server-process.ts';

const count = Number(process.argv[2] ?? 2000);
const idleSeconds = Number(process.argv[3] ?? 40);
/** Connections being set up at once (a browser crowd arriving, not one burst of SYNs). */
const CONCURRENCY = 200;
const REGISTER_EXPIRES = 60;

interface Ready {
  type: 'ready';
  wsPort: number;
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type?: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

/** The servers' stats, summed (the event loop delays: the worst). */
async function stats(): Promise<ServerStats> {
  const each = await Promise.all(children.map((child) => {
    const reply = nextMessage<ServerStats>(child, 'stats');
    child.send('stats');
    return reply;
  }));
  const sum = (key: Exclude<keyof ServerStats, 'type'>) => each.reduce((total, s) => total + s[key], 0);
  const worst = (key: 'loopDelayP99Ms' | 'loopDelayMaxMs') => Math.max(...each.map((s) => s[key]));
  return {
    type: 'stats', heapUsed: sum('heapUsed'), heapTotal: sum('heapTotal'), external: sum('external'), rss: sum('rss'), cpuUs: sum('cpuUs'), cpuSystemUs: sum('cpuSystemUs'),
    sessions: sum('sessions'), registered: sum('registered'), loopDelayP99Ms: worst('loopDelayP99Ms'), loopDelayMaxMs: worst('loopDelayMaxMs'),
  };
}

/** What `count` sessions added between two stats: the JS heap (used, and reserved), memory outside it, RSS. */
function perSession(from: ServerStats, to: ServerStats): string {
  const kib = (key: 'heapUsed' | 'heapTotal' | 'external' | 'rss'): string => ((to[key] - from[key]) / count / 1024).toFixed(1);
  return `${kib('heapUsed')} KiB JS heap (${kib('heapTotal')} KiB reserved), ${kib('external')} KiB outside it, ${kib('rss')} KiB RSS`;
}

/** BENCH_WARMUP=<n>: n sessions register and close before the measured ones (users of their own). */
const warmUp = Number(process.env['BENCH_WARMUP'] ?? 0);
const users = Array.from({ length: warmUp + count }, (_, i) => ({ username: `user${i}`, password: `pw-${i}` }));
console.log(`machine: ${machine()}, node ${process.version}`);
console.log(`starting Kamailio with ${count} users…`);
const kamailio = await startKamailio({ users });
const processes = Number(process.env['BENCH_PROCESSES'] ?? 1);
const dataDirs = await Promise.all(Array.from({ length: processes }, () => mkdtemp(join(tmpdir(), 'callhook-bench-sessions-'))));
const overrides = {
  wsSessionsPerIp: count + 10,
  wsConnectionsPerIp: count + 10,
  registerExpires: REGISTER_EXPIRES,
  ...(JSON.parse(process.env['BENCH_CONFIG'] ?? '{}') as Record<string, unknown>),
};
const children = await Promise.all(dataDirs.map(async (dataDir) =>
  fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [JSON.stringify({ ...(await loopbackServerSettings(dataDir)), ...overrides })], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter((x) => x !== '') ?? [])],
  })));
const clients: WebSocket[] = [];

/** Resolves once no session is left on the servers and no contact on Kamailio (each closed session unregisters), or after 60 s. */
async function settled(): Promise<void> {
  const started = performance.now();
  for (;;) {
    const [s, left] = [await stats(), await kamailio.contactCount()];
    if ((s.sessions === 0 && left === 0) || performance.now() - started > 60_000) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

try {
  const urls = (await Promise.all(children.map((child) => nextMessage<Ready>(child, 'ready')))).map(({ wsPort }) => `ws://127.0.0.1:${wsPort}/`);
  if (processes > 1) console.log(`callhook processes: ${processes}, the sessions spread over them in turn`);
  /** Session `i` connects and registers; resolves with its socket. */
  const connect = (i: number): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(urls[i % urls.length]!);
      clients.push(ws);
      ws.on('open', () => {
        ws.send(JSON.stringify({
          message: 'connection',
          data: [{
            appKey: 'defaultApp', clientVersion: '2.0', sipLogin: users[i]!.username, sipPassword: users[i]!.password,
            sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host, sipPort: String(kamailio.port), sipRegisterRequired: true,
          }],
        }));
      });
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { message: string; data: Array<{ info?: string }> };
        if (frame.message === 'ping') ws.send('{"message":"pong","data":[null]}');
        else if (frame.message === 'registered') resolve(ws);
        else if (frame.message === 'fail') reject(new Error(`session ${i}: ${frame.data[0]?.info}`));
      });
      ws.on('error', reject);
    });

  /**
   * Sessions `from` to `to` - 1 connect and register, CONCURRENCY at a time, each handed to `registered`;
   * resolves with the failures.
   */
  const registerAll = async (from: number, to: number, registered: (ws: WebSocket) => void = () => {}): Promise<string[]> => {
    let nextIndex = from;
    const failed: string[] = [];
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, to - from) }, async () => {
        while (nextIndex < to) {
          const i = nextIndex++;
          await connect(i).then(registered, (e: Error) => failed.push(e.message));
        }
      }),
    );
    return failed;
  };

  if (warmUp > 0) {
    // V8 optimises a function after it ran a while (on threads of its own): the measured sessions meet the server
    // as it serves, not while it compiles. Each warm-up session closes (and unregisters) once registered, so the
    // heap is not grown to hold them all, which would hide the measured sessions' memory.
    const failed = await registerAll(0, warmUp, (ws) => ws.close());
    clients.splice(0);
    await settled();
    console.log(`warm-up: ${warmUp} sessions registered${failed.length > 0 ? ` (${failed.length} failed)` : ''}, closed and unregistered`);
  }
  const before = await stats();
  const profileDir = process.env['BENCH_PROFILE'];
  /** Sends each server a profile message and waits for all of them to answer. */
  const profiling = (message: (index: number) => object): Promise<unknown> =>
    Promise.all(children.map((child, index) => {
      const reply = nextMessage(child, 'profiled');
      child.send(message(index));
      return reply;
    }));
  if (profileDir !== undefined) await profiling(() => ({ type: 'profile-start' }));

  const started = performance.now();
  const failures = await registerAll(warmUp, warmUp + count);

  const registerSeconds = (performance.now() - started) / 1000;
  if (profileDir !== undefined) await profiling((index) => ({ type: 'profile-stop', file: join(profileDir, `registrations-${index}.cpuprofile`) }));
  const after = await stats();
  const contacts = await kamailio.contactCount();

  console.log(`sessions: ${count}, registered: ${after.registered}, failed: ${failures.length}${failures[0] ? ` (first: ${failures[0]})` : ''}`);
  console.log(`Kamailio contacts: ${contacts}`);
  console.log(`time to connect and register all: ${registerSeconds.toFixed(2)} s (${Math.round(count / registerSeconds)} sessions/s)`);
  // The load client shares the cores: callhook's own CPU time per session is the figure that load does not skew.
  const cpuPerSessionMs = (after.cpuUs - before.cpuUs) / count / 1000;
  const systemPerSessionMs = (after.cpuSystemUs - before.cpuSystemUs) / count / 1000;
  console.log(
    `callhook CPU per session set up: ${cpuPerSessionMs.toFixed(2)} ms, ${systemPerSessionMs.toFixed(2)} ms of it in the kernel ` +
      `(one core: ${Math.round(1000 / cpuPerSessionMs)} sessions/s; load average ${loadavg()[0]!.toFixed(2)})`,
  );
  console.log(`callhook memory per session: ${perSession(before, after)} (heap ${(after.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB in all)`);

  const idleStart = await stats();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleEnd = await stats();
  const cpuPercent = ((idleEnd.cpuUs - idleStart.cpuUs) / (idleSeconds * 1e6)) * 100;
  console.log(
    `callhook CPU at idle over ${idleSeconds} s (pings every 15 s, each registration refreshed every ${Number(overrides.registerExpires) / 2} s): ` +
      `${cpuPercent.toFixed(1)} % of one core (load average ${loadavg()[0]!.toFixed(2)}); still registered: ${idleEnd.registered}; Kamailio contacts: ${await kamailio.contactCount()}`,
  );
  // What the refreshes of the idle window left behind per session (the timeline records each one).
  console.log(`callhook memory per session after the idle window: ${perSession(before, idleEnd)}`);

  const closing = performance.now();
  for (const ws of clients) ws.close();
  await settled();
  console.log(`time to disconnect all (each unregisters): ${((performance.now() - closing) / 1000).toFixed(2)} s; Kamailio contacts left: ${await kamailio.contactCount()}`);
} finally {
  for (const ws of clients) ws.terminate();
  await Promise.all(children.map((child) => {
    child.send('stop');
    return new Promise((r) => child.once('exit', r));
  }));
  await kamailio.stop();
  for (const dataDir of dataDirs) await rm(dataDir, { recursive: true, force: true });
}
