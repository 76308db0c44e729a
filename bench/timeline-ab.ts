/**
 * What the per-session timeline costs a call, measured A/B (issue 16: at most 5 % more CPU): runs
 * bench/calls-concurrent.ts with BENCH_TIMELINE=on and =off, alternating which goes first in each round (so a
 * load that rises or falls over the run does not favour one side), and prints the median of each figure and the
 * load average of each run. On a loaded machine single runs differ by more than the recorder costs; only the
 * medians of several rounds say something.
 *
 *   node --import tsx bench/timeline-ab.ts [rounds=5] [calls-concurrent arguments, default 100 50 10]
 *
 * Figures per run: callhook's CPU per call while calls are set up (the `setup CPU/call` column, all steps
 * together; the recorder records at set-up and hang-up, not while RTP is relayed) and over the whole run
 * (set-up, relay windows, hang-up).
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { machine } from './hooks-common.ts';

const rounds = Number(process.argv[2] ?? 5);
const benchArgs = process.argv.length > 3 ? process.argv.slice(3) : ['100', '50', '10'];
const script = fileURLToPath(new URL('./calls-concurrent.ts', import.meta.url));

interface Run {
  setting: 'on' | 'off';
  /** ms of callhook CPU per call set up (mean over the steps, weighted by calls) */
  setupMs: number;
  /** ms of callhook CPU per call over the whole run */
  totalMs: number;
  load: number;
}

async function run(setting: 'on' | 'off'): Promise<Run> {
  const load = loadavg()[0]!;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...benchArgs], {
    env: { ...process.env, BENCH_TIMELINE: setting },
    maxBuffer: 16 * 1024 * 1024,
  });
  const rows = stdout.split('\n').filter((l) => /^\s*\d+ \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
  let calls = 0;
  let setupCpu = 0;
  for (const r of rows) {
    const n = Number(r[0]) - calls;
    setupCpu += parseFloat(r[9]!) * n;
    calls = Number(r[0]);
  }
  const total = /total: callhook CPU ([\d.]+) ms per call/.exec(stdout);
  if (total === null || calls === 0) throw new Error(`calls-concurrent printed no figures:\n${stdout}`);
  const r: Run = { setting, setupMs: setupCpu / calls, totalMs: Number(total[1]), load: (load + loadavg()[0]!) / 2 };
  console.log(`${setting.padStart(3)} | setup ${r.setupMs.toFixed(2)} ms/call | whole run ${r.totalMs.toFixed(2)} ms/call | load average ${r.load.toFixed(1)}`);
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

console.log(`machine: ${machine()}, node ${process.version}; ${rounds} rounds of calls-concurrent ${benchArgs.join(' ')}`);
const runs: Run[] = [];
for (let i = 0; i < rounds; i++) {
  const order: Array<'on' | 'off'> = i % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
  for (const setting of order) runs.push(await run(setting));
}
const of = (setting: 'on' | 'off', k: 'setupMs' | 'totalMs' | 'load') => median(runs.filter((r) => r.setting === setting).map((r) => r[k]));
for (const k of ['setupMs', 'totalMs'] as const) {
  const on = of('on', k);
  const off = of('off', k);
  console.log(`median ${k === 'setupMs' ? 'setup CPU per call' : 'CPU per call, whole run'}: on ${on.toFixed(2)} ms, off ${off.toFixed(2)} ms: ${(((on - off) / off) * 100).toFixed(1)} %`);
}
console.log(`median load average: on ${of('on', 'load').toFixed(1)}, off ${of('off', 'load').toFixed(1)}`);
