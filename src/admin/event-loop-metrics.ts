/**
 * The event loop's lag for /metrics (docs/admin.md "Metrics"): one thread runs signalling, hooks and the media relay,
 * so a loop held up delays RTP (jitter) and SIP retransmissions alike. node:perf_hooks samples the delay; each scrape
 * reads what happened since the previous one and starts a new window, so a spike shows on the next scrape only.
 * Only this, not prom-client's default process metrics: they add some forty series callhook has no use for.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry } from 'prom-client';

/** Sampling period of the delay, in ms (node's default): finer costs timer wake-ups, coarser misses short stalls. */
const RESOLUTION_MS = 10;

export interface EventLoopMetrics {
  registry: Registry;
  /** Stops the sampling (the server's close). */
  stop(): void;
}

export function createEventLoopMetrics(): EventLoopMetrics {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  const registry = new Registry();
  new Gauge({
    name: 'callhook_event_loop_lag_seconds',
    help: `Event loop lag since the previous scrape (stat: p50, p99, max): how late a ${RESOLUTION_MS} ms timer ran`,
    labelNames: ['stat'] as const,
    registers: [registry],
    collect() {
      // Node 20 samples the time between timer runs, the resolution included (~10 ms on an idle loop): the lag is
      // what exceeds it. Before the first sample there is nothing to read: 0 then.
      const seconds = (ns: number): number => (Number.isFinite(ns) && delay.count > 0 ? Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000 : 0);
      this.set({ stat: 'p50' }, seconds(delay.percentile(50)));
      this.set({ stat: 'p99' }, seconds(delay.percentile(99)));
      this.set({ stat: 'max' }, seconds(delay.max));
      delay.reset();
    },
  });
  return { registry, stop: () => delay.disable() };
}
