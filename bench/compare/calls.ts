/**
 * The kit's calls measurement (issue 18): callers (werift's or libdatachannel's browsers) to sipp's `-rtp_echo`, ramped to each step (e.g. 50,
 * 100, 250 calls), then a window at 50 pps per call: the server's CPU (% of one core) and each of its threads' (its
 * main thread against its media threads), the round trip's loss, RSS and threads. The callers live in P load-client
 * processes (bench/compare/calls-client.ts), call i in process i mod P: one event loop of werift callers takes about
 * a core at 200 calls, which would make the load client the limit at 250. Each step also records the load clients' CPU (the busiest one's too) and the machine's, so a step
 * that lost packets says what was short of CPU.
 */
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserName, CallTarget } from './callers.ts';
import type { CallsClientCommand, CallsClientReport } from './calls-client.ts';
import { allReported, forkLoadClient, hangUpClients, killClients } from './load.ts';
import { machineBusySeconds, procSample, threadCpu, threadSeconds, type ServerUnderTest } from './servers.ts';

export interface CallsPlan {
  steps: number[];
  windowSeconds: number;
  /** Load-client processes the callers are spread over. */
  processes: number;
  browser: BrowserName;
}

const RAMP_CONCURRENCY = 10;
const SETTLE_MS = 3_000;
/** A process at or above this share of one core was short of CPU. */
const BUSY = 0.9;

/** Ramps `server` through the plan's steps; `record` gets each step's fields. */
export async function measureCalls(
  server: ServerUnderTest, sippPort: number, plan: CallsPlan, record: (fields: Record<string, number | string>) => void,
): Promise<void> {
  const processes = Math.max(1, Math.min(plan.processes, Math.max(...plan.steps)));
  const children = Array.from({ length: processes }, () => forkLoadClient('./calls-client.ts', { server: server.name, wsUrl: server.wsUrl, sippPort, browser: plan.browser } satisfies CallTarget));
  const send = (command: CallsClientCommand) => {
    for (const c of children) c.send(command);
  };
  try {
    await allReported<CallsClientReport>(children, 'ready');
    let placed = 0;
    for (const step of plan.steps) {
      const failed: string[] = [];
      const placing = allReported<CallsClientReport>(children, 'placed', (r) => {
        if (r.type === 'placed') failed.push(...r.failed);
      });
      children.forEach((c, p) => {
        const indexes = Array.from({ length: step - placed }, (_, i) => placed + i).filter((i) => i % processes === p);
        c.send({ type: 'place', indexes, concurrency: Math.max(1, Math.round(RAMP_CONCURRENCY / processes)) } satisfies CallsClientCommand);
      });
      await placing;
      placed = step;
      if (failed.length > 0) console.log(`  ${failed.length} calls failed; first: ${failed[0]}`);
      await sleep(SETTLE_MS);
      const s0 = procSample(server.pid);
      const threads0 = threadCpu(server.pid);
      const clients0 = children.map((c) => procSample(c.pid!).cpuSeconds);
      const machine0 = machineBusySeconds();
      const t0 = performance.now();
      send('open');
      await sleep(plan.windowSeconds * 1000);
      const window = { sent: 0, echoed: 0 };
      const closed = allReported<CallsClientReport>(children, 'window', (r) => {
        if (r.type !== 'window') return;
        window.sent += r.sent;
        window.echoed += r.echoed;
      });
      send('close');
      const s1 = procSample(server.pid);
      const threads1 = threadCpu(server.pid);
      const seconds = (performance.now() - t0) / 1000;
      const clientsCpu = children.map((c, i) => (procSample(c.pid!).cpuSeconds - clients0[i]!) / seconds);
      const machineCpu = (machineBusySeconds() - machine0) / seconds;
      await closed;
      record({
        calls: step, browser: plan.browser, failed: failed.length, windowSeconds: seconds, cpuPercent: ((s1.cpuSeconds - s0.cpuSeconds) / seconds) * 100,
        sent: window.sent, echoed: window.echoed, loss: window.sent === 0 ? 1 : 1 - window.echoed / window.sent,
        rssMiB: s1.rssBytes / 2 ** 20, threads: s1.threads, processes,
        // Where the server's CPU went: its main thread (JavaScript, and what it calls) against its other threads.
        byThread: threadSeconds(threads0, threads1).map(([name, s]) => `${name} ${((s / seconds) * 100).toFixed(1)}`).join(', '),
        clientCpuPercent: clientsCpu.reduce((a, b) => a + b, 0) * 100, busiestClientCpuPercent: Math.max(...clientsCpu) * 100,
        machineCpuPercent: machineCpu * 100,
        shortOfCpu: machineCpu >= BUSY * cpus().length ? 'the machine' : Math.max(...clientsCpu) >= BUSY ? 'a load client' : 'none',
      });
    }
    await hangUpClients(children);
  } finally {
    killClients(children);
  }
}
