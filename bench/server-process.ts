/**
 * callhook in a child process for the benches (bench/sessions.ts, bench/messages.ts), so its memory and CPU are
 * measured apart from the load client. Started with fork(): argv[2] is the JSON of the configuration overrides.
 * IPC: sends {type:'ready', wsPort, …} once listening; answers 'stats' with heap, RSS, CPU time and session
 * counts (after a GC when run with --expose-gc); 'stop' closes the server and exits. BENCH_COMPILED=1 runs the
 * compiled server (dist/, `npm run build`) instead of the sources. {type:'profile-start'} and {type:'profile-stop',
 * file} profile the server's JavaScript over one phase of a bench (node:inspector; `--cpu-prof` would add start-up
 * and the other phases) and write the .cpuprofile to `file` (bench/cpu-profile-share.ts reads it), and beside it a
 * .heapprofile of what was allocated in that phase, collected garbage included (sampled every 4 KiB; Chrome's
 * DevTools opens it): garbage is what the collector's share of the CPU comes from.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as Log from '../src/log.ts';
import type * as Server from '../src/server.ts';

export interface ServerStats {
  type: 'stats';
  heapUsed: number;
  /** The V8 heap's reserved size: heapUsed plus what the collector keeps free in its pages. */
  heapTotal: number;
  /** Memory outside the JS heap held by JS objects (Buffers and other ArrayBuffers among it). */
  external: number;
  rss: number;
  /** user + system CPU time since start, µs */
  cpuUs: number;
  /** of which system (kernel) time, µs */
  cpuSystemUs: number;
  sessions: number;
  registered: number;
  /** The event loop's delay since the previous stats (ms): its 99th percentile and its maximum. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
// BENCH_COMPILED=1: the server as the package runs it, compiled by `npm run build` to dist/. Through tsx, every arrow
// function that gets a name carries it as an own property (esbuild's keepNames), which adds memory per session.
const from = process.env['BENCH_COMPILED'] === '1' ? '../dist' : '../src';
const extension = from === '../dist' ? 'js' : 'ts';
const { createLogger } = (await import(`${from}/log.${extension}`)) as typeof Log;
const { startServer } = (await import(`${from}/server.${extension}`)) as typeof Server;
const overrides = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const server = await startServer({ overrides, logger: createLogger('warn'), handleSignals: false });
process.send!({ type: 'ready', wsPort: server.wsPort, adminPort: server.adminPort, sipPort: server.sipPort });

const inspector = new Session();

async function profile(m: { type: 'profile-start' } | { type: 'profile-stop'; file: string }): Promise<void> {
  if (m.type === 'profile-start') {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
    await inspector.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(m.file, JSON.stringify(profile));
    const heap = await inspector.post('HeapProfiler.stopSampling');
    writeFileSync(m.file.replace(/\.cpuprofile$/, '.heapprofile'), JSON.stringify(heap.profile));
    inspector.disconnect();
  }
  process.send!({ type: 'profiled' });
}

process.on('message', (m: unknown) => {
  if (typeof m === 'object' && m !== null && 'type' in m && (m.type === 'profile-start' || m.type === 'profile-stop')) {
    void profile(m as Parameters<typeof profile>[0]);
  } else if (m === 'stats') {
    global.gc?.();
    const cpu = process.cpuUsage();
    const sessions = server.gateway.sessions();
    const memory = process.memoryUsage();
    const stats: ServerStats = {
      type: 'stats',
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      rss: memory.rss,
      cpuUs: cpu.user + cpu.system,
      cpuSystemUs: cpu.system,
      sessions: sessions.length,
      registered: sessions.filter((s) => s.registration === 'REGISTERED').length,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
    };
    loopDelay.reset();
    process.send!(stats);
  } else if (m === 'stop') {
    void server.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
