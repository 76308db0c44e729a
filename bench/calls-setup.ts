/**
 * Call setup rate benchmark (issue 5): werift browsers place calls through callhook to a sipp UAS that answers at
 * once (bench/calls-load.ts). A call is set up when the browser has both `talk` (ESTABLISHED: `call` hook, WebRTC
 * answer, INVITE, 100/180/200, ACK) and its DTLS-SRTP connection to callhook (ICE checks, DTLS handshake). Calls are
 * placed `concurrency` at a time, then all hung up; reports calls set up per second, setup time p50/p99 and
 * callhook's CPU during the setup phase.
 *
 *   node --import tsx bench/calls-setup.ts [calls=200] [concurrency=10]
 */
import { CallBench } from './calls-load.ts';
import { machine, percentile } from './hooks-common.ts';

const total = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 10);
const WARM_UP = 10;

console.log(`machine: ${machine()}, node ${process.version}`);
const bench = await CallBench.start();

try {
  // JIT and connection pools warm: the first calls pay for module loading and compilation.
  await Promise.all(Array.from({ length: WARM_UP }, () => bench.place()));
  await bench.hangUpAll();

  const s0 = await bench.stats();
  const started = performance.now();
  let placed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (placed < total) {
        placed++;
        await bench.place();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const s1 = await bench.stats();
  const setups = bench.calls.map((c) => c.setupMs);
  console.log(`calls: ${bench.calls.length} set up, ${concurrency} at a time (after ${WARM_UP} to warm up)`);
  console.log(`rate: ${(bench.calls.length / seconds).toFixed(1)} calls/s (${seconds.toFixed(2)} s)`);
  console.log(`setup (call → ESTABLISHED and DTLS up): p50 ${percentile(setups, 50).toFixed(0)} ms, p99 ${percentile(setups, 99).toFixed(0)} ms`);
  console.log(`callhook CPU while setting up: ${(((s1.cpuUs - s0.cpuUs) / (seconds * 1e6)) * 100).toFixed(0)} % of one core`);
  const hangup = performance.now();
  await bench.hangUpAll();
  console.log(`hang-up of all ${setups.length}: ${((performance.now() - hangup) / 1000).toFixed(2)} s`);
} finally {
  await bench.stop();
}
