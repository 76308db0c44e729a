/**
 * `GET /api/sessions`, `GET /api/calls`: live state, read from the gateway's SessionsProvider. `DELETE` on one
 * session or call ends it (the console's Terminate): the client is told as for any end, with the info
 * `Terminated by the administrator`.
 */
import type { AdminDeps } from '../deps.ts';
import { AdminError } from '../errors.ts';
import { route, type Route } from '../router.ts';
import { callParams, sessionParams } from '../schemas.ts';
import { NO_SESSIONS } from '../sessions.ts';

export function sessionRoutes(deps: AdminDeps): Route[] {
  const provider = deps.sessions ?? NO_SESSIONS;
  return [
    route({ method: 'GET', path: '/api/sessions', auth: true, handler: () => ({ json: provider.sessions() }) }),
    route({ method: 'GET', path: '/api/calls', auth: true, handler: () => ({ json: provider.calls() }) }),
    route({
      method: 'DELETE',
      path: '/api/sessions/{sessionId}',
      auth: true,
      params: sessionParams,
      handler: ({ params }) => {
        if (deps.control?.terminateSession(params.sessionId) !== true) {
          throw new AdminError('ADMIN_NOT_FOUND', `no live session ${params.sessionId}`);
        }
        return { json: { terminated: params.sessionId } };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/calls/{callId}',
      auth: true,
      params: callParams,
      handler: ({ params }) => {
        if (deps.control?.terminateCall(params.callId) !== true) throw new AdminError('ADMIN_NOT_FOUND', `no live call ${params.callId}`);
        return { json: { terminated: params.callId } };
      },
    }),
  ];
}
