/**
 * `GET /api/stream`: the console's live updates as Server-Sent Events (WHATWG HTML §9.2): an `overview` event at
 * once and every OVERVIEW_EVERY_MS, and with `?session=<sessionId>` a `step` event for each new step of that
 * session's timeline. The console reads it with fetch (so the token stays a header, as EventSource cannot send
 * one). At most `adminMaxEventStreams` are open at once; each ends with the server.
 */
import type { ServerResponse } from 'node:http';
import type { AdminDeps } from '../deps.ts';
import { AdminError } from '../errors.ts';
import { readOverview } from '../overview.ts';
import { route, type Route } from '../router.ts';
import { streamQuery } from '../schemas.ts';

export const OVERVIEW_EVERY_MS = 2_000;
const DEFAULT_MAX_STREAMS = 20;
/** What the browser waits before reconnecting a stream that dropped (the `retry` field). */
const RETRY_MS = 3_000;

export interface EventStreams {
  routes: Route[];
  /** Ends every open stream (the server is stopping: an open stream would hold its close). */
  closeAll(): void;
}

export function streamRoutes(deps: AdminDeps): EventStreams {
  const open = new Set<ServerResponse>();
  const max = deps.config.adminMaxEventStreams ?? DEFAULT_MAX_STREAMS;

  function serve(res: ServerResponse, session: string | undefined): void {
    open.add(res);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write(`retry: ${RETRY_MS}\n\n`);
    const send = (event: string, data: unknown): void => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let due = Date.now();
    const tick = (): void => {
      const now = Date.now();
      const lag = Math.max(0, now - due);
      due = now + OVERVIEW_EVERY_MS;
      readOverview(deps, now, lag).then(
        (o) => send('overview', o),
        (err: unknown) => deps.log.error({ err }, 'reading the overview for a stream failed'),
      );
    };
    tick();
    const timer = setInterval(tick, OVERVIEW_EVERY_MS);
    const unsubscribe =
      session === undefined || deps.timeline === undefined
        ? () => undefined
        : deps.timeline.subscribe((sessionId, step) => {
            if (sessionId === session) send('step', { sessionId, step });
          });
    res.once('close', () => {
      clearInterval(timer);
      unsubscribe();
      open.delete(res);
    });
  }

  const routes = [
    route({
      method: 'GET',
      path: '/api/stream',
      auth: true,
      query: streamQuery,
      handler: ({ query }) => {
        if (open.size >= max) throw new AdminError('ADMIN_UNAVAILABLE', `${open.size} live-update streams are open already, the most adminMaxEventStreams allows`);
        return { stream: (res: ServerResponse) => serve(res, query.session) };
      },
    }),
  ];
  return {
    routes,
    closeAll: () => {
      for (const res of open) res.end();
    },
  };
}
