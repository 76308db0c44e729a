/**
 * One callhook server of the side-by-side kit (bench/compare/servers.ts, so `npm start`'s flags; BENCH_NODE_ARGS adds
 * more) with Kamailio in the kit's namespace: its idle RSS, then `warm` registrations (each closed once registered),
 * then `passes` passes of `count` registrations 50 at a time, each closed after the pass, as the kit's warm
 * measurement does. A pass prints its time, the server's CPU and minor page faults per registration (a count the
 * machine's load does not change), the latency of a registration, RSS and the load average. Several passes in one
 * process, and a trace of each: the kit's own run starts a server per measurement and traces none.
 *
 *   node --import tsx bench/compare/registration-passes.ts [warm=2000] [count=1000] [passes=2]
 *
 * REG_TRACE=perf or strace, with REG_TRACE_OUT=<file prefix>: `perf record -g` (CPU time, with call stacks; add
 * BENCH_NODE_ARGS=--perf-basic-prof for JavaScript's names) or `strace -c` (system calls of the main thread) of the
 * server over each pass, written to <prefix>.<pass>. `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKamailio } from '../../test/support/kamailio.ts';
import { pool } from './load.ts';
import { enterNamespace } from './namespace.ts';
import { procSample, startServer } from './servers.ts';

enterNamespace();

const [warm, count, passes] = [2000, 1000, 2].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number];
const CONCURRENCY = 50;
const trace = process.env['REG_TRACE'];
const traceOut = process.env['REG_TRACE_OUT'];
if (trace !== undefined && (!['perf', 'strace'].includes(trace) || traceOut === undefined)) throw new Error('REG_TRACE=perf|strace needs REG_TRACE_OUT=<file prefix>');

/** Minor page faults of `pid` so far (proc(5): the 10th field of /proc/PID/stat). */
function minorFaults(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
}

function startTrace(pid: number, out: string) {
  const args = trace === 'perf' ? ['record', '-F', '1999', '-g', '-p', String(pid), '-o', out] : ['-c', '-p', String(pid), '-o', out];
  return spawn(trace!, args, { stdio: 'ignore' });
}

const users = Array.from({ length: Math.max(warm, count) }, (_, i) => ({ username: `user${i}`, password: `pw-${i}` }));
const kamailio = await startKamailio({ users });
const server = await startServer('callhook', { host: kamailio.host, port: kamailio.port, domain: kamailio.domain }, 'native');
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
try {
  await sleep(3_000);
  console.log(`idle RSS ${mib(procSample(server.pid).rssBytes)} MiB (load average ${loadavg()[0]!.toFixed(2)})`);
  await pool(users.slice(0, warm), CONCURRENCY, async (u) => (await server.register(u))());
  await sleep(3_000);
  for (let pass = 0; pass < passes; pass++) {
    const tracer = trace === undefined ? undefined : startTrace(server.pid, `${traceOut}.${pass}`);
    if (tracer !== undefined) await sleep(500);
    const latencies: number[] = [];
    const [cpuBefore, faultsBefore, started] = [procSample(server.pid).cpuSeconds, minorFaults(server.pid), performance.now()];
    const { done, failed } = await pool(users.slice(0, count), CONCURRENCY, async (u) => {
      const sent = performance.now();
      const close = await server.register(u);
      latencies.push(performance.now() - sent);
      return close;
    });
    const seconds = (performance.now() - started) / 1000;
    const cpuMs = ((procSample(server.pid).cpuSeconds - cpuBefore) * 1000) / count;
    const faults = (minorFaults(server.pid) - faultsBefore) / count;
    if (tracer !== undefined) {
      tracer.kill('SIGINT');
      await new Promise((resolve) => tracer.once('exit', resolve));
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number): string => (latencies[Math.floor(q * (latencies.length - 1))] ?? NaN).toFixed(0);
    console.log(
      `pass ${pass}: ${seconds.toFixed(2)} s${failed.length > 0 ? ` (${failed.length} failed: ${failed[0]})` : ''}, server CPU ${cpuMs.toFixed(2)} ms ` +
        `and ${faults.toFixed(1)} minor faults per registration, latency p50 ${at(0.5)} / p99 ${at(0.99)} ms, RSS ${mib(procSample(server.pid).rssBytes)} MiB, ` +
        `load average ${loadavg()[0]!.toFixed(2)}`,
    );
    await pool(done, 100, (close) => close());
    await sleep(3_000);
  }
} finally {
  await server.stop();
  await kamailio.stop();
}
