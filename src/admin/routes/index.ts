/**
 * `GET /`: for a browser (`Accept: text/html`), the admin console (./console.ts); for every other client, what it
 * needs to go on — every route with its summary and whether it needs the token, where the OpenAPI document is and
 * where the token comes from (docs/admin.md). Read from the OpenAPI document, so the two cannot disagree. No
 * token: it holds no secret.
 */
import { route, type Route } from '../router.ts';
import { openApiDocument } from '../openapi.ts';
import { VERSION } from '../../version.ts';
import { consolePage, wantsHtml } from './console.ts';

interface Operation {
  summary: string;
  security?: unknown;
}

export interface RouteIndexEntry {
  method: string;
  path: string;
  summary: string;
  token: boolean;
}

function routeIndex(): RouteIndexEntry[] {
  const entries: RouteIndexEntry[] = [];
  for (const [path, item] of Object.entries(openApiDocument.paths as Record<string, Record<string, unknown>>)) {
    for (const [key, op] of Object.entries(item)) {
      if (key === 'parameters') continue;
      const { summary, security } = op as Operation;
      entries.push({ method: key.toUpperCase(), path, summary, token: security !== undefined });
    }
  }
  return entries;
}

export function indexRoutes(): Route[] {
  const index = {
    name: 'callhook admin API',
    version: VERSION,
    openapi: '/api/openapi.json',
    token: 'routes marked token: true need Authorization: Bearer <token>; the token is CALLHOOK_ADMIN_TOKEN, else the file <dataDir>/admin-token',
    docs: 'docs/admin.md in the callhook repository',
    routes: routeIndex(),
  };
  return [route({ method: 'GET', path: '/', auth: false, handler: ({ raw }) => (wantsHtml(raw) ? consolePage() : { json: index }) })];
}
