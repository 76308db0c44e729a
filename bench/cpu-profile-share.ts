/**
 * The share of a process's CPU spent in one source file, from a V8 CPU profile (`node --cpu-prof`; the call benches
 * write one with BENCH_CPU_PROF=<dir>): the samples that have a frame of that file anywhere on their stack (so what
 * the file's functions call counts too), over all samples that were not idle. Unlike an A/B of two runs, it is not
 * blurred by the load of the machine: both figures come from the same run.
 *
 *   node --import tsx bench/cpu-profile-share.ts <file.cpuprofile> <path part, e.g. src/gateway/timeline.ts>
 *
 * With `--top [N]` instead of a path part, it lists the N functions (default 25) with the most self time, as shares
 * of the samples that were not idle (native work a function calls without a frame of its own, such as a socket
 * send, counts as that function's), with the engine's own entries `(program)` and `(garbage collector)`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, part, topArg] = process.argv.slice(2);
if (file === undefined || part === undefined) throw new Error('usage: cpu-profile-share.ts <file.cpuprofile> <path part> | --top [N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);
if (part === '--top') {
  printTop(Number(topArg ?? 25));
  process.exit(0);
}

/** Per node: does its stack hold a frame of `part`? (memoised: stacks share their roots) */
const inFile = new Map<number, boolean>();
function holds(id: number): boolean {
  const known = inFile.get(id);
  if (known !== undefined) return known;
  const node = byId.get(id)!;
  const up = parent.get(id);
  const v = node.callFrame.url.includes(part!) || (up !== undefined && holds(up));
  inFile.set(id, v);
  return v;
}

let busyUs = 0;
let fileUs = 0;
let gcUs = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const name = byId.get(id)!.callFrame.functionName;
  if (name === '(garbage collector)') gcUs += us;
  if (IDLE.has(name)) return;
  busyUs += us;
  if (holds(id)) fileUs += us;
});
console.log(`${part}: ${(fileUs / 1000).toFixed(0)} ms of ${(busyUs / 1000).toFixed(0)} ms of JavaScript CPU (${((fileUs / busyUs) * 100).toFixed(2)} %); garbage collection ${(gcUs / 1000).toFixed(0)} ms, not counted`);

/** The `n` functions with the most self time, by name, file and line. */
function printTop(n: number): void {
  const selfUs = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    busy += us;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}${lineNumber > 0 ? `:${lineNumber + 1}` : ''}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  });
  console.log(`${(busy / 1000).toFixed(0)} ms not idle; self time:`);
  for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((us / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
}
