/** A client of callhook's REST API (docs/rest-api.md) and admin routes, with the server's admin token. */
import type { RunningServer } from '../../src/server.ts';

export interface ApiReply {
  status: number;
  /** The JSON answer; the bytes for any other content type (a recording). */
  json: any;
}

/** `POST /rest-api/…` with a JSON body; `GET /api/…` without one. */
export function restApi(server: Pick<RunningServer, 'adminUrl' | 'adminToken'>): (path: string, body?: unknown) => Promise<ApiReply> {
  return async (path, body) => {
    const response = await fetch(`${server.adminUrl}${path}`, {
      method: body === undefined && path.startsWith('/api/') ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, json: type.startsWith('application/json') ? await response.json() : Buffer.from(await response.arrayBuffer()) };
  };
}
