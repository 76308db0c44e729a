/** `GET /api/sessions`, `GET /api/calls`: live state, read from the gateway's SessionsProvider. */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import { NO_SESSIONS } from '../sessions.ts';

export function sessionRoutes(deps: AdminDeps): Route[] {
  const provider = deps.sessions ?? NO_SESSIONS;
  return [
    route({ method: 'GET', path: '/api/sessions', auth: true, handler: () => ({ json: provider.sessions() }) }),
    route({ method: 'GET', path: '/api/calls', auth: true, handler: () => ({ json: provider.calls() }) }),
  ];
}
