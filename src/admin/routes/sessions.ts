/**
 * `GET /api/sessions`, `GET /api/calls`: live state, read from the gateway's SessionsProvider. `DELETE` on one
 * session or call ends it (the console's Terminate): the client is told as for any end, with the info
 * `Terminated by the administrator`. In a cluster the lists are the whole cluster's, and a DELETE of an item another
 * node holds is forwarded to it (../cluster.ts).
 */
import type { AdminDeps } from '../deps.ts';
import { clusterList, forwardToHolder } from '../cluster.ts';
import { AdminError } from '../errors.ts';
import { route, type Route } from '../router.ts';
import { callParams, sessionParams } from '../schemas.ts';
import { NO_SESSIONS } from '../sessions.ts';

export function sessionRoutes(deps: AdminDeps): Route[] {
  const provider = deps.sessions ?? NO_SESSIONS;
  return [
    route({ method: 'GET', path: '/api/sessions', auth: true, handler: async () => ({ json: await clusterList(deps.cluster, 'session', provider.sessions()) }) }),
    route({ method: 'GET', path: '/api/calls', auth: true, handler: async () => ({ json: await clusterList(deps.cluster, 'call', provider.calls()) }) }),
    route({
      method: 'DELETE',
      path: '/api/sessions/{sessionId}',
      auth: true,
      params: sessionParams,
      handler: async ({ params, raw }) => {
        if (deps.control?.terminateSession(params.sessionId) === true) return { json: { terminated: params.sessionId } };
        const forwarded = await forwardToHolder(deps.cluster, 'session', params.sessionId, raw);
        if (forwarded === undefined) throw new AdminError('ADMIN_NOT_FOUND', `no live session ${params.sessionId}`);
        return forwarded;
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/calls/{callId}',
      auth: true,
      params: callParams,
      handler: async ({ params, raw }) => {
        if (deps.control?.terminateCall(params.callId) === true) return { json: { terminated: params.callId } };
        const forwarded = await forwardToHolder(deps.cluster, 'call', params.callId, raw);
        if (forwarded === undefined) throw new AdminError('ADMIN_NOT_FOUND', `no live call ${params.callId}`);
        return forwarded;
      },
    }),
  ];
}
