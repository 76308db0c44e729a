/**
 * The OpenAPI part of the REST API (`/rest-api/`, ./routes/rest-api.ts) and the recordings: request bodies are the
 * JSON Schema form of the routes' own zod schemas. Kept apart from ./openapi.ts, which spreads these in.
 */
import { z } from 'zod';
import {
  callBody, dtmfBody, findBody, injectSoundBody, sessionBody, startupBody, transferBody,
} from './routes/rest-api.ts';

const schema = (s: z.ZodType): unknown => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
};
const json = (s: unknown) => ({ 'application/json': { schema: s } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const secured = { security: [{ bearer: [] }] };
const errors = { '400': error('invalid body; `error` names what was wrong'), '401': error('missing or wrong bearer token') };
const unknownCall = { '404': error('no live call with this callId') };
const notEstablished = { '409': error('the call is not ESTABLISHED') };
const result = { description: 'done', content: json({ type: 'object', properties: { result: { type: 'string', enum: ['ok'] } } }) };

const operation = (summary: string, body: z.ZodType | undefined, responses: Record<string, unknown>) => ({
  post: {
    ...secured,
    summary,
    ...(body !== undefined && { requestBody: { required: true, content: json(schema(body)) } }),
    responses: { ...responses, ...errors },
  },
});

const foundCalls = {
  description: 'the live calls',
  content: json({ type: 'array', items: { allOf: [ref('Call'), { type: 'object', properties: { sipLogin: { type: 'string' } } }] } }),
};

export const restApiPaths = {
  '/rest-api/call/startup': operation(
    'Start a SIP call from the server (no browser): the connect and `call` hooks as for a browser call; play, record',
    startupBody,
    {
      '200': {
        description: 'the INVITE went out',
        content: json({ type: 'object', properties: { callId: { type: 'string' }, sessionId: { type: 'string' } } }),
      },
    },
  ),
  '/rest-api/call/terminate': operation('End any live call (the browser sees FINISH `Terminated by API`)', callBody, { '200': result, ...unknownCall }),
  '/rest-api/call/find': operation('Live calls by callId, callee or sipLogin', findBody, { '200': foundCalls }),
  '/rest-api/call/find_all': operation('Every live call', undefined, { '200': foundCalls }),
  '/rest-api/call/send_dtmf': operation('Send DTMF into a call (RFC2833, INFO or INFO_RELAY)', dtmfBody, { '200': result, ...unknownCall, ...notEstablished }),
  '/rest-api/call/hold': operation('Hold a call (re-INVITE sendonly)', callBody, { '200': result, ...unknownCall, ...notEstablished }),
  '/rest-api/call/unhold': operation('Resume a held call', callBody, { '200': result, ...unknownCall, ...notEstablished }),
  '/rest-api/call/transfer': operation('Blind transfer (REFER) of the far end to `target`', transferBody, { '200': result, ...unknownCall, ...notEstablished }),
  '/rest-api/call/inject_sound': operation(
    "Play a WAV file towards the SIP side, instead of the browser's audio while it plays",
    injectSoundBody,
    { '200': result, ...unknownCall, ...notEstablished },
  ),
  '/rest-api/call/stop_sound': operation('Stop a played sound', callBody, {
    '200': { description: 'whether one was playing', content: json({ type: 'object', properties: { stopped: { type: 'boolean' } } }) },
    ...unknownCall,
  }),
  '/rest-api/connection/find_all': operation('Every live session (browser or REST API)', undefined, {
    '200': { description: 'sessions', content: json({ type: 'array', items: ref('Session') }) },
  }),
  '/rest-api/connection/terminate': operation('End a session and its calls', sessionBody, {
    '200': result, '404': error('no live session with this sessionId'),
  }),
  '/api/recordings': {
    get: {
      ...secured,
      summary: 'Call recordings, newest first',
      responses: {
        '200': {
          description: 'recordings',
          content: json({
            type: 'array',
            items: {
              type: 'object',
              properties: { callId: { type: 'string' }, file: { type: 'string' }, bytes: { type: 'integer' }, modifiedAt: { type: 'string', format: 'date-time' } },
            },
          }),
        },
        ...errors,
      },
    },
  },
  '/api/recordings/{callId}': {
    parameters: [{ name: 'callId', in: 'path', required: true, schema: { type: 'string' } }],
    get: {
      ...secured,
      summary: "A call's recording: stereo WAV, left callhook's side, right the far end",
      responses: {
        '200': { description: 'the WAV file', content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
        '404': error('no recording of this call'),
        ...errors,
      },
    },
  },
} as const;
