/**
 * Server-started calls benchmark (issue 14): calls started through the REST API (`/rest-api/call/startup`) to a sipp
 * UAS with `-rtp_echo`, each playing a WAV file in a loop and recording both directions to its stereo WAV. So per
 * call callhook sends one encoded G.711 frame every 20 ms, receives its echo, decodes both into the recording and
 * writes it once a second. Calls are added in steps; after each, a window measures callhook's CPU (% of one core,
 * its own process) and memory per call; it stops after the first step above 80 % of a core.
 *
 *   node --import tsx bench/server-calls.ts [maxCalls=200] [step=25] [windowSeconds=10]
 */
import { fork } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runSipp, scenarioFile } from '../test/support/sipp.ts';
import { freePort } from '../test/support/ports.ts';
import { restApi } from '../test/support/rest-api.ts';
import { pcmWav, testSignal } from '../test/support/wav.ts';
import { nextMessage } from './calls-load.ts';
import { machine } from './hooks-common.ts';
import type { ServerStats } from './server-process.ts';

const maxCalls = Number(process.argv[2] ?? 200);
const step = Number(process.argv[3] ?? 25);
const windowSeconds = Number(process.argv[4] ?? 10);
const SETUP_CONCURRENCY = 5;
const SETTLE_MS = 3000;
const CPU_LIMIT = 80;
const MiB = 1024 * 1024;

console.log(`machine: ${machine()}, node ${process.version}`);
const dir = await mkdtemp(join(tmpdir(), 'callhook-bench-server-calls-'));
const sound = join(dir, 'prompt.wav');
// A 16 kHz file: loaded (and resampled) once per call, as call/startup does.
await writeFile(sound, pcmWav(testSignal(5, 16000), 16000));
const sipp = await runSipp({
  scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', calls: 1_000_000, extraArgs: ['-rtp_echo'], timeoutMs: 3_600_000,
});
const dataDir = join(dir, 'data');
const adminToken = 'bench-token-0123456789abcdef';
const overrides = {
  wsPort: 0, wsHost: '127.0.0.1', adminPort: 0, sipPort: await freePort('both'), localIp: '127.0.0.1', dataDir,
  maxCallsPerIp: 100_000, callsPerIpPerMinute: 100_000, rtpInactivityTimeoutMs: 0,
  // The hooks are measured by bench/hooks-*.ts; here only the media. (With hooks on, the connect hooks of startups
  // made after a measuring window sometimes timed out at EchoApp on this machine: see docs/benchmarks.md.)
  disableRest: true,
};
// BENCH_CPU_PROF=<dir>: callhook writes a V8 CPU profile there when it stops (node --cpu-prof).
const profile = process.env.BENCH_CPU_PROF;
const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [JSON.stringify(overrides)], {
  execArgv: ['--expose-gc', '--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])],
  env: { ...process.env, CALLHOOK_ADMIN_TOKEN: adminToken },
});
const { adminPort } = await nextMessage<{ type: 'ready'; adminPort: number }>(child, 'ready');
const api = restApi({ adminUrl: `http://127.0.0.1:${adminPort}`, adminToken });
const stats = async (): Promise<ServerStats> => {
  const reply = nextMessage<ServerStats>(child, 'stats');
  child.send('stats');
  return reply;
};

let started = 0;
async function startCall(): Promise<void> {
  const r = await api('/rest-api/call/startup', {
    sipLogin: `robot${started++}`, sipDomain: '127.0.0.1', sipPort: sipp.port, callee: 'bob', play: sound, loop: true, record: true,
  });
  if (r.status !== 200) throw new Error(`startup: ${r.status} ${JSON.stringify(r.json)}`);
}

try {
  const idle = await stats();
  console.log(`callhook idle: heap ${(idle.heapUsed / MiB).toFixed(1)} MiB, RSS ${(idle.rss / MiB).toFixed(1)} MiB`);
  console.log('calls | callhook CPU | heap/call | RSS/call | recorded/s | loop delay p99 / max');
  for (let target = step; target <= maxCalls; target += step) {
    while (started < target) await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, target - started) }, startCall));
    await sleep(SETTLE_MS);
    const live = (await api('/rest-api/call/find_all')).json as Array<{ status: string }>;
    const established = live.filter((c) => c.status === 'ESTABLISHED').length;
    const bytes = async () => {
      let sum = 0;
      for (const f of await readdir(join(dataDir, 'recordings'))) sum += (await stat(join(dataDir, 'recordings', f))).size;
      return sum;
    };
    const b0 = await bytes();
    const s0 = await stats();
    const t0 = performance.now();
    await sleep(windowSeconds * 1000);
    const s1 = await stats();
    const seconds = (performance.now() - t0) / 1000;
    const b1 = await bytes();
    const cpu = ((s1.cpuUs - s0.cpuUs) / (seconds * 1e6)) * 100;
    console.log([
      `${established}`.padStart(5),
      `${cpu.toFixed(0)} %`.padStart(12),
      `${((s1.heapUsed - idle.heapUsed) / established / 1024).toFixed(0)} KiB`.padStart(9),
      `${((s1.rss - idle.rss) / established / 1024).toFixed(0)} KiB`.padStart(8),
      // Each call's stereo 16-bit 8 kHz recording grows 32 000 bytes a second.
      `${((b1 - b0) / seconds / 32_000).toFixed(0)} calls`.padStart(10),
      `${s1.loopDelayP99Ms.toFixed(0)} / ${s1.loopDelayMaxMs.toFixed(0)} ms`.padStart(20),
    ].join(' | '));
    if (established < target) console.log(`only ${established} of ${target} calls are ESTABLISHED`);
    if (cpu > CPU_LIMIT) break;
  }
} finally {
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  await sipp.kill();
  await rm(dir, { recursive: true, force: true });
}
