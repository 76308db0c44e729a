/**
 * What the console's Overview shows (docs/console.md "Overview"), in one read: the server, its live sessions,
 * registrations and calls by status, hook calls per method over the last minutes with their failures, the outbox,
 * the media port ranges, and the warnings an operator should act on. Read from what exists already (the sessions
 * view, the hook log, the outbox, the /metrics registry): nothing is counted twice.
 */
import type { AdminDeps } from './deps.ts';
import { NO_SESSIONS } from './sessions.ts';
import { VERSION } from '../version.ts';
import type { HookMethodCount, Overview } from './overview-view.ts';

/** The hook log window the Overview counts. */
export const HOOK_WINDOW_MS = 15 * 60_000;
/** How much of the hook log one Overview reads at most (the newest rows). */
const HOOK_ROWS = 2_000;
/** A port range this full is worth a warning: a few more calls and new ones fail. */
const PORTS_NEARLY_EXHAUSTED = 0.9;
/** An event loop this late (ms) delays RTP and SIP retransmissions alike. */
const LAG_WARNING_MS = 100;

const STARTED = Date.now();

function countBy<T>(items: readonly T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

async function mediaPorts(deps: AdminDeps): Promise<Overview['mediaPorts']> {
  const metric = deps.hooks.metrics.getSingleMetric('callhook_media_port_pairs');
  if (metric === undefined) return [];
  const byRange = new Map<string, { range: string; used: number; free: number }>();
  for (const v of (await metric.get()).values) {
    const range = String(v.labels['range']);
    const entry = byRange.get(range) ?? { range, used: 0, free: 0 };
    if (v.labels['state'] === 'used') entry.used = v.value;
    else entry.free = v.value;
    byRange.set(range, entry);
  }
  return [...byRange.values()];
}

export async function readOverview(deps: AdminDeps, now = Date.now(), eventLoopLagMs?: number): Promise<Overview> {
  const provider = deps.sessions ?? NO_SESSIONS;
  const sessions = provider.sessions();
  const calls = provider.calls();
  const since = now - HOOK_WINDOW_MS;
  const recent = (await deps.store.hookLog.query({ limit: HOOK_ROWS })).filter((e) => e.time >= since);
  const methods = new Map<string, HookMethodCount>();
  for (const e of recent) {
    const m = methods.get(e.method) ?? { method: e.method, total: 0, failed: 0 };
    m.total++;
    if (e.error !== null) {
      m.failed++;
      // Newest first: the first failure seen is the latest.
      m.lastError ??= e.error;
    }
    methods.set(e.method, m);
  }
  const warnings: string[] = [];
  const ports = await mediaPorts(deps);
  for (const p of ports) {
    const capacity = p.used + p.free;
    if (capacity > 0 && p.used / capacity >= PORTS_NEARLY_EXHAUSTED) {
      warnings.push(`${p.range} port range nearly exhausted: ${p.used} of ${capacity} pairs in use`);
    }
  }
  for (const [app, failures] of Object.entries(countBy(recent.filter((e) => e.error !== null), (e) => e.appKey))) {
    const latest = recent.find((e) => e.appKey === app && e.error !== null)!;
    warnings.push(`hook backend of app ${app} failing: ${failures} failed requests in the last ${HOOK_WINDOW_MS / 60_000} minutes, the latest: ${latest.error}`);
  }
  if (eventLoopLagMs !== undefined && eventLoopLagMs >= LAG_WARNING_MS) warnings.push(`event loop lagging: a timer ran ${Math.round(eventLoopLagMs)} ms late`);
  const depth = await deps.store.outbox.depth();
  if (depth.dead > 0) warnings.push(`${depth.dead} dead hook events: see Events, replay them once the backend is back`);
  return {
    version: VERSION,
    uptimeSec: Math.round((now - STARTED) / 1000),
    ports: deps.ports?.() ?? {},
    sessions: sessions.length,
    registrations: countBy(sessions, (s) => s.registration),
    calls: countBy(calls, (c) => c.status),
    hooks: { windowMinutes: HOOK_WINDOW_MS / 60_000, methods: [...methods.values()].sort((a, b) => b.total - a.total) },
    outbox: depth,
    mediaPorts: ports,
    ...(eventLoopLagMs !== undefined && { eventLoopLagMs: Math.round(eventLoopLagMs) }),
    warnings,
  };
}
