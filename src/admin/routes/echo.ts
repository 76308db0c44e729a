/**
 * EchoApp (docs/hooks.md "The built-in backend: EchoApp"): `POST /apps/EchoApp/<method>` answers 200 with the body it got, the
 * mirror WCS's own EchoApp gives, so `defaultApp` works with no web server. No token: it is a hook backend.
 */
import { z } from 'zod';
import { route, type Route } from '../router.ts';
import { echoParams } from '../schemas.ts';

export const ECHO_PATH = '/apps/EchoApp/{method}';

export function echoRoutes(): Route[] {
  return [
    route({
      method: 'POST',
      path: ECHO_PATH,
      auth: false,
      params: echoParams,
      body: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }),
      handler: ({ body }) => ({ json: body }),
    }),
  ];
}
