/**
 * An IVR on callhook's REST API and its `OnDtmfEvent` hook (docs/rest-api.md, docs/hooks.md): the backend calls a
 * number (`POST /start {"number": "+49…"}`), plays the main menu in a loop, and follows the digits the callee presses.
 *
 *   main menu   1 → opening hours (a second menu)   2 → transferred to the operator   0 → goodbye, hang up
 *   hours menu  1 → hear them again                 * → back to the main menu        0 → goodbye, hang up
 *
 * Each menu is a WAV prompt played with `call/inject_sound` (`loop`, so it repeats until a digit comes); the state
 * of each call is kept here by callId and forgotten at its final CallStatusEvent.
 *
 *   CALLHOOK_ADMIN_TOKEN=$(cat data/admin-token) SIP_LOGIN=ivr SIP_PASSWORD=… SIP_DOMAIN=pbx.example.com \
 *   PROMPTS=/srv/prompts OPERATOR=100 node --import tsx examples/ivr/server.ts
 *
 * PROMPTS holds main.wav, hours.wav and goodbye.wav (WAV: mono 16-bit PCM at 8, 16 or 48 kHz, or G.711). Point an
 * app's URL at http://127.0.0.1:3002/rest and enable at least CallStatusEvent and OnDtmfEvent.
 */
import { join } from 'node:path';
import { envSettings, readJson, restApiClient, serveJson } from '../rest-api-client.ts';

const settings = envSettings();
const api = restApiClient(settings.adminUrl, settings.token);
const prompts = process.env['PROMPTS'] ?? '.';
const operator = process.env['OPERATOR'] ?? 'operator';
const appKey = process.env['APP_KEY'] ?? 'defaultApp';
const port = Number(process.env['PORT'] ?? 3002);

type Menu = 'main' | 'hours';
/** What each menu does with a digit: the next menu to play, or an action that ends the menu. */
const MENUS: Readonly<Record<Menu, Readonly<Record<string, Menu | 'operator' | 'goodbye'>>>> = {
  main: { '1': 'hours', '2': 'operator', '0': 'goodbye' },
  hours: { '1': 'hours', '*': 'main', '0': 'goodbye' },
};

const calls = new Map<string, Menu>();

async function play(callId: string, menu: Menu): Promise<void> {
  calls.set(callId, menu);
  await api.post('call/inject_sound', { callId, file: join(prompts, `${menu}.wav`), loop: true });
}

/** A digit pressed in a call of ours. */
async function onDigit(callId: string, digit: string): Promise<void> {
  const menu = calls.get(callId);
  if (menu === undefined) return; // not an IVR call
  const next = MENUS[menu][digit];
  if (next === undefined) return; // not an option: the prompt keeps playing
  if (next === 'operator') {
    calls.delete(callId);
    await api.post('call/stop_sound', { callId });
    await api.post('call/transfer', { callId, target: operator });
  } else if (next === 'goodbye') {
    calls.delete(callId);
    await api.post('call/inject_sound', { callId, file: join(prompts, 'goodbye.wav') });
    // The goodbye is short: hang up once it has played.
    setTimeout(() => void api.post('call/terminate', { callId }).catch(() => undefined), 3000);
  } else {
    await play(callId, next);
  }
}

/** The hooks: the call's answer starts the main menu, its end forgets it, digits move through the menus. */
async function hook(method: string, body: Record<string, unknown>): Promise<void> {
  const callId = String(body['callId'] ?? '');
  if (method === 'CallStatusEvent' && body['status'] === 'ESTABLISHED' && calls.get(callId) === 'main') await play(callId, 'main');
  if (method === 'CallStatusEvent' && ['FINISH', 'BUSY', 'FAILED'].includes(String(body['status']))) calls.delete(callId);
  if (method === 'OnDtmfEvent') await onDigit(callId, String(body['digit']));
}

serveJson(port, async (method, path, req) => {
  if (method === 'POST' && path.startsWith('/rest/')) {
    const body = await readJson(req);
    // Events are answered at once; what they start runs on (a failure is logged, the call goes on).
    void hook(path.slice(6), body).catch((err: unknown) => console.error(`ivr: ${(err as Error).message}`));
    return { status: 200, json: body };
  }
  if (method === 'POST' && path === '/start') {
    const number = String((await readJson(req))['number'] ?? '');
    const { callId } = await api.post('call/startup', { appKey, ...settings.sip, callee: number, maxDurationSec: 600 });
    // The main menu starts when the callee answers (CallStatusEvent ESTABLISHED).
    if (!calls.has(callId)) calls.set(callId, 'main');
    return { status: 200, json: { callId } };
  }
  return { status: 404, json: { error: 'not found' } };
}, () => console.log(`ivr: POST http://127.0.0.1:${port}/start {"number": …} (hooks at /rest)`));
