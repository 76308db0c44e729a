/**
 * The IVR of ./server.ts as a function, so a test runs it in-process: a web server whose hooks follow the calls it
 * started through the REST API (docs/rest-api.md) and the digits their callees press (OnDtmfEvent).
 *
 *   main menu   1 → opening hours (a second menu)   2 → transferred to the operator   0 → goodbye, hang up
 *   hours menu  1 → hear them again                 * → back to the main menu        0 → goodbye, hang up
 *
 * Each menu is a WAV prompt played with `call/inject_sound` (`loop`, so it repeats until a digit comes); the state
 * of each call is kept here by callId and forgotten at its final CallStatusEvent.
 */
import type http from 'node:http';
import { join } from 'node:path';
import { readJson, serveJson, type RestApiClient } from '../rest-api-client.ts';

export interface IvrOptions {
  api: RestApiClient;
  /** The SIP account calls go out with (call/startup's sip* fields). */
  sip: Record<string, unknown>;
  appKey: string;
  /** The folder of main.wav, hours.wav and goodbye.wav. */
  prompts: string;
  /** Where `2` transfers to. */
  operator: string;
  port: number;
  /** How long the goodbye plays before the call is ended (ms). Default 3000. */
  goodbyeMs?: number;
}

type Menu = 'main' | 'hours';
/** What each menu does with a digit: the next menu to play, or an action that ends the menu. */
const MENUS: Readonly<Record<Menu, Readonly<Record<string, Menu | 'operator' | 'goodbye'>>>> = {
  main: { '1': 'hours', '2': 'operator', '0': 'goodbye' },
  hours: { '1': 'hours', '*': 'main', '0': 'goodbye' },
};

/** Resolves with the listening server once it listens on 127.0.0.1:`port`. */
export function startIvr(o: IvrOptions): Promise<http.Server> {
  const { api } = o;
  const calls = new Map<string, Menu>();

  async function play(callId: string, menu: Menu): Promise<void> {
    calls.set(callId, menu);
    await api.post('call/inject_sound', { callId, file: join(o.prompts, `${menu}.wav`), loop: true });
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
      await api.post('call/transfer', { callId, target: o.operator });
    } else if (next === 'goodbye') {
      calls.delete(callId);
      await api.post('call/inject_sound', { callId, file: join(o.prompts, 'goodbye.wav') });
      // The goodbye is short: hang up once it has played.
      setTimeout(() => void api.post('call/terminate', { callId }).catch(() => undefined), o.goodbyeMs ?? 3000);
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

  return new Promise((resolve) => {
    const server = serveJson(o.port, async (method, path, req) => {
      if (method === 'POST' && path.startsWith('/rest/')) {
        const body = await readJson(req);
        // Events are answered at once; what they start runs on (a failure is logged, the call goes on).
        void hook(path.slice(6), body).catch((err: unknown) => console.error(`ivr: ${(err as Error).message}`));
        return { status: 200, json: body };
      }
      if (method === 'POST' && path === '/start') {
        const number = String((await readJson(req))['number'] ?? '');
        const { callId } = await api.post('call/startup', { appKey: o.appKey, ...o.sip, callee: number, maxDurationSec: 600 });
        // The main menu starts when the callee answers (CallStatusEvent ESTABLISHED).
        if (!calls.has(callId)) calls.set(callId, 'main');
        return { status: 200, json: { callId } };
      }
      return { status: 404, json: { error: 'not found' } };
    }, () => resolve(server));
  });
}
