/**
 * The admin API's OpenAPI 3.1 document, served at `GET /api/openapi.json`. Paths and operations are written by
 * hand; request bodies are the JSON Schema form of the very zod schemas the routes validate with, so they cannot
 * drift. test/integration/admin-api.test.ts checks that every route is here with the same methods, and nothing
 * else is.
 */
import { z } from 'zod';
import { appPatchBody, newAppBody, replayBody } from './schemas.ts';
import { REST_METHOD_NAMES } from '../hooks/methods.ts';
import { HOOK_LOG_CAPACITY } from '../store/types.ts';
import { VERSION } from '../version.ts';
import { consolePaths } from './openapi-console.ts';
import { restApiPaths } from './rest-api-openapi.ts';

const bodySchema = (s: z.ZodType): unknown => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
};

const json = (schema: unknown) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ok = (description: string, schema: unknown) => ({ description, content: json(schema) });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const errors = {
  '400': error('invalid parameter, query or body; `error` names what was wrong'),
  '401': error('missing or wrong bearer token'),
};
const notFound = { '404': error('no such app') };

const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'application name' };
const keyParam = { name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'application key' };
const methodParam = {
  name: 'method',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: ['*', ...REST_METHOD_NAMES] },
  description: 'REST method name, or `*` for all',
};
const flagParam = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  allowEmptyValue: true,
  schema: { type: 'string', enum: ['', 'true', 'false', '1', '0'] },
  description,
});
const appQuery = { name: 'app', in: 'query', required: false, schema: { type: 'string' }, description: 'only this app key' };
const limitQuery = {
  name: 'limit',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: HOOK_LOG_CAPACITY, default: 100 },
};
const sinceQuery = (what: string) => ({
  name: 'since', in: 'query', required: false, schema: { type: 'string' }, description: `${what}: ISO time, ms since epoch, or 30m / 2h / 7d back`,
});
const secured = { security: [{ bearer: [] }] };
const list = (item: string) => ({ type: 'array', items: ref(item) });

const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const time = { type: 'string', format: 'date-time' };

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'callhook admin API',
    version: VERSION,
    description:
      'Apps, REST methods, the hook log, the event outbox and live sessions of a callhook server. JSON in and out; ' +
      'errors are `{"error": "<what was wrong>"}`. The token is CALLHOOK_ADMIN_TOKEN or `<dataDir>/admin-token`.',
  },
  servers: [{ url: 'http://127.0.0.1:8081' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: str } },
      App: {
        type: 'object',
        properties: {
          name: str,
          appKey: str,
          url: str,
          restUsername: strOrNull,
          restPasswordSet: { type: 'boolean' },
          restSecretSet: { type: 'boolean' },
          signature: { type: 'string', enum: ['callhook', 'wcs'] },
          methods: { type: 'array', items: str },
          restClientConfig: { type: 'object' },
          codecPolicy: { type: ['string', 'null'], enum: ['passthrough', 'opus-to-browser', 'fail', null] },
        },
      },
      NewApp: bodySchema(newAppBody),
      AppPatch: bodySchema(appPatchBody),
      AppMethods: { type: 'object', properties: { appKey: str, methods: { type: 'array', items: str } } },
      RestMethod: {
        type: 'object',
        properties: { name: str, type: { type: 'string', enum: ['connect', 'direct', 'event', 'incoming'] } },
      },
      CheckReport: {
        type: 'object',
        properties: {
          appKey: str,
          url: str,
          ok: { type: 'boolean' },
          steps: {
            type: 'array',
            items: {
              type: 'object',
              required: ['step', 'ok', 'detail'],
              properties: {
                step: { type: 'string', enum: ['dns', 'tcp', 'tls', 'methods', 'probe'] },
                method: str,
                ok: { type: 'boolean' },
                detail: str,
                advice: str,
              },
            },
          },
        },
      },
      Session: {
        type: 'object',
        properties: {
          sessionId: str,
          appKey: str,
          status: str,
          sipLogin: str,
          sipDomain: str,
          registration: str,
          connectedAt: time,
          node: { type: 'string', description: 'the node that holds it (config nodeName), only when nodes share a PostgreSQL store' },
        },
      },
      Call: {
        type: 'object',
        properties: {
          callId: str,
          sessionId: str,
          incoming: { type: 'boolean' },
          status: str,
          caller: str,
          callee: str,
          startedAt: time,
          rtpPort: { type: 'integer', description: 'SIP-side RTP port (RTCP on the next one)' },
          webrtcPort: { type: 'integer', description: 'browser-side ICE port' },
          codec: { type: 'string', description: 'G.711 law relayed (PCMU / PCMA)' },
          packetsToSip: { type: 'integer', description: 'RTP packets relayed from the browser to the SIP side' },
          packetsToBrowser: { type: 'integer', description: 'RTP packets relayed from the SIP side to the browser' },
          sipSrtpSuite: { type: 'string', description: 'SRTP suite towards SIP (RFC 4568 SDES), when that media is encrypted' },
          node: { type: 'string', description: 'the node that holds it (config nodeName), only when nodes share a PostgreSQL store' },
        },
      },
      CallDetailRecord: {
        type: 'object',
        description: 'One call, outgoing or incoming; the end fields are null while the call is live',
        properties: {
          id: { type: 'integer' },
          callId: str,
          sessionId: str,
          appKey: str,
          direction: { type: 'string', enum: ['incoming', 'outgoing'] },
          caller: str,
          callee: str,
          sipCallId: { ...strOrNull, description: 'Call-ID of the SIP INVITE' },
          startedAt: time,
          answeredAt: { type: ['string', 'null'], format: 'date-time' },
          endedAt: { type: ['string', 'null'], format: 'date-time' },
          durationMs: { type: ['integer', 'null'], description: 'answer to end; 0 when never answered' },
          status: { type: ['string', 'null'], enum: ['FINISH', 'BUSY', 'FAILED', null] },
          info: strOrNull,
          sipStatus: { type: ['integer', 'null'] },
          hangupSide: { type: ['string', 'null'], enum: ['client', 'remote', 'callhook', null] },
          codec: strOrNull,
          packetsToSip: { type: ['integer', 'null'] },
          packetsToBrowser: { type: ['integer', 'null'] },
          droppedToSip: { type: ['integer', 'null'] },
          droppedToBrowser: { type: ['integer', 'null'] },
          lostFromSip: { type: ['integer', 'null'], description: 'RTP packets from the SIP side lost on the way' },
          lostFromBrowser: { type: ['integer', 'null'], description: 'RTP packets from the browser lost on the way' },
          recording: { ...strOrNull, description: 'the recording\'s file, for a recorded call: GET /api/recordings/{callId} serves it' },
          hooks: {
            type: 'array',
            items: {
              type: 'object',
              properties: { method: str, outcome: { type: 'string', enum: ['ok', 'off', 'failed', 'refused'] }, info: str },
            },
          },
        },
      },
      HookAttempt: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          time,
          appKey: str,
          method: str,
          url: str,
          status: { type: ['integer', 'null'] },
          latencyMs: { type: 'number' },
          error: strOrNull,
          requestBody: {
            type: ['string', 'null'],
            description: 'the body sent, secrets redacted, cut at hookLogMaxBodyBytes (a cut body ends with "… [truncated: …]"); null when bodies are not kept or nothing was sent',
          },
          responseBody: { type: ['string', 'null'], description: 'the body of the answer, the same way; null when no answer came' },
        },
      },
      OutboxEvent: {
        type: 'object',
        properties: {
          eventId: str,
          appKey: str,
          sessionId: str,
          method: str,
          sequence: { type: 'integer' },
          state: { type: 'string', enum: ['pending', 'dead'] },
          attempts: { type: 'integer' },
          lastError: strOrNull,
          createdAt: time,
          nextAttemptAt: time,
          body: { type: 'object' },
        },
      },
      Replay: bodySchema(replayBody),
    },
  },
  paths: {
    ...consolePaths,
    '/': {
      get: {
        summary: 'The admin console for a browser (Accept: text/html); else this index of the routes, and where this document is (no token)',
        responses: {
          '200': ok('the routes', {
            type: 'object',
            properties: {
              name: str, version: str, openapi: str, token: str, docs: str,
              routes: { type: 'array', items: { type: 'object', properties: { method: str, path: str, summary: str, token: { type: 'boolean' } } } },
            },
          }),
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness (no token); 503 while the server drains or stops',
        responses: {
          '200': ok('the server runs', { type: 'object', properties: { status: str, version: str, uptimeSec: { type: 'integer' } } }),
          '503': ok('the server drains or stops: send new clients elsewhere', { type: 'object', properties: { status: str, version: str, uptimeSec: { type: 'integer' } } }),
        },
      },
    },
    '/apps/EchoApp/{method}': {
      post: {
        summary: 'Built-in EchoApp backend: answers 200 with the body it received (no token)',
        parameters: [{ name: 'method', in: 'path', required: true, schema: str }],
        requestBody: { required: true, content: json({ type: 'object' }) },
        responses: { '200': ok('the request body', { type: 'object' }), '400': error('the body is not a JSON object') },
      },
    },
    '/metrics': {
      get: {
        ...secured,
        summary: 'Prometheus metrics: REST hooks, the outbox, live sessions and calls',
        responses: {
          '200': { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: str } } },
          '401': errors['401'],
        },
      },
    },
    '/api/openapi.json': {
      get: { ...secured, summary: 'This document', responses: { '200': ok('OpenAPI 3.1', { type: 'object' }), '401': errors['401'] } },
    },
    '/api/apps': {
      get: { ...secured, summary: 'List apps', responses: { '200': ok('every app', list('App')), ...errors } },
      post: {
        ...secured,
        summary: 'Add an app (no REST method enabled yet)',
        requestBody: { required: true, content: json(ref('NewApp')) },
        responses: { '201': ok('the new app', ref('App')), ...errors, '409': error('name or key taken') },
      },
    },
    '/api/apps/{name}': {
      parameters: [nameParam],
      get: { ...secured, summary: 'One app', responses: { '200': ok('the app', ref('App')), ...errors, ...notFound } },
      patch: {
        ...secured,
        summary: 'Change an app (`null` clears a credential)',
        requestBody: { required: true, content: json(ref('AppPatch')) },
        responses: { '200': ok('the changed app', ref('App')), ...errors, ...notFound, '409': error('new key taken') },
      },
      delete: {
        ...secured,
        summary: 'Remove an app',
        responses: { '200': ok('removed', { type: 'object', properties: { removed: str } }), ...errors, ...notFound },
      },
    },
    '/api/rest-methods': {
      get: { ...secured, summary: 'Every REST method callhook knows', responses: { '200': ok('the methods', list('RestMethod')), ...errors } },
    },
    '/api/apps/{key}/rest-methods': {
      parameters: [keyParam],
      get: { ...secured, summary: 'Methods enabled for an app', responses: { '200': ok('enabled methods', ref('AppMethods')), ...errors, ...notFound } },
    },
    '/api/apps/{key}/rest-methods/{method}': {
      parameters: [keyParam, methodParam],
      put: { ...secured, summary: 'Enable a method (`*`: all)', responses: { '200': ok('enabled methods', ref('AppMethods')), ...errors, ...notFound } },
      delete: { ...secured, summary: 'Disable a method (`*`: all)', responses: { '200': ok('enabled methods', ref('AppMethods')), ...errors, ...notFound } },
    },
    '/api/apps/{key}/check': {
      parameters: [keyParam],
      post: {
        ...secured,
        summary: "Diagnose the app's REST URL: DNS, TCP, TLS, one probe POST per enabled method",
        responses: { '200': ok('the steps; `ok` is false when any failed', ref('CheckReport')), ...errors, ...notFound },
      },
    },
    '/api/sessions': {
      get: { ...secured, summary: 'Live client connections', responses: { '200': ok('sessions', list('Session')), ...errors } },
    },
    '/api/calls': {
      get: { ...secured, summary: 'Live calls', responses: { '200': ok('calls', list('Call')), ...errors } },
    },
    '/api/hooks': {
      get: {
        ...secured,
        summary: 'The hook log, newest first',
        parameters: [
          flagParam('failed', 'true: only failed attempts; false: only the ones that succeeded'),
          appQuery,
          { name: 'method', in: 'query', required: false, schema: { type: 'string', enum: REST_METHOD_NAMES }, description: 'only this REST method' },
          sinceQuery('attempts started since'),
          limitQuery,
        ],
        responses: { '200': ok('attempts', list('HookAttempt')), ...errors },
      },
    },
    '/api/cdr': {
      get: {
        ...secured,
        summary: 'Call detail records, newest first (`format=csv`: as CSV)',
        parameters: [
          sinceQuery('calls started since'),
          appQuery,
          limitQuery,
          { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
        ],
        responses: {
          '200': { description: 'records', content: { ...json(list('CallDetailRecord')), 'text/csv': { schema: str } } },
          ...errors,
        },
      },
    },
    '/api/events': {
      get: {
        ...secured,
        summary: 'The event outbox, oldest first',
        parameters: [flagParam('dead', 'only dead letters'), appQuery, limitQuery],
        responses: { '200': ok('events', list('OutboxEvent')), ...errors },
      },
    },
    '/api/events/replay': {
      post: {
        ...secured,
        summary: 'Send dead letters again (`since`: ISO time, ms since epoch, or 30m / 2h / 7d back)',
        requestBody: { required: false, content: json(ref('Replay')) },
        responses: { '200': ok('how many', { type: 'object', properties: { replayed: { type: 'integer' } } }), ...errors },
      },
    },
    ...restApiPaths,
  },
} as const;
