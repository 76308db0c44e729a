/**
 * `GET /metrics` in the Prometheus text format: the registry the server hands the admin (hooks, calls, media ports,
 * event loop), and the live sessions, calls and registrations by status (read from the gateway when scraped). It needs the admin token like the `/api/` resources: docs/admin.md
 * exempts only `/healthz` and EchoApp, and hook metrics name apps and methods. Prometheus sends it with
 * `authorization: { credentials_file: <dataDir>/admin-token }`.
 */
import { Gauge, Registry } from 'prom-client';
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import type { SessionsProvider } from '../../gateway/info.ts';
import { NO_SESSIONS } from '../sessions.ts';

export function metricsRoutes(deps: AdminDeps): Route[] {
  const registry = Registry.merge([deps.hooks.metrics, liveRegistry(deps.sessions ?? NO_SESSIONS)]);
  return [
    route({
      method: 'GET',
      path: '/metrics',
      auth: true,
      handler: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
    }),
  ];
}

/** SessionInfo.registration's values: each is served, 0 when no session has it, so ratios over them always exist. */
const REGISTRATION_STATUSES = ['REGISTERED', 'UNREGISTERED', 'FAILED'] as const;

/**
 * Gauges of what is up now: client sessions, calls by status (TRYING, RING, ESTABLISHED, HOLD, …), and the sessions'
 * SIP registrations by status (sessions that do not register are not counted).
 */
function liveRegistry(sessions: SessionsProvider): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'callhook_sessions',
    help: 'Client sessions (WebSocket connections past the connect hook)',
    registers: [registry],
    collect() {
      this.set(sessions.sessions().length);
    },
  });
  new Gauge({
    name: 'callhook_calls',
    help: 'Live calls by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const byStatus = new Map<string, number>();
      for (const c of sessions.calls()) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
      for (const [status, n] of byStatus) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'callhook_registrations',
    help: 'SIP registrations of the live sessions by status (REGISTERED, UNREGISTERED, FAILED)',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const byStatus = new Map<string, number>(REGISTRATION_STATUSES.map((s) => [s, 0]));
      for (const s of sessions.sessions()) if (s.registration !== undefined) byStatus.set(s.registration, (byStatus.get(s.registration) ?? 0) + 1);
      for (const [status, n] of byStatus) this.set({ status }, n);
    },
  });
  return registry;
}
