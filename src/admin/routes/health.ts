/**
 * `GET /healthz`: liveness for load balancers and the CLI, no token (docs/admin.md). While the server drains or
 * stops it answers 503 `{"status": "draining"}`, so a balancer's health check sends new clients to other nodes
 * (docs/scaling.md "Rolling restart").
 */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import { VERSION } from '../../version.ts';

export function healthRoutes(deps: Pick<AdminDeps, 'draining'>): Route[] {
  const started = Date.now();
  return [
    route({
      method: 'GET',
      path: '/healthz',
      auth: false,
      handler: () => {
        const draining = deps.draining?.() === true;
        return {
          ...(draining && { status: 503 }),
          json: { status: draining ? 'draining' : 'ok', version: VERSION, uptimeSec: Math.round((Date.now() - started) / 1000) },
        };
      },
    }),
  ];
}
