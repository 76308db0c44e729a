/**
 * Prometheus metrics of the media port ranges, read from the allocators when scraped: pairs used and free per range
 * (`rtp`: rtpPortMin..Max, the SIP side; `webrtc`: webrtcPortMin..Max, the browser side), and how often a call was
 * refused a pair because the range was exhausted. Each call holds one pair of each range until it ends; with one
 * UDP port for all browser legs (config `webrtcPort`) there is no `webrtc` range: the legs hold no pair.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { PortPairAllocator } from './ports.ts';

export function portMetrics(ranges: { rtp: PortPairAllocator; webrtc?: PortPairAllocator }): Registry {
  const registry = new Registry();
  const entries = Object.entries(ranges);
  new Gauge({
    name: 'callhook_media_port_pairs',
    help: 'Port pairs of the media port ranges by range (rtp, webrtc) and state (used, free)',
    labelNames: ['range', 'state'] as const,
    registers: [registry],
    collect() {
      for (const [range, ports] of entries) {
        this.set({ range, state: 'used' }, ports.inUse);
        this.set({ range, state: 'free' }, ports.capacity - ports.inUse);
      }
    },
  });
  new Counter({
    name: 'callhook_media_port_exhaustions_total',
    help: 'Port pairs refused to a call because every pair of the range was in use or could not be bound, by range',
    labelNames: ['range'] as const,
    registers: [registry],
    collect() {
      // The allocators count; the counter shows their totals.
      this.reset();
      for (const [range, ports] of entries) this.inc({ range }, ports.exhaustions);
    },
  });
  return registry;
}
