/**
 * The share of a process's CPU spent in one source file, from a V8 CPU profile (`node --cpu-prof`; the call benches
 * write one with BENCH_CPU_PROF=<dir>): the samples that have a frame of that file anywhere on their stack (so what
 * the file's functions call counts too), over all samples that were not idle. Unlike an A/B of two runs, it is not
 * blurred by the load of the machine: both figures come from the same run.
 *
 *   node --import tsx bench/cpu-profile-share.ts <file.cpuprofile> <path part, e.g. src/gateway/timeline.ts>
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, part] = process.argv.slice(2);
if (file === undefined || part === undefined) throw new Error('usage: cpu-profile-share.ts <file.cpuprofile> <path part>');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

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
