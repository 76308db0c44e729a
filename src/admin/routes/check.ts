/**
 * `POST /api/apps/{key}/check`: the diagnosis of ../check-app.ts for one app, with probe requests built by the
 * hook engine's own request builder, so auth and signatures are exactly those of real hooks.
 */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import { keyParams } from '../schemas.ts';
import { checkApp } from '../check-app.ts';
import { appByKey } from './apps.ts';
import { buildHookRequest } from '../../hooks/request.ts';
import { randomHex } from '../../random-hex.ts';

export function checkRoutes(deps: AdminDeps): Route[] {
  return [
    route({
      method: 'POST',
      path: '/api/apps/{key}/check',
      auth: true,
      params: keyParams,
      handler: async ({ params }) => {
        const app = appByKey(deps, params.key);
        // The context fields every hook body carries (docs/hooks.md "The request"), shaped like real ones so a
        // backend that parses them does not trip; `callhookProbe` lets it recognise the probe.
        const body = {
          callhookProbe: true,
          nodeId: `check-${randomHex(4)}@${deps.config.localIp}`,
          appKey: app.appKey,
          sessionId: `/127.0.0.1:0/${deps.config.localIp}:0`,
        };
        const report = await checkApp({
          appKey: app.appKey,
          url: app.url,
          methods: app.methods,
          requestTimeoutMs: deps.config.restRequestTimeoutMs,
          buildProbe: (method) => buildHookRequest(app, method, body, { userAgent: deps.config.userAgent }),
        });
        return { json: report };
      },
    }),
  ];
}
