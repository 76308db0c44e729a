/**
 * The per-session timelines (docs/console.md "Timeline"): `GET /api/timelines` lists the live sessions' and the
 * recently ended ones', newest first; `GET /api/timelines/{sessionId}` is one, step by step, with its raw messages.
 */
import type { AdminDeps } from '../deps.ts';
import { AdminError } from '../errors.ts';
import { route, type Route } from '../router.ts';
import { sessionParams } from '../schemas.ts';

export function timelineRoutes(deps: AdminDeps): Route[] {
  return [
    route({ method: 'GET', path: '/api/timelines', auth: true, handler: () => ({ json: deps.timeline?.list() ?? [] }) }),
    route({
      method: 'GET',
      path: '/api/timelines/{sessionId}',
      auth: true,
      params: sessionParams,
      handler: ({ params }) => {
        const view = deps.timeline?.view(params.sessionId);
        if (view === undefined) {
          throw new AdminError(
            'ADMIN_NOT_FOUND',
            `no timeline for session ${params.sessionId}: it is not live and not among the recently ended ones kept (timelineKeepEnded)`,
          );
        }
        return { json: view };
      },
    }),
  ];
}
