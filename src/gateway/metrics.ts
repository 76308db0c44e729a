/**
 * Prometheus metrics of the call lifecycle (docs/admin.md "Metrics"), on a registry of their own like the hook
 * engine's (src/hooks/metrics.ts), which src/server.ts merges into what `/metrics` serves. A call tells its
 * CallMetrics when it starts, is answered and ends; the live gauges (sessions, calls, registrations by status) are
 * read from the gateway when scraped (src/admin/routes/metrics.ts).
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { MediaSessionCounters, MediaSessionInfo } from '../media/index.ts';

export type CallDirection = 'incoming' | 'outgoing';

/** What a call reports of itself: the gateway's only view of its metrics. */
export interface CallMetrics {
  started(direction: CallDirection): void;
  /** `setupMs`: from the call's start to its answer. */
  answered(direction: CallDirection, setupMs: number): void;
  /** `status`: the final call status (FINISH, BUSY, FAILED, …); the media as the relay counted it, when it ran. */
  ended(status: string, media: MediaSessionInfo, counters: MediaSessionCounters | undefined): void;
}

export function createCallMetrics(): CallMetrics & { registry: Registry } {
  const registry = new Registry();
  const started = new Counter({
    name: 'callhook_calls_started_total',
    help: 'Calls started, by direction (outgoing: the client asked; incoming: an INVITE for a registered session)',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const ended = new Counter({
    name: 'callhook_calls_ended_total',
    help: 'Calls ended, by final status (FINISH, BUSY, FAILED, …)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const setup = new Histogram({
    name: 'callhook_call_setup_seconds',
    help:
      'Seconds from the start of a call to its answer (ESTABLISHED): outgoing, from the client\'s call request (hooks, ' +
      'INVITE, ringing) to the 200 OK; incoming, from the INVITE to the client\'s answer. Unanswered calls are not counted',
    labelNames: ['direction'] as const,
    // A person answers: seconds to a minute, beyond the sub-second of an automatic answer.
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120],
    registers: [registry],
  });
  const packets = new Counter({
    name: 'callhook_media_packets_total',
    help: 'RTP packets relayed by ended calls, by direction (to_sip, to_browser)',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'callhook_media_packets_dropped_total',
    help: 'RTP packets ended calls did not pass on (hold, a payload type the other side lacks, an injected digit), by direction',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const lost = new Counter({
    name: 'callhook_media_packets_lost_total',
    help: 'RTP packets from the SIP side that ended calls never received (sequence gaps, RFC 3550 A.3)',
    registers: [registry],
  });
  // Zero series from the start, so rate() and ratios over them exist before the first call.
  for (const direction of ['incoming', 'outgoing'] as const) started.inc({ direction }, 0);
  for (const direction of ['to_sip', 'to_browser'] as const) {
    packets.inc({ direction }, 0);
    dropped.inc({ direction }, 0);
  }
  return {
    registry,
    started: (direction) => started.inc({ direction }),
    answered: (direction, setupMs) => setup.observe({ direction }, Math.max(0, setupMs) / 1000),
    ended(status, media, counters) {
      ended.inc({ status });
      packets.inc({ direction: 'to_sip' }, media.packetsToSip ?? 0);
      packets.inc({ direction: 'to_browser' }, media.packetsToBrowser ?? 0);
      if (counters === undefined) return;
      dropped.inc({ direction: 'to_sip' }, counters.droppedToSip);
      dropped.inc({ direction: 'to_browser' }, counters.droppedToBrowser);
      lost.inc(counters.lostFromSip);
    },
  };
}
