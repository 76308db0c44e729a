/**
 * The admin server as a request handler, built apart from listening (fastify's `build()` / `listen()` split) so
 * tests drive it on any server. One pass per request: route → token → validated params, query and body → handler
 * → JSON. Every expected failure becomes `{"error": "<what was wrong>"}` with its 4xx status; anything else, writing
 * the reply included, is logged once with its stack and answered 500 without details. No input can crash the
 * process.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminDeps } from './deps.ts';
import { AdminError, MethodNotAllowedError } from './errors.ts';
import { DEFAULT_BODY_LIMIT, readJsonBody, sendJson, sendText } from './http.ts';
import { route, Router, validate, type Reply, type Route } from './router.ts';
import { bearerMatches } from './token.ts';
import { appRoutes } from './routes/apps.ts';
import { checkRoutes } from './routes/check.ts';
import { echoRoutes } from './routes/echo.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { hookLogRoutes } from './routes/hooks.ts';
import { cdrRoutes } from './routes/cdr.ts';
import { indexRoutes } from './routes/index.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { consoleRoutes } from './routes/console.ts';
import { streamRoutes } from './routes/stream.ts';
import { timelineRoutes } from './routes/timelines.ts';
import { readOverview } from './overview.ts';
import { recordingRoutes, restApiRoutes } from './routes/rest-api.ts';
import { StoreError } from '../store/errors.ts';
import { HookError } from '../hooks/errors.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface AdminApp {
  handle: RequestHandler;
  /** Every route, for the OpenAPI truth test. */
  routes: readonly Route[];
  /** Ends what would hold the server open: the live-update streams. */
  close(): void;
}

export function buildAdminApp(deps: AdminDeps): AdminApp {
  const streams = streamRoutes(deps);
  const router = new Router().add(
    ...consoleRoutes(),
    ...streams.routes,
    ...timelineRoutes(deps),
    route({ method: 'GET', path: '/api/overview', auth: true, handler: async () => ({ json: await readOverview(deps) }) }),
    ...indexRoutes(),
    ...echoRoutes(),
    ...healthRoutes(deps),
    ...metricsRoutes(deps),
    ...openApiRoutes(),
    ...appRoutes(deps),
    ...checkRoutes(deps),
    ...sessionRoutes(deps),
    ...hookLogRoutes(deps),
    ...cdrRoutes(deps),
    ...eventRoutes(deps),
    ...restApiRoutes(deps),
    ...recordingRoutes(deps),
  );
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;

  async function dispatch(req: IncomingMessage): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      throw new AdminError('ADMIN_BAD_REQUEST', `request target ${JSON.stringify(req.url)} is not a valid path`);
    }
    const { route: r, params } = router.find(req.method ?? 'GET', url.pathname);
    if (r.auth && !bearerMatches(req.headers.authorization, deps.token)) {
      throw new AdminError(
        'ADMIN_UNAUTHORIZED',
        req.headers.authorization === undefined
          ? 'missing Authorization: Bearer <token> (the admin token is CALLHOOK_ADMIN_TOKEN or <dataDir>/admin-token)'
          : 'wrong admin token',
      );
    }
    const query = queryObject(url.searchParams);
    const validParams = r.params === undefined ? undefined : validate(r.params, params, 'path');
    let validQuery: unknown;
    if (r.query !== undefined) validQuery = validate(r.query, query, 'query');
    else if (Object.keys(query).length > 0) {
      throw new AdminError('ADMIN_BAD_REQUEST', `unknown query parameter ${Object.keys(query).map((k) => JSON.stringify(k)).join(', ')}`);
    }
    const body = r.body === undefined ? undefined : validate(r.body, await readJsonBody(req, bodyLimit), 'body');
    return r.handler({ params: validParams, query: validQuery, body, raw: req });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // Writing the reply is inside: serialising a handler's answer can fail too (a value too deep for
      // JSON.stringify), and that is the handler's failure, answered 500 like any other.
      const reply = await dispatch(req);
      if ('stream' in reply) reply.stream(res);
      else if ('json' in reply) sendJson(res, reply.status ?? 200, reply.json);
      else sendText(res, reply.status ?? 200, reply.text, reply.contentType, reply.headers);
    } catch (e) {
      sendError(res, e, deps, req);
    }
  }

  return { handle, routes: router.routes, close: streams.closeAll };
}

/** Query parameters as an object; a repeated parameter is refused rather than silently picking one. */
function queryObject(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) {
    if (k in out) throw new AdminError('ADMIN_BAD_REQUEST', `query parameter ${JSON.stringify(k)} given more than once`);
    out[k] = v;
  }
  return out;
}

/** Expected failures of the store and the engine, on the admin API's statuses. */
function toAdminError(e: unknown): AdminError | undefined {
  if (e instanceof AdminError) return e;
  if (e instanceof StoreError) {
    switch (e.code) {
      case 'APP_NOT_FOUND':
        return new AdminError('ADMIN_NOT_FOUND', e.message);
      case 'APP_EXISTS':
        return new AdminError('ADMIN_CONFLICT', e.message);
      case 'INVALID_APP':
      case 'UNKNOWN_METHOD':
        return new AdminError('ADMIN_BAD_REQUEST', e.message);
    }
  }
  if (e instanceof HookError) return new AdminError('ADMIN_BAD_REQUEST', e.message);
  return undefined;
}

function sendError(res: ServerResponse, e: unknown, deps: AdminDeps, req: IncomingMessage): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const known = toAdminError(e);
  if (known === undefined) {
    deps.log.error({ err: e, method: req.method, url: req.url }, 'admin request failed');
    sendJson(res, 500, { error: 'internal error in the admin server (see its log)' });
    return;
  }
  const headers: Record<string, string> = {};
  if (known.code === 'ADMIN_UNAUTHORIZED') headers['WWW-Authenticate'] = 'Bearer realm="callhook"';
  if (known instanceof MethodNotAllowedError) headers['Allow'] = known.allow.join(', ');
  if (known.code === 'ADMIN_UNAVAILABLE') headers['Retry-After'] = '5';
  // After a refused oversized body the rest of it may still be arriving: do not keep this connection.
  if (known.code === 'ADMIN_PAYLOAD_TOO_LARGE') headers['Connection'] = 'close';
  sendJson(res, known.status, { error: known.message }, headers);
}
