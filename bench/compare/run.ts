/**
 * The side-by-side kit of issue 18: Janus's SIP plugin against callhook, on this machine, with the same load client
 * for both (bench/compare/servers.ts), in a private network namespace (bench/compare/namespace.ts) holding Kamailio
 * (registrar, test/support/kamailio.ts), a sipp `-rtp_echo` UAS and each server in turn. Each measurement starts a
 * fresh server process and reads its CPU, RSS and threads from /proc:
 *
 * - registrations: N sessions (one WebSocket each) registering their own user on Kamailio with digest, C at a time,
 *   on the fresh process: RSS per session over the idle process, threads; time and the CPU per registration of the
 *   server, the load client and Kamailio are read on that pass, or, for callhook (whose JavaScript V8 compiles as it
 *   runs), on a second pass after W warm-up registrations (each closed once registered, then the server left to
 *   settle);
 * - calls: callers to sipp's echo, spread over P load-client processes (bench/compare/calls.ts),
 *   ramped to each step (50, 100 and 250 calls), then a window at 50 pps per call: server CPU (% of one core),
 *   loss of the round trip, RSS and threads (and the idle RSS before the first call), the load clients' CPU;
 * - setup: after W warm-up calls (set up and hung up), N calls set up (answered, DTLS up) C at a time by P load-client
 *   processes (bench/compare/setup.ts), from
 *   the first `call` to the last one up: rate, p50/p99 of each step of a call, CPU of the server and of the load
 *   clients, and what limited the rate.
 *
 * Before each round it waits (bounded) for the load average to settle, and records it either way. The full run goes
 * twice, Janus first then callhook first. Output in --out (default a new temp dir): results.jsonl (one JSON line per
 * measurement), table.md (the side-by-side table) and cpu-chart.svg (CPU against concurrent calls).
 *
 *   node --import tsx bench/compare/run.ts [--smoke] [--out DIR] [--settle-seconds 300] [--server NAME]
 *     [--only registrations,calls,setup] [--call-steps 50,100,250] [--call-processes 5] [--setup-calls 300]
 *     [--setup-concurrency 40] [--setup-processes 2] [--setup-warmup 200] [--registration-warmup 2000]
 *     [--callhook-media native|one-port|port-pairs] [--call-browser werift|libdatachannel] [--setup-browser werift|libdatachannel]
 *
 * --callhook-media: callhook's WebRTC engine as it runs by default (`native`, the default here), or the libdatachannel
 * engine with all browser legs on one UDP port (`one-port`: `webrtcPort`, ICE UDP mux) or a port pair per call
 * (`port-pairs`); the output says which, on its first line, in each JSON line (`media`) and in the table's header.
 *
 * --call-browser, --setup-browser: the WebRTC stack of the load clients' browsers, the same for both servers
 * (bench/compare/callers.ts): werift (ICE, DTLS and SRTP in JavaScript) or libdatachannel (in C++). The setup step's
 * default is libdatachannel: werift's browsers cost about twice the server's CPU per call set up, so on 2 cores they,
 * not the server, set the rate (docs/benchmarks.md "Call setup with a libdatachannel load client"). The calls step's
 * default is werift (see there why). Each JSON line of those steps says which (`browser`), and so does the table's
 * header.
 *
 * --server janus|callhook and --only narrow a run to one server or some measurements (e.g. callhook's memory with
 * calls up, after a change). callhook runs compiled: `npm run build` first.
 *
 * --smoke: 5 registrations, 2 calls (one load client) with a 3 s window, 10 calls set up 2 at a time by 2 load clients
 * after 1 warm-up call (enough for the CPU's 10 ms ticks to show in /proc with libdatachannel's browsers, which set
 * 2 calls up within a tick or two), one round, one process per server, no settling: a check of the kit itself
 * (test/integration/compare-kit.test.ts), not a figure.
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startKamailio } from '../../test/support/kamailio.ts';
import { runSipp, scenarioFile } from '../../test/support/sipp.ts';
import { machine } from '../hooks-common.ts';
import { BROWSERS, type BrowserName } from './callers.ts';
import { measureCalls } from './calls.ts';
import { pool } from './load.ts';
import { enterNamespace } from './namespace.ts';
import { writeReport, type Measurement } from './report.ts';
import { measureSetup } from './setup.ts';
import { CALLHOOK_MEDIA, namespaceProcessCpu, procSample, startServer, threadCpu, threadShares, type CallhookMedia, type KitUser, type Registrar, type ServerName, type ServerUnderTest } from './servers.ts';

enterNamespace();

const MEASURES = ['registrations', 'calls', 'setup'] as const;
type MeasureName = (typeof MEASURES)[number];
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    'settle-seconds': { type: 'string' },
    only: { type: 'string' },
    'setup-calls': { type: 'string' },
    'setup-concurrency': { type: 'string' },
    'setup-processes': { type: 'string' },
    'setup-warmup': { type: 'string' },
    'registration-warmup': { type: 'string' },
    'call-steps': { type: 'string' },
    'call-processes': { type: 'string' },
    server: { type: 'string' },
    'callhook-media': { type: 'string', default: 'native' },
    'call-browser': { type: 'string', default: 'werift' },
    'setup-browser': { type: 'string', default: 'libdatachannel' },
  },
});
function browserOption(name: 'call-browser' | 'setup-browser'): BrowserName {
  const value = args[name]!;
  if (!(BROWSERS as readonly string[]).includes(value)) throw new Error(`--${name}: ${BROWSERS.join(' or ')}, not ${value}`);
  return value as BrowserName;
}
if (args.server !== undefined && args.server !== 'janus' && args.server !== 'callhook') throw new Error(`--server: janus or callhook, not ${args.server}`);
if (!Object.hasOwn(CALLHOOK_MEDIA, args['callhook-media'])) throw new Error(`--callhook-media: native, one-port or port-pairs, not ${args['callhook-media']}`);
const callhookMedia = args['callhook-media'] as CallhookMedia;
const smoke = args.smoke!;
const only = new Set((args.only ?? MEASURES.join(',')).split(','));
for (const m of only) if (!(MEASURES as readonly string[]).includes(m)) throw new Error(`--only: no measure ${m} (${MEASURES.join(', ')})`);
const basePlan = smoke
  ? {
      registrations: [{ count: 5, concurrency: 5, warmUp: 1 }],
      calls: { steps: [2], windowSeconds: 3, processes: 1 },
      setup: { calls: 10, concurrency: 2, processes: 2, warmUp: 1 },
      rounds: [['janus', 'callhook']],
      freshServers: false,
    }
  : {
      registrations: [{ count: 300, concurrency: 50, warmUp: 2000 }, { count: 1000, concurrency: 50, warmUp: 2000 }],
      calls: { steps: [50, 100, 250], windowSeconds: 20, processes: 5 },
      // 40 in flight: at 10, callhook's rate is set by each call's latency (answer → DTLS up), not by its CPU, and
      // Janus's rate is the same at 10 and 40 (docs/benchmarks.md "Call setup with a libdatachannel load client").
      setup: { calls: 300, concurrency: 40, processes: 2, warmUp: 200 },
      rounds: [['janus', 'callhook'], ['callhook', 'janus']],
      freshServers: true,
    };
/** `--call-steps 50,100,250`: ascending call counts, each above the one before. */
function callSteps(text: string): number[] {
  const steps = text.split(',').map(Number);
  if (steps.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= steps[i - 1]!))) throw new Error(`--call-steps: ascending counts of calls, not ${text}`);
  return steps;
}
const registrationWarmUp = args['registration-warmup'];
const plan = {
  ...basePlan,
  registrations: basePlan.registrations.map((r) => ({ ...r, ...(registrationWarmUp !== undefined && { warmUp: Number(registrationWarmUp) }) })),
  calls: {
    ...basePlan.calls,
    ...(args['call-steps'] !== undefined && { steps: callSteps(args['call-steps']) }),
    processes: Number(args['call-processes'] ?? basePlan.calls.processes),
    browser: browserOption('call-browser'),
  },
  setup: {
    calls: Number(args['setup-calls'] ?? basePlan.setup.calls),
    concurrency: Number(args['setup-concurrency'] ?? basePlan.setup.concurrency),
    processes: Number(args['setup-processes'] ?? basePlan.setup.processes),
    warmUp: Number(args['setup-warmup'] ?? basePlan.setup.warmUp),
    browser: browserOption('setup-browser'),
  },
};
const settleSeconds = Number(args['settle-seconds'] ?? (smoke ? 0 : 300));
/** Quiet enough: a quarter of the cores busy on average over a minute. */
const QUIET_LOAD = cpus().length / 4;
const IDLE_SETTLE_MS = 2_000;
/** After the warm-up registrations: the server is settled once it uses at most 2 % of a core over half a second. */
const SETTLED_CPU = 0.02;
const SETTLE_STEP_MS = 500;
const SETTLE_MAX_MS = 30_000;

const out = args.out ?? mkdtempSync(join(tmpdir(), 'callhook-compare-'));
mkdirSync(out, { recursive: true });
const jsonl = join(out, 'results.jsonl');
writeFileSync(jsonl, '');
const measurements: Measurement[] = [];
let round = 0;
let order = '';

function record(server: ServerUnderTest, measure: string, fields: Record<string, number | string>): void {
  const m: Measurement = { round, order, server: server.name, version: server.version, ...(server.media !== undefined && { media: server.media }), measure, ...fields, load: loadavg().map((l) => Number(l.toFixed(2))), at: new Date().toISOString() };
  measurements.push(m);
  appendFileSync(jsonl, `${JSON.stringify(m)}\n`);
  console.log(`  ${server.name} ${measure} ${JSON.stringify(fields)}`);
}

async function withServer(name: ServerName, registrar: Registrar, body: (s: ServerUnderTest) => Promise<void>): Promise<void> {
  const server = await startServer(name, registrar, callhookMedia);
  try {
    await sleep(IDLE_SETTLE_MS);
    await body(server);
  } finally {
    await server.stop();
  }
}

/** CPU seconds so far of the three processes that share the cores while sessions register. */
interface CpuReading {
  server: number;
  /** This process: during a measurement it does nothing but drive the load. */
  loadClient: number;
  /** Kamailio's processes. */
  registrar: number;
}

function cpuReading(server: ServerUnderTest): CpuReading {
  const own = process.cpuUsage();
  return { server: procSample(server.pid).cpuSeconds, loadClient: (own.user + own.system) / 1e6, registrar: namespaceProcessCpu('kamailio') };
}

/** Polls the server's CPU time until it used at most SETTLED_CPU of a core over SETTLE_STEP_MS, for up to SETTLE_MAX_MS. */
async function serverSettled(server: ServerUnderTest): Promise<void> {
  const started = performance.now();
  let last = procSample(server.pid).cpuSeconds;
  while (performance.now() - started < SETTLE_MAX_MS) {
    await sleep(SETTLE_STEP_MS);
    const now = procSample(server.pid).cpuSeconds;
    if (now - last <= (SETTLED_CPU * SETTLE_STEP_MS) / 1000) return;
    last = now;
  }
}

/**
 * `warmUp` registrations, closed again, before the measured ones: a server whose code is compiled while it runs
 * (callhook's JavaScript: V8 optimises a function once it has run a while, on threads of its own; a function run
 * once per registration gets there after a thousand or more) is measured as it serves, not while it compiles. The
 * closes' work (callhook unregisters each session) ends before the measurement starts. Janus, compiled ahead of
 * time, has nothing to warm up (and at its 10 registrations a second, 2,000 would add 200 s to each measurement).
 */
async function warmUpRegistrations(server: ServerUnderTest, users: KitUser[], concurrency: number): Promise<void> {
  // Each closed as soon as it is registered: at most `concurrency` live at once, as a stream of users does.
  await pool(users, concurrency, async (u) => (await server.register(u))());
  await serverSettled(server);
}

/** One pass of `users` registering, `concurrency` at a time: what it took, and the readings around it. */
async function registrationPass(server: ServerUnderTest, users: KitUser[], concurrency: number) {
  const threadsBefore = threadCpu(server.pid);
  const cpuBefore = cpuReading(server);
  const started = performance.now();
  const { done, failed } = await pool(users, concurrency, (u) => server.register(u));
  const seconds = (performance.now() - started) / 1000;
  const after = procSample(server.pid);
  const cpuAfter = cpuReading(server);
  const threadsAfter = threadCpu(server.pid);
  const cpuKeys = Object.keys(cpuAfter) as Array<keyof CpuReading>;
  const cpu = Object.fromEntries(cpuKeys.map((k) => [k, ((cpuAfter[k] - cpuBefore[k]) * 1000) / users.length])) as Record<keyof CpuReading, number>;
  if (failed.length > 0) console.log(`  first failure: ${failed[0]}`);
  // The one of the three with the most CPU per registration sets the rate once the cores are shared out.
  const busiest = cpuKeys.reduce((a, b) => (cpu[b] > cpu[a] ? b : a));
  return {
    done, after,
    fields: {
      failed: failed.length, seconds, perSecond: done.length / seconds,
      serverCpuMsPerRegistration: cpu.server, loadClientCpuMsPerRegistration: cpu.loadClient, registrarCpuMsPerRegistration: cpu.registrar,
      // The main thread's share is what one event loop can do; the rest is V8's compiler and GC helpers, and others.
      serverCpuMsPerRegistrationByThread: threadShares(threadsBefore, threadsAfter, cpuAfter.server - cpuBefore.server, users.length),
      busiest: { server: 'the server', loadClient: 'the load client', registrar: 'the registrar' }[busiest],
    },
  };
}

/**
 * `count` of `users` register on the fresh process, `concurrency` at a time: its memory per session, and (without
 * warm-up) the time and CPU. With `warmUp` (servers compiled at run time), those close, `warmUp` registrations by
 * the same users warm the server up, and the `count` register again for the time and CPU: memory is not read on
 * the warmed process, whose heap has room the warm-up made, in which the sessions' memory would not show.
 */
async function registrations(server: ServerUnderTest, allUsers: KitUser[], count: number, concurrency: number, plannedWarmUp: number): Promise<void> {
  const warmUp = server.compiledAtRunTime ? plannedWarmUp : 0;
  const users = allUsers.slice(0, count);
  const idle = procSample(server.pid);
  const cold = await registrationPass(server, users, concurrency);
  const memory = {
    rssPerSessionKiB: (cold.after.rssBytes - idle.rssBytes) / Math.max(1, cold.done.length) / 1024, threads: cold.after.threads,
  };
  let measured = cold;
  if (warmUp > 0) {
    await pool(cold.done, 100, (close) => close());
    await warmUpRegistrations(server, allUsers.slice(0, warmUp), concurrency);
    measured = await registrationPass(server, users, concurrency);
  }
  record(server, 'registrations', {
    count: users.length, concurrency, warmUp, ...measured.fields, ...memory,
    ...(warmUp > 0 && { coldSeconds: cold.fields.seconds, coldServerCpuMsPerRegistration: cold.fields.serverCpuMsPerRegistration }),
  });
  await pool(measured.done, 100, (close) => close());
}

async function calls(server: ServerUnderTest): Promise<void> {
  const idle = procSample(server.pid);
  record(server, 'idle', { rssMiB: idle.rssBytes / 2 ** 20, threads: idle.threads });
  await measureCalls(server, sipp.port, plan.calls, (fields) => record(server, 'calls', fields));
}

async function setup(server: ServerUnderTest): Promise<void> {
  record(server, 'setup', await measureSetup(server, sipp, plan.setup));
}

/** Waits up to `settleSeconds` for the 1-minute load average to drop to QUIET_LOAD; records it either way. */
async function settle(): Promise<void> {
  const started = performance.now();
  while (loadavg()[0]! > QUIET_LOAD && performance.now() - started < settleSeconds * 1000) await sleep(5_000);
  const waited = (performance.now() - started) / 1000;
  const quiet = loadavg()[0]! <= QUIET_LOAD;
  console.log(`round ${round} (${order}): load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} after ${waited.toFixed(0)} s${quiet ? '' : ` (not down to ${QUIET_LOAD} within ${settleSeconds} s)`}`);
  const line = { round, order, measure: 'load', waitedSeconds: waited, quiet, load: loadavg(), at: new Date().toISOString() };
  appendFileSync(jsonl, `${JSON.stringify(line)}\n`);
}

console.log(`machine: ${machine()}, node ${process.version}; callhook's browser media: ${CALLHOOK_MEDIA[callhookMedia]}; load clients' browsers: ${plan.calls.browser} (calls), ${plan.setup.browser} (setup); output in ${out}`);
const users = Array.from({ length: Math.max(...plan.registrations.map((r) => Math.max(r.count, r.warmUp))) }, (_, i) => ({ username: `user${i}`, password: `pw-${i}` }));
const kamailio = await startKamailio({ users });
const registrar = { host: kamailio.host, port: kamailio.port, domain: kamailio.domain };
const sipp = await runSipp({
  scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', calls: 1_000_000, extraArgs: ['-rtp_echo'], timeoutMs: 24 * 3_600_000,
});
try {
  for (const servers of plan.rounds) {
    round++;
    order = servers.join(' first, then ');
    await settle();
    const steps = [
      ...(only.has('registrations') ? plan.registrations.map((r) => (s: ServerUnderTest) => registrations(s, users, r.count, r.concurrency, r.warmUp)) : []),
      ...(only.has('calls') ? [calls] : []),
      ...(only.has('setup') ? [setup] : []),
    ];
    // A fresh server process for each measurement, so none starts with what the one before left in memory; the
    // smoke run shares one (it checks the kit, and a callhook start costs seconds).
    const processes = plan.freshServers ? steps.map((step) => [step]) : [steps];
    for (const name of (servers as ServerName[]).filter((n) => args.server === undefined || n === args.server)) {
      for (const group of processes) {
        await withServer(name, registrar, async (s) => {
          for (const step of group) await step(s);
        });
      }
    }
  }
  console.log(`\n${writeReport(out, measurements)}`);
} finally {
  await sipp.kill();
  await kamailio.stop();
}
