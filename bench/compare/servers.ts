/**
 * The two servers of the comparison kit behind one interface, so every measurement drives both the same way: one
 * WebSocket session per registration or call, werift browsers for media (bench/compare/callers.ts), and the server's
 * CPU, RSS and threads read from /proc/<pid> — the same reading for a C process with threads and for Node.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessGroup } from '../../test/support/child-process.ts';
import { freePort, waitUntilBound } from '../../test/support/ports.ts';
import { WebRtcClient } from '../../test/support/webrtc-client.ts';
import { JanusSipSession } from './janus-client.ts';
import { startJanus } from './janus.ts';
import { SERVER_INTERFACE } from './namespace.ts';
import { loopbackServerSettings } from '../hooks-common.ts';
import { readAdminToken } from '../../src/admin/token.ts';
import { HOOK_LOG_CAPACITY } from '../../src/hooks/storage.ts';
import type { EchoCall, ServerName } from './callers.ts';

export type { EchoCall, ServerName };

export interface Registrar {
  host: string;
  port: number;
  domain: string;
}

export interface KitUser {
  username: string;
  password: string;
}

export interface ServerUnderTest {
  readonly name: ServerName;
  readonly version: string;
  /** How its browser legs take UDP ports, when the kit chooses (callhook: `CallhookMedia`). */
  readonly media?: string;
  readonly pid: number;
  /** Where browsers connect (the load clients of the setup measurement call through it). */
  readonly wsUrl: string;
  /**
   * Its code is compiled while it runs (callhook's JavaScript, which V8 optimises once a function has run a while):
   * measurements warm it up first. Janus is compiled ahead of time.
   */
  readonly compiledAtRunTime: boolean;
  /** A session registered as `user` with the registrar; resolves with its close. */
  register(user: KitUser): Promise<() => Promise<void>>;
  /**
   * The round trips of the server's `method` REST hook since `since` (ms since the epoch), newest first, in ms; only
   * callhook has hooks (its hook log, GET /api/hooks).
   */
  hookLatencies?(method: string, since: number): Promise<number[]>;
  /** The end of the server's own output, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

/** What /proc says of a process: CPU time (user + system, all threads), resident memory, threads. */
export interface ProcSample {
  cpuSeconds: number;
  rssBytes: number;
  threads: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export function procSample(pid: number): ProcSample {
  // /proc/<pid>/stat: the command is in parentheses and may hold spaces; fields 14 and 15 follow its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    rssBytes: field('VmRSS') * 1024,
    threads: field('Threads'),
  };
}

/**
 * CPU seconds per thread name (from /proc/<pid>/task/<tid>/stat), summed over the threads of that name; the main
 * thread is `main`, apart from the other threads its name shares (a Node process's worker threads are `node` too).
 */
export function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
}

/** The CPU seconds each thread (by name, as threadCpu) used between two readings, busiest first. */
export function threadSeconds(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  return [...after].map(([name, s]) => [name, s - (before.get(name) ?? 0)] as [string, number]).filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1]);
}

/**
 * Each thread name's CPU ms per unit of work (a call set up, a registration) between two samples, the busiest first.
 * `(rest)` is the process's total less the threads' sum: threads that ended meanwhile, and the kernel's user/system
 * split, which it scales for the process as a whole rather than thread by thread (no thread of callhook's was seen
 * to end during calls).
 */
export function threadShares(before: Map<string, number>, after: Map<string, number>, totalSeconds: number, units: number): string {
  const perUnit = (seconds: number) => ((seconds * 1000) / Math.max(1, units)).toFixed(2);
  const rows = threadSeconds(before, after);
  const ended = totalSeconds - rows.reduce((a, [, s]) => a + s, 0);
  if (ended > 0.005) rows.push(['(rest)', ended]);
  return rows.sort((a, b) => b[1] - a[1]).map(([name, s]) => `${name} ${perUnit(s)}`).join(', ');
}

/**
 * CPU seconds of every process named `name` in this network namespace (the kit's own, bench/compare/namespace.ts):
 * Kamailio's forked workers, without another Kamailio the machine runs elsewhere.
 */
export function namespaceProcessCpu(name: string): number {
  const ownNamespace = readlinkSync('/proc/self/ns/net');
  let seconds = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name || readlinkSync(`/proc/${pid}/ns/net`) !== ownNamespace) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // The process ended between the listing and the read, or is not ours to inspect.
    }
  }
  return seconds;
}

/** CPU time all processes of the machine have used (user, nice, system, irq, softirq, steal), in seconds. */
export function machineBusySeconds(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

/**
 * callhook's WebRTC engine and how its browser legs take UDP ports: `native`, callhook's default (its own engine, a
 * socket per call from webrtcPortMin..Max: the kit's default); or the libdatachannel engine with every leg on one port
 * (`one-port`: `webrtcPort`, ICE UDP mux) or a pair per call (`port-pairs`).
 */
export type CallhookMedia = 'native' | 'one-port' | 'port-pairs';

export const CALLHOOK_MEDIA: Readonly<Record<CallhookMedia, string>> = {
  native: "callhook's own WebRTC engine (native), a socket per call",
  'one-port': 'libdatachannel, one UDP port for all browsers (webrtcPort, ICE UDP mux)',
  'port-pairs': 'libdatachannel, a WebRTC port pair per call',
};

export async function startServer(name: ServerName, registrar: Registrar, media: CallhookMedia): Promise<ServerUnderTest> {
  return name === 'janus' ? startJanusServer(registrar) : startCallhookServer(registrar, media);
}

async function startJanusServer(registrar: Registrar): Promise<ServerUnderTest> {
  const janus = await startJanus({ wsPort: await freePort('tcp'), sipIp: '127.0.0.1', iceInterface: SERVER_INTERFACE });
  return {
    name: 'janus',
    version: janus.version,
    compiledAtRunTime: false,
    pid: janus.pid,
    wsUrl: janus.wsUrl,
    async register(user) {
      const s = await JanusSipSession.open(janus.wsUrl);
      await s.register(user, registrar.domain, `${registrar.host}:${registrar.port}`);
      return () => s.close();
    },
    log: () => janus.log(),
    stop: () => janus.stop(),
  };
}

/**
 * callhook as its users run it: the compiled package's `callhook start` (bin/callhook.js, dist/ from `npm run build`),
 * not the sources through tsx, whose compiler and loader thread would add their own memory to the figures.
 */
const CALLHOOK_BIN = fileURLToPath(new URL('../../bin/callhook.js', import.meta.url));
const BUILT_SERVER = new URL('../../dist/server.js', import.meta.url);
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

async function startCallhookServer(registrar: Registrar, media: CallhookMedia): Promise<ServerUnderTest> {
  if (!existsSync(BUILT_SERVER)) throw new Error('the kit runs the compiled server: run `npm run build` first');
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-compare-'));
  const serverDataDir = join(dataDir, 'data');
  // As bench/calls-load.ts runs it: the defaultApp's hooks to the built-in EchoApp stay on; no limit is hit by one
  // load client's address. Warnings only, as the benches' server processes log.
  const settings = {
    ...(await loopbackServerSettings(serverDataDir)),
    wsPort: await freePort('tcp'),
    adminPort: await freePort('tcp'),
    logLevel: 'warn',
    wsMessagesPerSecond: 100_000,
    wsMessagesPerSecondPerIp: 100_000,
    wsSessionsPerIp: 100_000,
    wsConnectionsPerIp: 100_000,
    // 250 calls up at once, and the setup measurement's calls right after, from the one address of the load clients.
    maxCallsPerIp: 100_000,
    callsPerIpPerMinute: 100_000,
    rtpInactivityTimeoutMs: 0,
    ...(media !== 'native' && { webrtcEngine: 'libdatachannel' }),
    ...(media === 'one-port' && { webrtcPort: await freePort('udp') }),
  };
  await writeFile(join(dataDir, 'callhook.config.json'), JSON.stringify(settings));
  // With `npm start`'s and docs/deploy.md's young generation (--max-semi-space-size=2) and malloc thresholds.
  // BENCH_CPU_PROF=<dir>: callhook writes a V8 CPU profile there when it stops, as in the other call benches;
  // BENCH_NODE_ARGS adds options to its node (a later V8 flag overrides an earlier one), to weigh a flag's CPU;
  // BENCH_SERVER_ENV, a JSON object, adds variables to its environment alone (e.g. an allocator's LD_PRELOAD), so
  // that the load clients keep theirs.
  const profile = process.env['BENCH_CPU_PROF'];
  const nodeArgs = [
    '--max-semi-space-size=2',
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter((x) => x !== '') ?? []),
  ];
  const child = new ProcessGroup(process.execPath, [...nodeArgs, CALLHOOK_BIN, 'start'], dataDir, {
    ...process.env, MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072',
    ...(JSON.parse(process.env['BENCH_SERVER_ENV'] ?? '{}') as Record<string, string>),
  });
  const { wsPort, adminPort } = settings;
  await waitUntilBound('tcp', wsPort, { timeoutMs: START_TIMEOUT_MS, stillRunning: () => child.status === undefined })
    .catch((e: Error) => { throw new Error(`${e.message}:\n${child.tail(30)}`); });
  const url = `ws://127.0.0.1:${wsPort}/`;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    name: 'callhook',
    version: pkg.version,
    media: CALLHOOK_MEDIA[media],
    compiledAtRunTime: true,
    pid: child.pid!,
    wsUrl: url,
    async register(user) {
      const c = await WebRtcClient.connect(url, {
        sipLogin: user.username, sipPassword: user.password, sipDomain: registrar.domain, sipOutboundProxy: registrar.host,
        sipPort: String(registrar.port), sipRegisterRequired: true,
      });
      return () => c.close();
    },
    async hookLatencies(method, since) {
      const query = new URLSearchParams({ method, since: String(Math.floor(since)), limit: String(HOOK_LOG_CAPACITY) });
      const r = await fetch(`http://127.0.0.1:${adminPort}/api/hooks?${query}`, { headers: { authorization: `Bearer ${readAdminToken(serverDataDir)}` } });
      if (!r.ok) throw new Error(`GET /api/hooks: ${r.status} ${await r.text()}`);
      return ((await r.json()) as Array<{ latencyMs: number }>).map((e) => e.latencyMs);
    },
    log: () => child.tail(30),
    async stop() {
      await child.stop(STOP_GRACE_MS);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
