/**
 * Click-to-call (docs/rest-api.md): a page and its backend, two ways to reach one fixed number.
 *
 * - The page's button calls it from the browser through callhook's SDK, without registration: the `connect` hook
 *   answers the SIP account (the page holds no credentials) and the `call` hook overwrites the callee with the
 *   fixed number (restPolicy OVERWRITE), so a page cannot call anyone else.
 * - "Call me back": the visitor enters a number; the backend starts a call to it from the server
 *   (`/rest-api/call/startup`), which plays a message and hangs up.
 *
 *   CALLHOOK_ADMIN_TOKEN=$(cat data/admin-token) SIP_LOGIN=web SIP_PASSWORD=… SIP_DOMAIN=pbx.example.com \
 *   TARGET=+4930123456 MESSAGE=/srv/prompts/callback.wav CALLHOOK_WS=ws://127.0.0.1:8080/ \
 *     node --import tsx examples/click-to-call/server.ts
 *
 * Then point an app's URL at http://127.0.0.1:3001/rest (every method enabled) and open http://127.0.0.1:3001/.
 */
import { readFileSync } from 'node:fs';
import { envSettings, readJson, restApiClient, serveJson } from '../rest-api-client.ts';

const settings = envSettings();
const api = restApiClient(settings.adminUrl, settings.token);
const target = process.env['TARGET'] ?? '';
const message = process.env['MESSAGE'] ?? '';
const wsUrl = process.env['CALLHOOK_WS'] ?? 'ws://127.0.0.1:8080/';
const appKey = process.env['APP_KEY'] ?? 'defaultApp';
const port = Number(process.env['PORT'] ?? 3001);
if (target === '' || message === '') throw new Error('set TARGET (the number to call) and MESSAGE (a WAV file callhook can read)');

/** A number the visitor may ask a callback to: digits with an optional leading +, 3 to 16 of them. */
const CALLBACK_NUMBER = /^\+?[0-9]{3,16}$/;

const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8')
  .replaceAll('{{CALLHOOK_WS}}', wsUrl)
  .replaceAll('{{CALLHOOK_HTTP}}', wsUrl.replace(/^ws/, 'http'))
  .replaceAll('{{APP_KEY}}', appKey);

/** The hooks of the page's session and call. */
function hook(method: string, body: Record<string, unknown>): Record<string, unknown> {
  switch (method) {
    case 'connect':
      return {
        ...body, ...settings.sip, sipRegisterRequired: false,
        restClientConfig: { call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee', restOnError: 'FAIL' } },
      };
    case 'call':
      return { ...body, callee: target };
    default:
      return body; // events and every other decision: approved
  }
}

serveJson(port, async (method, path, req) => {
  if (method === 'GET' && path === '/') return { status: 200, html: page };
  if (method === 'POST' && path.startsWith('/rest/')) return { status: 200, json: hook(path.slice(6), await readJson(req)) };
  if (method === 'POST' && path === '/callback') {
    const number = String((await readJson(req))['number'] ?? '').replace(/[\s().-]/g, '');
    if (!CALLBACK_NUMBER.test(number)) return { status: 400, json: { error: 'enter a phone number' } };
    const { callId } = await api.post('call/startup', { appKey, ...settings.sip, callee: number, play: message, hangupAfterPlay: true, maxDurationSec: 120 });
    return { status: 200, json: { callId } };
  }
  return { status: 404, json: { error: 'not found' } };
}, () => console.log(`click-to-call: http://127.0.0.1:${port}/ (hooks at /rest)`));
