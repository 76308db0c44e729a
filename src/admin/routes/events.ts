/**
 * The event outbox (docs/hooks.md "Events"): `GET /api/events?dead&app&limit` lists pending events
 * (or dead letters with `dead`), oldest first; `POST /api/events/replay {app?, since?}` turns dead letters back
 * into pending ones through the engine, whose worker delivers them at once.
 */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import { eventsQuery, parseSince, replayBody } from '../schemas.ts';
import type { OutboxEvent } from '../../store/types.ts';

export function outboxEventView(e: OutboxEvent) {
  let body: unknown;
  try {
    body = JSON.parse(e.body);
  } catch {
    body = e.body;
  }
  return {
    eventId: e.eventId,
    appKey: e.appKey,
    sessionId: e.sessionId,
    method: e.method,
    sequence: e.sequence,
    state: e.state,
    attempts: e.attempts,
    lastError: e.lastError,
    createdAt: new Date(e.createdAt).toISOString(),
    nextAttemptAt: new Date(e.nextAttemptAt).toISOString(),
    body,
  };
}

export function eventRoutes(deps: AdminDeps): Route[] {
  return [
    route({
      method: 'GET',
      path: '/api/events',
      auth: true,
      query: eventsQuery,
      handler: async ({ query }) => ({
        json: (await deps.store.outbox.list({ dead: query.dead, appKey: query.app, limit: query.limit })).map(outboxEventView),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/events/replay',
      auth: true,
      // An empty body replays every dead letter.
      body: replayBody.optional(),
      handler: async ({ body }) => {
        const since = body?.since === undefined ? undefined : parseSince(body.since);
        const replayed = await deps.hooks.replayEvents({ appKey: body?.app, since });
        return { json: { replayed } };
      },
    }),
  ];
}
