/**
 * An IVR on callhook's REST API and its `OnDtmfEvent` hook (./ivr.ts, README.md): the backend calls a number
 * (`POST /start {"number": "+49…"}`), plays the main menu and follows the digits the callee presses.
 *
 *   CALLHOOK_ADMIN_TOKEN=$(cat data/admin-token) SIP_LOGIN=ivr SIP_PASSWORD=… SIP_DOMAIN=pbx.example.com \
 *   PROMPTS=/srv/prompts OPERATOR=100 node --import tsx examples/ivr/server.ts
 */
import { envSettings, restApiClient } from '../rest-api-client.ts';
import { startIvr } from './ivr.ts';

const settings = envSettings();
const port = Number(process.env['PORT'] ?? 3002);
await startIvr({
  api: restApiClient(settings.adminUrl, settings.token),
  sip: settings.sip,
  appKey: process.env['APP_KEY'] ?? 'defaultApp',
  prompts: process.env['PROMPTS'] ?? '.',
  operator: process.env['OPERATOR'] ?? 'operator',
  port,
});
console.log(`ivr: POST http://127.0.0.1:${port}/start {"number": …} (hooks at /rest)`);
