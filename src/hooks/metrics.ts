/**
 * Prometheus metrics of the hook engine, on a registry of its own (one per engine, so several engines in one
 * process — tests — never collide in prom-client's global registry). The admin server serves
 * `await engine.metrics.metrics()` at /metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventOutbox } from './storage.ts';

export type HookOutcomeLabel = 'ok' | 'http_error' | 'network_error' | 'timeout' | 'bad_response';

export interface HookMetrics {
  registry: Registry;
  /** Every hook attempt (decision hooks and event deliveries). */
  requests: Counter<'app' | 'method' | 'outcome'>;
  /** Seconds from sending to the end of the answer (or the failure). */
  latency: Histogram<'app' | 'method'>;
}

export function createHookMetrics(outbox: EventOutbox): HookMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'callhook_hook_requests_total',
    help: 'REST hook attempts by app, method and outcome (ok, http_error, network_error, timeout, bad_response)',
    labelNames: ['app', 'method', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'callhook_hook_request_duration_seconds',
    help: 'REST hook attempt latency',
    labelNames: ['app', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  new Gauge({
    name: 'callhook_outbox_events',
    help: 'Events in the outbox by state (pending: not yet delivered; dead: past restEventMaxAgeMs, replayable)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const d = await outbox.depth();
      this.set({ state: 'pending' }, d.pending);
      this.set({ state: 'dead' }, d.dead);
    },
  });
  return { registry, requests, latency };
}
