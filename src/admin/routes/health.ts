/** `GET /healthz`: liveness for load balancers and the CLI, no token (docs/admin.md). */
import { route, type Route } from '../router.ts';
import { VERSION } from '../../version.ts';

export function healthRoutes(): Route[] {
  const started = Date.now();
  return [
    route({
      method: 'GET',
      path: '/healthz',
      auth: false,
      handler: () => ({ json: { status: 'ok', version: VERSION, uptimeSec: Math.round((Date.now() - started) / 1000) } }),
    }),
  ];
}
