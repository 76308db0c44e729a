/**
 * callhook's REST API (docs/rest-api.md) from a backend: POST JSON to `/rest-api/<route>` on the admin port with
 * the admin token. Shared by examples/click-to-call and examples/ivr.
 */
import http from 'node:http';

export interface RestApiClient {
  /** Resolves with the JSON answer; rejects with callhook's `error` text on a 4xx or 5xx. */
  post(route: string, body?: Record<string, unknown>): Promise<any>;
}

/** `adminUrl`: e.g. `http://127.0.0.1:8081`; `token`: the admin token (`<dataDir>/admin-token`). */
export function restApiClient(adminUrl: string, token: string): RestApiClient {
  return {
    async post(route, body) {
      const response = await fetch(`${adminUrl}/rest-api/${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      const answer = (await response.json()) as { error?: string };
      if (!response.ok) throw new Error(`${route}: ${response.status} ${answer.error ?? ''}`);
      return answer;
    },
  };
}

/** The settings both examples read from the environment: where callhook's admin API is, and the SIP account calls use. */
export function envSettings(): { adminUrl: string; token: string; sip: Record<string, unknown> } {
  const need = (name: string): string => {
    const v = process.env[name];
    if (v === undefined || v === '') throw new Error(`set ${name}`);
    return v;
  };
  return {
    adminUrl: process.env['CALLHOOK_ADMIN_URL'] ?? 'http://127.0.0.1:8081',
    token: need('CALLHOOK_ADMIN_TOKEN'),
    sip: {
      sipLogin: need('SIP_LOGIN'),
      sipDomain: need('SIP_DOMAIN'),
      ...(process.env['SIP_PASSWORD'] && { sipPassword: process.env['SIP_PASSWORD'] }),
      ...(process.env['SIP_OUTBOUND_PROXY'] && { sipOutboundProxy: process.env['SIP_OUTBOUND_PROXY'] }),
      ...(process.env['SIP_PORT'] && { sipPort: Number(process.env['SIP_PORT']) }),
    },
  };
}

/**
 * A JSON web server on 127.0.0.1:`port`: `route` answers each request with a status and a JSON value (or HTML); what
 * it throws is a 500 naming the error.
 */
export function serveJson(
  port: number,
  route: (method: string, path: string, req: http.IncomingMessage) => Promise<{ status: number; json?: unknown; html?: string }>,
  ready: () => void,
): http.Server {
  return http.createServer((req, res) => {
    void (async () => {
      let reply: { status: number; json?: unknown; html?: string };
      try {
        reply = await route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, req);
      } catch (err) {
        reply = { status: 500, json: { error: (err as Error).message } };
      }
      if (reply.html !== undefined) res.writeHead(reply.status, { 'content-type': 'text/html; charset=utf-8' }).end(reply.html);
      else res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json ?? {}));
    })();
  }).listen(port, '127.0.0.1', ready);
}

/** Reads a request's JSON body (at most 64 KiB). */
export async function readJson(req: AsyncIterable<Buffer>): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk.toString('utf8');
    if (text.length > 65_536) throw new Error('body too large');
  }
  const value: unknown = text === '' ? {} : JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('body is not a JSON object');
  return value as Record<string, unknown>;
}
