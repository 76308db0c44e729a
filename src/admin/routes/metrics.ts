/**
 * `GET /metrics`: the hook engine's prom-client registry in the Prometheus text format. It needs the admin token
 * like the `/api/` resources: admin.md exempts only `/healthz` and EchoApp, and hook metrics name apps and
 * methods. Prometheus sends it with `authorization: { credentials_file: <dataDir>/admin-token }`.
 */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';

export function metricsRoutes(deps: AdminDeps): Route[] {
  return [
    route({
      method: 'GET',
      path: '/metrics',
      auth: true,
      handler: async () => ({ text: await deps.hooks.metrics.metrics(), contentType: deps.hooks.metrics.contentType }),
    }),
  ];
}
