/**
 * Click-to-call (README.md) as a function, so a test runs it in-process: the page's hooks and the callback route.
 *
 * - The page's button calls `target` from the browser through callhook's SDK, without registration: the `connect`
 *   hook answers the SIP account (the page holds no credentials) and the `call` hook overwrites the callee with
 *   `target` (restPolicy OVERWRITE), so a page cannot call anyone else.
 * - `POST /callback {number}`: the backend starts a call to the visitor from the server (`/rest-api/call/startup`),
 *   which plays `message` and hangs up.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { readJson, serveJson, type RestApiClient } from '../rest-api-client.ts';

export interface ClickToCallOptions {
  api: RestApiClient;
  /** The SIP account calls go out with. */
  sip: Record<string, unknown>;
  appKey: string;
  /** The one number the page calls. */
  target: string;
  /** The WAV file a callback plays. */
  message: string;
  /** callhook's WebSocket URL, for the page. */
  wsUrl: string;
  port: number;
}

/** A number the visitor may ask a callback to: digits with an optional leading +, 3 to 16 of them, or a SIP user. */
const CALLBACK_NUMBER = /^(\+?[0-9]{3,16}|[a-z][a-z0-9]{0,31})$/;

export function startClickToCall(o: ClickToCallOptions): Promise<http.Server> {
  const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8')
    .replaceAll('{{CALLHOOK_WS}}', o.wsUrl)
    .replaceAll('{{CALLHOOK_HTTP}}', o.wsUrl.replace(/^ws/, 'http'))
    .replaceAll('{{APP_KEY}}', o.appKey);

  /** The hooks of the page's session and call. */
  function hook(method: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'connect':
        return {
          ...body, ...o.sip, sipRegisterRequired: false,
          restClientConfig: { call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee', restOnError: 'FAIL' } },
        };
      case 'call':
        // The page's calls (they carry the browser's `sdp`) go to the target; the callbacks this backend starts
        // through the REST API come through this hook too, and keep their callee.
        return typeof body['sdp'] === 'string' ? { ...body, callee: o.target } : body;
      default:
        return body; // events and every other decision: approved
    }
  }

  return new Promise((resolve) => {
    const server = serveJson(o.port, async (method, path, req) => {
      if (method === 'GET' && path === '/') return { status: 200, html: page };
      if (method === 'POST' && path.startsWith('/rest/')) return { status: 200, json: hook(path.slice(6), await readJson(req)) };
      if (method === 'POST' && path === '/callback') {
        const number = String((await readJson(req))['number'] ?? '').replace(/[\s().-]/g, '');
        if (!CALLBACK_NUMBER.test(number)) return { status: 400, json: { error: 'enter a phone number' } };
        const { callId } = await o.api.post('call/startup', {
          appKey: o.appKey, ...o.sip, callee: number, play: o.message, hangupAfterPlay: true, maxDurationSec: 120,
        });
        return { status: 200, json: { callId } };
      }
      return { status: 404, json: { error: 'not found' } };
    }, () => resolve(server));
  });
}
