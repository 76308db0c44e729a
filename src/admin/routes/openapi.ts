/** `GET /api/openapi.json`: the document of ../openapi.ts. */
import { route, type Route } from '../router.ts';
import { openApiDocument } from '../openapi.ts';

export function openApiRoutes(): Route[] {
  return [route({ method: 'GET', path: '/api/openapi.json', auth: true, handler: () => ({ json: openApiDocument }) })];
}
