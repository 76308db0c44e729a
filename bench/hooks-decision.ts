/**
 * Decision hook overhead (issue 3 "Speed"): `engine.invoke('call', …)` against a bare keep-alive POST of the same
 * body to the same local backend. Target: p50 added < 0.5 ms, p99 added < 2 ms.
 *
 * The backend runs in a child process (an echo server, as a backend mirroring its input), so the two sides do not
 * share one event loop. The engine side is complete: app lookup, restClientConfig, JSON, HMAC signature, the
 * HTTP exchange, the answer read and merged, the hook-log row in SQLite (WAL) and the metrics. Bare and engine
 * requests alternate, so drift (CPU frequency, GC) hits both alike.
 *
 *   node --import tsx bench/hooks-decision.ts [iterations]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/index.ts';
import { createHookEngine } from '../src/hooks/index.ts';
import { createLogger } from '../src/log.ts';
import { echoBackend, machine, percentile } from './hooks-common.ts';

if (process.argv[2] === 'backend') {
  echoBackend();
} else {
  await main(Number(process.argv[2] ?? 20_000));
}

async function main(iterations: number): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['backend'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const dataDir = mkdtempSync(join(tmpdir(), 'callhook-bench-'));
  const store = openStore({ dataDir, adminPort: 8081 });
  await store.apps.add({ name: 'bench', appKey: 'bench', url: `http://127.0.0.1:${port}/rest`, restSecret: 'bench-secret' });
  await store.apps.enableMethod('bench', '*');
  const engine = createHookEngine({
    store,
    config: { restRequestTimeoutMs: 15_000, restRetryCount: 3, restEventMaxAgeMs: 86_400_000, disableRest: false, userAgent: 'callhook/bench', hookLogMaxBodyBytes: 4096 },
    log: createLogger('silent'),
  });
  const ctx = { appKey: 'bench', sessionId: '/192.0.2.10:50000/192.0.2.1:8443', nodeId: 'bench@192.0.2.1' };
  const body = { callId: 'b1f3c0de-0000-4000-8000-000000000001', callee: '100', caller: 'alice', visibleName: 'Alice', hasAudio: true, hasVideo: false, sdp: 'v=0\r\n'.repeat(20) };
  const bareBody = JSON.stringify({ ...ctx, ...body });
  const agent = new http.Agent({ keepAlive: true });

  const bare = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(`http://127.0.0.1:${port}/rest/call`, {
        method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(bareBody) },
      }, (res) => {
        res.on('data', () => undefined);
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(bareBody);
    });
  const hook = async (): Promise<void> => {
    const outcome = await engine.invoke('call', body, ctx);
    if (!outcome.ok) throw new Error(`hook failed: ${outcome.info}`);
  };

  const time = async (fn: () => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  for (let i = 0; i < 2000; i++) {
    await bare();
    await hook();
  }
  const bareMs: number[] = [];
  const hookMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    bareMs.push(await time(bare));
    hookMs.push(await time(hook));
  }

  const row = (name: string, xs: number[]): string =>
    `${name.padEnd(22)} p50 ${percentile(xs, 50).toFixed(3)} ms   p99 ${percentile(xs, 99).toFixed(3)} ms`;
  const added50 = percentile(hookMs, 50) - percentile(bareMs, 50);
  const added99 = percentile(hookMs, 99) - percentile(bareMs, 99);
  console.log(`decision hook overhead — ${machine()}, Node ${process.version}, ${iterations} requests each`);
  console.log(row('bare keep-alive POST', bareMs));
  console.log(row('engine.invoke (call)', hookMs));
  console.log(`added                  p50 ${added50.toFixed(3)} ms (target < 0.5)   p99 ${added99.toFixed(3)} ms (target < 2)`);
  console.log(`result: ${added50 < 0.5 && added99 < 2 ? 'PASS' : 'FAIL'}`);

  await engine.stop();
  agent.destroy();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  child.kill();
}
