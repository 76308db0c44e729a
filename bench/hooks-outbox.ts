/**
 * Event outbox throughput (issue 3 "Speed"): events per second sustained from `emit` into a local backend, every
 * event committed to the store before its first attempt (SQLite: WAL, synchronous=NORMAL; PostgreSQL: a throwaway
 * server from test/support/postgres.ts with its default durability, synchronous_commit on), its delivery recorded
 * (row deleted, hook-log row written). Target ≥ 5,000 events/s.
 *
 * Two figures: the durable append alone (`emit` with the worker stopped, until every event is committed), then end
 * to end: a producer emits in batches while the worker delivers, until the backend (a child process) has received
 * every event.
 *
 *   node --import tsx bench/hooks-outbox.ts [events] [sessions] [sqlite|postgres]
 *
 * BENCH_HOOK_LOG_BODIES=off: without the request and response bodies in the hook log (hookLogMaxBodyBytes 0).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Store } from '../src/store/index.ts';
import { createHookEngine, type HookEngine } from '../src/hooks/index.ts';
import { createLogger } from '../src/log.ts';
import { STORE_ENGINES, stopStoreEngines, type StoreEngine } from '../test/support/stores.ts';
import { echoBackend, machine, percentile } from './hooks-common.ts';

/** BENCH_HOOK_LOG_BODIES=off: the hook log keeps no bodies (hookLogMaxBodyBytes 0), to measure what keeping them costs. */
const BODY_BYTES = process.env['BENCH_HOOK_LOG_BODIES'] === 'off' ? 0 : 4096;

if (process.argv[2] === 'backend') {
  echoBackend();
} else {
  const name = process.argv[4] ?? 'sqlite';
  const engine = STORE_ENGINES.find((e) => e.name === name);
  if (engine === undefined) throw new Error(`store engine ${name}: use sqlite or postgres`);
  await main(Number(process.argv[2] ?? 50_000), Number(process.argv[3] ?? 1000), engine);
  await stopStoreEngines();
}

async function setup(storeEngine: StoreEngine, port: number): Promise<{ store: Store; engine: HookEngine }> {
  const store = await storeEngine.open(await storeEngine.fresh());
  await store.apps.add({ name: 'bench', appKey: 'bench', url: `http://127.0.0.1:${port}/rest` });
  await store.apps.enableMethod('bench', '*');
  const engine = createHookEngine({
    store,
    config: { restRequestTimeoutMs: 15_000, restRetryCount: 3, restEventMaxAgeMs: 86_400_000, disableRest: false, userAgent: 'callhook/bench', hookLogMaxBodyBytes: BODY_BYTES },
    log: createLogger('silent'),
  });
  return { store, engine };
}

async function teardown(s: { store: Store; engine: HookEngine }): Promise<void> {
  await s.engine.stop();
  await s.store.close();
}

async function main(events: number, sessions: number, storeEngine: StoreEngine): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['backend'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const backendStats = (): Promise<{ served: number; cpuUs: number }> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as { served: number; cpuUs: number }));
      child.send('count');
    });
  const served = async (): Promise<number> => (await backendStats()).served;
  const body = (i: number) => ({ callId: `call-${i % sessions}`, status: 'ESTABLISHED', info: 'Normal call clearing', caller: 'alice', callee: '100', hasAudio: true });
  const ctx = (i: number) => ({ appKey: 'bench', sessionId: `/198.51.100.${i % sessions}:40000/192.0.2.1:8443`, nodeId: 'bench@192.0.2.1' });

  // 1. durable append only
  const a = await setup(storeEngine, port);
  const emitMs: number[] = [];
  const committed: Array<Promise<number | undefined>> = [];
  let t0 = performance.now();
  for (let i = 0; i < events; i++) {
    const t = performance.now();
    committed.push(a.engine.emit('CallStatusEvent', body(i), ctx(i)).committed!);
    emitMs.push(performance.now() - t);
  }
  const lost = (await Promise.all(committed)).filter((sequence) => sequence === undefined).length;
  const appendRate = events / ((performance.now() - t0) / 1000);
  await teardown(a);

  // 2. end to end, producer and worker running together
  const b = await setup(storeEngine, port);
  await b.engine.start();
  const base = await backendStats();
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  let emitted = 0;
  await new Promise<void>((resolve) => {
    const produce = (): void => {
      const end = Math.min(events, emitted + 100);
      for (; emitted < end; emitted++) b.engine.emit('CallStatusEvent', body(emitted), ctx(emitted));
      if (emitted < events) setImmediate(produce);
      else resolve();
    };
    produce();
  });
  const emitDoneMs = performance.now() - t0;
  while ((await served()) - base.served < events) await new Promise((r) => setTimeout(r, 20));
  const totalS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const end = await backendStats();
  const got = end.served - base.served;
  const log = (await b.store.hookLog.query({ failed: true, limit: 1 }));
  await teardown(b);
  child.kill();

  console.log(`event outbox throughput on ${storeEngine.name} — ${machine()}, Node ${process.version}, ${events} events over ${sessions} sessions`);
  console.log(
    `durable append (emit until committed)            ${Math.round(appendRate)} events/s (${lost} not committed); ` +
      `emit p50 ${(percentile(emitMs, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(emitMs, 99) * 1000).toFixed(0)} µs`,
  );
  console.log(`end to end into the backend                      ${Math.round(events / totalS)} events/s (all ${events} emitted after ${(emitDoneMs / 1000).toFixed(2)} s, delivered after ${totalS.toFixed(2)} s)`);
  console.log(
    `CPU per event: callhook ${((cpu.user + cpu.system) / events).toFixed(0)} µs (emit + delivery), ` +
      `backend ${((end.cpuUs - base.cpuUs) / events).toFixed(0)} µs; callhook busy ${(((cpu.user + cpu.system) / 1e6 / totalS) * 100).toFixed(0)}% of a core ` +
      `(below 100 %: other processes had the CPU); its CPU time allows ${Math.round((events * 1e6) / (cpu.user + cpu.system))} events/s`,
  );
  console.log(`backend received ${got} requests; failed attempts: ${log.length}`);
  console.log(`result: ${events / totalS >= 5000 && got === events ? 'PASS' : 'FAIL'} (target >= 5000 events/s, every event delivered once)`);
}
