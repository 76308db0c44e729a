/** `GET /api/hooks?failed&app&method&since&limit`: the hook log, newest first (docs/admin.md "Hook log"). */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import { hooksQuery, parseSince } from '../schemas.ts';
import type { HookLogEntry } from '../../store/types.ts';

/** The API shows times as ISO 8601; the store keeps ms since the epoch. */
export function hookLogView(e: HookLogEntry) {
  return { ...e, time: new Date(e.time).toISOString() };
}

export function hookLogRoutes(deps: AdminDeps): Route[] {
  return [
    route({
      method: 'GET',
      path: '/api/hooks',
      auth: true,
      query: hooksQuery,
      handler: async ({ query }) => ({
        json: (
          await deps.store.hookLog.query({
            failed: query.failed,
            appKey: query.app,
            method: query.method,
            since: query.since === undefined ? undefined : parseSince(query.since),
            limit: query.limit,
          })
        ).map(hookLogView),
      }),
    }),
  ];
}
