/**
 * The WCS-style REST API under `/rest-api/` (docs/rest-api.md): start a call from the server, and end, find and
 * steer any live call or session. POST with a JSON body everywhere, as WCS has it; the same bearer token as the
 * rest of the admin API. The work is the gateway's (../../gateway/call-control.ts); this file validates bodies and
 * maps the gateway's refusals onto statuses: an unknown callId or sessionId 404, a call in the wrong state 409, a
 * refused startup or a sound that cannot be played 400, each naming what was wrong. In a cluster, find_all is the
 * whole cluster's and a terminate of another node's call or session is forwarded to it (../cluster.ts).
 *
 * Beside them, `GET /api/recordings` and `GET /api/recordings/{callId}` list and serve call recordings.
 */
import { z } from 'zod';
import { GatewayError, type CallControl, type Recordings } from '../../gateway/index.ts';
import type { AdminDeps } from '../deps.ts';
import { AdminError } from '../errors.ts';
import type { IncomingMessage } from 'node:http';
import type { LiveItemKind } from '../../store/types.ts';
import { clusterList, forwardToHolder } from '../cluster.ts';
import { route, type Reply, type Route } from '../router.ts';
import { text } from '../schemas.ts';

const callId = text(256).describe('The call, as its CallStatusEvent names it');
const file = text(4096).describe('A WAV file callhook can read: mono 16-bit PCM at 8, 16 or 48 kHz, or G.711 A-law / µ-law');

/** The connection fields of a client's `connection` (docs/client-protocol.md), which the connect hook sees too. */
const connectionFields = {
  appKey: text(256).optional().describe('The app whose hooks the call goes through (default: the default app)'),
  sipLogin: text(256),
  sipAuthenticationName: text(256).optional(),
  sipPassword: z.string().max(1024).optional(),
  sipDomain: text(256),
  sipOutboundProxy: text(256).optional(),
  sipPort: z.union([z.number().int().min(1).max(65535), text(5)]).optional(),
  sipTransport: z.enum(['UDP', 'TCP', 'TLS', 'udp', 'tcp', 'tls']).optional(),
  sipRegisterRequired: z.boolean().default(false).describe('REGISTER before calling (default false: a server call needs no registration)'),
  sipVisibleName: text(256).optional(),
};

export const startupBody = z
  .strictObject({
    ...connectionFields,
    callee: text(256).describe('A number or SIP URI, as a browser call names it'),
    callId: callId.optional().describe('Default: a random UUID'),
    inviteParameters: z.record(text(128), text(1024)).optional().describe('Extra header fields of the INVITE'),
    play: file.optional().describe('Played to the callee once the call is ESTABLISHED'),
    loop: z.boolean().optional(),
    record: z.boolean().optional().describe('Record both directions to <dataDir>/recordings/<callId>.wav'),
    hangupAfterPlay: z.boolean().optional(),
    maxDurationSec: z.number().int().min(1).max(86_400).optional(),
  })
  .refine((b) => b.play !== undefined || (b.loop === undefined && b.hangupAfterPlay === undefined), {
    message: 'loop and hangupAfterPlay need play',
  });

export const callBody = z.strictObject({ callId });
export const findBody = z
  .strictObject({ callId: callId.optional(), callee: text(256).optional(), sipLogin: text(256).optional() })
  .refine((b) => b.callId !== undefined || b.callee !== undefined || b.sipLogin !== undefined, { message: 'give callId, callee or sipLogin' });
export const dtmfBody = z.strictObject({
  callId,
  dtmf: text(64).regex(/^[0-9*#A-Da-d]+$/, 'must be DTMF digits: 0-9, *, #, A-D').describe('Digits 0-9, *, #, A-D'),
  type: z.enum(['RFC2833', 'INFO', 'INFO_RELAY']).default('RFC2833'),
});
export const transferBody = z.strictObject({ callId, target: text(256) });
export const injectSoundBody = z.strictObject({ callId, file, loop: z.boolean().default(false) });
export const sessionBody = z.strictObject({ sessionId: text(256) });

/** The gateway's refusals as admin errors. */
function adminError(e: unknown): unknown {
  if (!(e instanceof GatewayError)) return e;
  switch (e.code) {
    case 'NOT_FOUND':
      return new AdminError('ADMIN_NOT_FOUND', e.message);
    case 'CALL_STATE':
      return new AdminError('ADMIN_CONFLICT', e.message);
    default:
      return new AdminError('ADMIN_BAD_REQUEST', e.message);
  }
}

async function mapped<T>(act: () => Promise<T> | T): Promise<T> {
  try {
    return await act();
  } catch (e) {
    throw adminError(e);
  }
}

const done = { json: { result: 'ok' } };

/** The holding node's reply to a forwarded request, passed on as it is. */
class Forwarded {
  constructor(readonly reply: Reply) {}
}

export function restApiRoutes(deps: AdminDeps): Route[] {
  const control = (): CallControl => {
    const c = deps.calls?.();
    if (c === undefined) throw new AdminError('ADMIN_UNAVAILABLE', 'the gateway is not running yet');
    return c;
  };
  const post = <B extends z.ZodType>(path: string, body: B | undefined, act: (body: z.output<B>, raw: IncomingMessage) => Promise<unknown> | unknown): Route =>
    route({
      method: 'POST', path, auth: true, ...(body !== undefined && { body }),
      handler: async ({ body: b, raw }) => {
        const result = await mapped(() => act(b as z.output<B>, raw));
        return result instanceof Forwarded ? result.reply : { json: result };
      },
    });
  /** This node's answer, or, for an item it does not hold, the holder's (../cluster.ts). */
  const orHolder = async (kind: LiveItemKind, id: string, raw: IncomingMessage, body: unknown, act: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await act();
    } catch (e) {
      if (!(e instanceof GatewayError && e.code === 'NOT_FOUND')) throw e;
      const reply = await forwardToHolder(deps.cluster, kind, id, raw, body);
      if (reply === undefined) throw e;
      return new Forwarded(reply);
    }
  };
  const ok = async (act: () => Promise<unknown> | unknown) => {
    await act();
    return done.json;
  };
  return [
    post('/rest-api/call/startup', startupBody, (b, raw) => {
      const { callee, callId: id, inviteParameters, play, loop, record, hangupAfterPlay, maxDurationSec, ...connection } = b;
      return control().startCall({
        connection, callee,
        ...(id !== undefined && { callId: id }),
        ...(inviteParameters !== undefined && { inviteParameters }),
        ...(play !== undefined && { play }),
        ...(loop !== undefined && { loop }),
        ...(record !== undefined && { record }),
        ...(hangupAfterPlay !== undefined && { hangupAfterPlay }),
        ...(maxDurationSec !== undefined && { maxDurationSec }),
      }, raw.socket.remoteAddress ?? '');
    }),
    post('/rest-api/call/terminate', callBody, (b, raw) => orHolder('call', b.callId, raw, b, () => ok(() => control().terminateCall(b.callId)))),
    post('/rest-api/call/find', findBody, (b) => control().findCalls(b)),
    post('/rest-api/call/find_all', undefined, () => clusterList(deps.cluster, 'call', control().findCalls({}))),
    post('/rest-api/call/send_dtmf', dtmfBody, (b) => ok(() => control().sendDtmf(b.callId, b.dtmf, b.type))),
    post('/rest-api/call/hold', callBody, (b) => ok(() => control().hold(b.callId, true))),
    post('/rest-api/call/unhold', callBody, (b) => ok(() => control().hold(b.callId, false))),
    post('/rest-api/call/transfer', transferBody, (b) => ok(() => control().transfer(b.callId, b.target))),
    post('/rest-api/call/inject_sound', injectSoundBody, (b) => ok(() => control().injectSound(b.callId, b.file, b.loop))),
    post('/rest-api/call/stop_sound', callBody, (b) => ({ stopped: control().stopSound(b.callId) })),
    post('/rest-api/connection/find_all', undefined, () => clusterList(deps.cluster, 'session', control().sessions())),
    post('/rest-api/connection/terminate', sessionBody, (b, raw) => orHolder('session', b.sessionId, raw, b, () => ok(() => control().terminateSession(b.sessionId)))),
  ];
}

export function recordingRoutes(deps: AdminDeps): Route[] {
  const recordings = (): Recordings => {
    if (deps.recordings === undefined) throw new AdminError('ADMIN_UNAVAILABLE', 'recordings are not kept by this server');
    return deps.recordings;
  };
  return [
    route({ method: 'GET', path: '/api/recordings', auth: true, handler: async () => ({ json: await recordings().list() }) }),
    route({
      method: 'GET',
      path: '/api/recordings/{callId}',
      auth: true,
      params: z.strictObject({ callId }),
      handler: async ({ params }) => ({ text: await mapped(() => recordings().read(params.callId)), contentType: 'audio/wav' }),
    }),
  ];
}
