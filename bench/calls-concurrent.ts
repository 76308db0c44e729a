/**
 * Concurrent bridged calls benchmark (issue 5): werift browsers ↔ callhook ↔ sipp `-rtp_echo`, G.711 passed through
 * (bench/calls-load.ts). Calls are added in steps; at each step, after the relay settles, a measuring window gives
 * callhook's CPU (% of one core, from its own process), its memory per call (JS heap and RSS over the idle
 * baseline), the packet loss of the round trip (every packet echoed by sipp must come back) and the round-trip time
 * through the relay (p50/p99: browser → callhook → sipp → callhook → browser, so callhook is crossed twice each
 * way). Lost packets are attributed with the kernel's receive-buffer drop counters (/proc/net/udp): callhook's own
 * sockets, sipp's echo socket, or the rest. It stops after the first step above 80 % of a core, or where callhook's
 * sockets dropped packets, or where loss is not explained by the peers' drops.
 *
 *   node --import tsx bench/calls-concurrent.ts [--srtp] [maxCalls=300] [step=50] [windowSeconds=10]
 *
 * `--srtp`: the SIP side is SRTP (sipSrtp `required`, SDES; bench/calls-load.ts), to compare its CPU per call with
 * plain RTP's.
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallBench, udpDrops } from './calls-load.ts';
import { machine, percentile } from './hooks-common.ts';

const args = process.argv.slice(2);
const srtp = args.includes('--srtp');
const numbers = args.filter((a) => a !== '--srtp');
const maxCalls = Number(numbers[0] ?? 300);
const step = Number(numbers[1] ?? 50);
const windowSeconds = Number(numbers[2] ?? 10);
/** Calls being set up at once while ramping. */
const SETUP_CONCURRENCY = 10;
const SETTLE_MS = 3000;
/** How long the echoes of a window's last packets may take (any later one counts as lost). */
const DRAIN_MS = 1000;
const CPU_LIMIT = 80;

console.log(`machine: ${machine()}, node ${process.version}, SIP side ${srtp ? 'SRTP (SDES)' : 'plain RTP'}`);
const bench = await CallBench.start({ srtp });
const MiB = 1024 * 1024;

try {
  const idle = await bench.stats();
  console.log(`callhook idle: heap ${(idle.heapUsed / MiB).toFixed(1)} MiB, RSS ${(idle.rss / MiB).toFixed(1)} MiB`);
  console.log('calls | callhook CPU | client CPU |     loss | RTT p50 | RTT p99 | heap/call | RSS/call | setup p50 | setup CPU/call');
  for (let target = step; target <= maxCalls; target += step) {
    const ramp0 = await bench.stats();
    const added = target - bench.calls.length;
    while (bench.calls.length < target) {
      const n = Math.min(SETUP_CONCURRENCY, target - bench.calls.length);
      await Promise.all(Array.from({ length: n }, () => bench.place()));
      bench.startAudio();
    }
    // callhook's CPU while this step's calls were set up, per call: where the per-session timeline does its work
    // (the relay of the calls already up runs meanwhile, the same with the recorder on or off).
    const ramp1 = await bench.stats();
    const setupCpuMs = (ramp1.cpuUs - ramp0.cpuUs) / 1000 / added;
    await sleep(SETTLE_MS);
    const s0 = await bench.stats();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const drops0 = udpDrops();
    bench.openWindow();
    await sleep(windowSeconds * 1000);
    const s1 = await bench.stats();
    const client1 = process.cpuUsage(client0);
    const seconds = (performance.now() - t0) / 1000;
    const w = await bench.closeWindow(DRAIN_MS);
    const drops1 = udpDrops();
    const cpu = ((s1.cpuUs - s0.cpuUs) / (seconds * 1e6)) * 100;
    const clientCpu = ((client1.user + client1.system) / (seconds * 1e6)) * 100;
    const loss = 1 - w.echoed / w.sent;
    const rtts = w.roundTrips;
    const setups = bench.calls.map((c) => c.setupMs);
    const row = [
      String(bench.calls.length).padStart(5),
      `${cpu.toFixed(0)} %`.padStart(12),
      `${clientCpu.toFixed(0)} %`.padStart(10),
      `${(loss * 100).toFixed(3)} %`.padStart(8),
      `${percentile(rtts, 50).toFixed(1)} ms`.padStart(7),
      `${percentile(rtts, 99).toFixed(1)} ms`.padStart(7),
      `${((s1.heapUsed - idle.heapUsed) / bench.calls.length / 1024).toFixed(0)} KiB`.padStart(9),
      `${((s1.rss - idle.rss) / bench.calls.length / 1024).toFixed(0)} KiB`.padStart(8),
      `${percentile(setups, 50).toFixed(0)} ms`.padStart(9),
      `${setupCpuMs.toFixed(1)} ms`.padStart(14),
    ];
    console.log(row.join(' | '));
    const d = (k: keyof typeof drops0) => drops1[k] - drops0[k];
    const lost = w.sent - w.echoed;
    if (lost > 0) {
      console.log(`      lost ${lost} of ${w.sent}; receive-buffer drops: sipp ${d('sipp')}, callhook RTP ${d('rtp')}, callhook WebRTC ${d('webrtc')}, other sockets ${d('other')}`);
    }
    const callhookLoss = d('rtp') + d('webrtc') > 0 || lost > d('sipp') + d('other');
    if (cpu > CPU_LIMIT || callhookLoss) break;
  }
  // The whole run, set-up to hang-up, per call: what BENCH_TIMELINE=on|off compares (bench/timeline-ab.ts).
  const calls = bench.calls.length;
  await bench.hangUpAll();
  const end = await bench.stats();
  console.log(`total: callhook CPU ${((end.cpuUs - idle.cpuUs) / 1000 / calls).toFixed(1)} ms per call over ${calls} calls, load average ${loadavg()[0]!.toFixed(2)}`);
} finally {
  await bench.hangUpAll().catch((err: unknown) => console.error('hang-up failed', err));
  await bench.stop();
}
