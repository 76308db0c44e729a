/**
 * Click-to-call (./click-to-call.ts, README.md): a page with one button that calls a fixed number, and a
 * "call me back" form that makes callhook call the visitor and play a message.
 *
 *   CALLHOOK_ADMIN_TOKEN=$(cat data/admin-token) SIP_LOGIN=web SIP_PASSWORD=… SIP_DOMAIN=pbx.example.com \
 *   TARGET=+4930123456 MESSAGE=/srv/prompts/callback.wav CALLHOOK_WS=ws://127.0.0.1:8080/ \
 *     node --import tsx examples/click-to-call/server.ts
 *
 * Then point an app's URL at http://127.0.0.1:3001/rest (every method enabled) and open http://127.0.0.1:3001/.
 */
import { envSettings, restApiClient } from '../rest-api-client.ts';
import { startClickToCall } from './click-to-call.ts';

const settings = envSettings();
const target = process.env['TARGET'] ?? '';
const message = process.env['MESSAGE'] ?? '';
if (target === '' || message === '') throw new Error('set TARGET (the number to call) and MESSAGE (a WAV file callhook can read)');
const port = Number(process.env['PORT'] ?? 3001);
await startClickToCall({
  api: restApiClient(settings.adminUrl, settings.token),
  sip: settings.sip,
  appKey: process.env['APP_KEY'] ?? 'defaultApp',
  target,
  message,
  wsUrl: process.env['CALLHOOK_WS'] ?? 'ws://127.0.0.1:8080/',
  port,
});
console.log(`click-to-call: http://127.0.0.1:${port}/ (hooks at /rest)`);
