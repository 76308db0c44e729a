/** Shared by the hook benches: the echo backend child, the machine line, percentiles. */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { freePort } from '../test/support/ports.ts';

/**
 * Runs in a child process: a backend that answers every POST with 200 and the request body (WCS's "mirror"),
 * tells the parent its port over IPC, and on the message 'count' replies with how many requests it served and
 * the CPU time it used (µs).
 */
export function echoBackend(): void {
  let served = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      served++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
  process.on('message', (m) => {
    if (m === 'count') {
      const cpu = process.cpuUsage();
      process.send!({ served, cpuUs: cpu.user + cpu.system });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * `lscpu` model name, the core count and the load average when the bench started, for the figures to mean
 * something (a load above the core count means other processes competed for the CPU).
 */
export function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'));
    if (line !== undefined) model = line.slice('Model name:'.length).trim();
  } catch {
    // no lscpu: keep Node's view of the CPU
  }
  return `${model}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)}`;
}

/** Operations per measured batch of `batchTimes`. */
export const BATCH = 20_000;

/**
 * CPU time (µs) of one call of `run`, best and median of `batches` batches of BATCH calls after a warm-up batch;
 * `run` is given 0, 1, 2, … across all of them. CPU time of this process, so the machine's load does not skew it.
 */
export function batchTimes(run: (n: number) => void, batches = 10): { best: number; median: number } {
  let n = 0;
  for (let i = 0; i < BATCH; i++) run(n++); // warm-up
  const perCallUs: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) run(n++);
    const used = process.cpuUsage(t0);
    perCallUs.push((used.user + used.system) / BATCH);
  }
  perCallUs.sort((a, b) => a - b);
  return { best: perCallUs[0]!, median: perCallUs[Math.floor(batches / 2)]! };
}

export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** What every bench's callhook starts with: loopback only, ports of its own, its own data directory. */
export async function loopbackServerSettings(dataDir: string): Promise<Record<string, string | number>> {
  return { wsPort: 0, wsHost: '127.0.0.1', adminPort: 0, sipPort: await freePort('both'), localIp: '127.0.0.1', dataDir };
}
