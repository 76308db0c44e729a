/**
 * The OpenAPI paths of what the admin console (docs/console.md) adds: the overview, the per-session timelines, the
 * live-update stream, terminating a session or a call, and the console's own files. Kept apart from ./openapi.ts,
 * which spreads them into its paths.
 */
const str = { type: 'string' };
const int = { type: 'integer' };
const secured = { security: [{ bearer: [] }] };
const errorRef = { $ref: '#/components/schemas/Error' };
const error = (description: string) => ({ description, content: { 'application/json': { schema: errorRef } } });
const ok = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
const errors = { '400': error('invalid parameter; `error` names what was wrong'), '401': error('missing or wrong bearer token') };
const counts = { type: 'object', additionalProperties: int };

const sessionIdParam = {
  name: 'sessionId',
  in: 'path',
  required: true,
  schema: str,
  description: 'the sessionId (`/<client ip>:<port>/<server ip>:<port>`), percent-encoded',
};

const timelineSummary = {
  type: 'object',
  properties: {
    sessionId: str, appKey: str, sipLogin: str, startedAt: { type: 'string', format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time' }, steps: int, failedSteps: int,
  },
};

const timelineStep = {
  type: 'object',
  properties: {
    seq: int,
    time: { type: 'string', format: 'date-time' },
    gapMs: { type: 'integer', description: 'since the previous step' },
    lane: { type: 'string', enum: ['browser', 'hooks', 'sip', 'media'] },
    direction: { type: 'string', enum: ['in', 'out', 'local'], description: 'in: towards callhook; out: from callhook' },
    label: { type: 'string', description: 'method or status: connect, REGISTER, 401 Unauthorized, ICE/DTLS connected, …' },
    detail: str,
    failed: { type: 'boolean' },
    callId: str,
    peer: str,
    raw: { type: 'string', description: 'SIP: the message, credentials redacted; hooks: the JSON bodies without the SIP password' },
    rawDropped: { type: 'boolean', description: 'the raw text was let go to keep the timeline within timelineMaxBytes (the oldest go first)' },
    repeats: {
      type: 'object',
      description: "a registration refresh round's first step: the alike rounds in a row it stands for (the earlier ones folded into it), the first at since",
      properties: { count: int, since: { type: 'string', format: 'date-time' } },
    },
  },
};

export const consolePaths = {
  '/console/console.js': {
    get: { summary: "The console's script (no token)", responses: { '200': { description: 'JavaScript', content: { 'text/javascript': { schema: str } } } } },
  },
  '/console/console.css': {
    get: { summary: "The console's styles (no token)", responses: { '200': { description: 'CSS', content: { 'text/css': { schema: str } } } } },
  },
  '/api/overview': {
    get: {
      ...secured,
      summary: 'Live sessions, registrations and calls by status, hook calls per method lately, the outbox, port use, warnings',
      responses: {
        '200': ok('the overview', {
          type: 'object',
          properties: {
            version: str, uptimeSec: int, ports: counts, sessions: int, registrations: counts, calls: counts,
            hooks: {
              type: 'object',
              properties: {
                windowMinutes: int,
                methods: { type: 'array', items: { type: 'object', properties: { method: str, total: int, failed: int, lastError: str } } },
              },
            },
            outbox: { type: 'object', properties: { pending: int, dead: int } },
            mediaPorts: { type: 'array', items: { type: 'object', properties: { range: str, used: int, free: int } } },
            eventLoopLagMs: int,
            warnings: { type: 'array', items: str },
          },
        }),
        ...errors,
      },
    },
  },
  '/api/stream': {
    get: {
      ...secured,
      summary: 'Live updates (Server-Sent Events): `overview` every 2 s; with `session`, a `step` per new step of its timeline',
      parameters: [{ name: 'session', in: 'query', required: false, schema: str, description: 'a sessionId whose new timeline steps to send' }],
      responses: {
        '200': { description: 'text/event-stream', content: { 'text/event-stream': { schema: str } } },
        ...errors,
        '503': error('adminMaxEventStreams streams are open already'),
      },
    },
  },
  '/api/timelines': {
    get: { ...secured, summary: 'Timelines of the live and the recently ended sessions', responses: { '200': ok('timelines', { type: 'array', items: timelineSummary }), ...errors } },
  },
  '/api/timelines/{sessionId}': {
    parameters: [sessionIdParam],
    get: {
      ...secured,
      summary: "One session's timeline: browser frames, hooks, SIP messages, media states, in time order",
      responses: {
        '200': ok('the timeline', { allOf: [timelineSummary, { type: 'object', properties: { droppedSteps: int, timeline: { type: 'array', items: timelineStep } } }] }),
        ...errors,
        '404': error('no such session live or recently ended'),
      },
    },
  },
  '/api/sessions/{sessionId}': {
    parameters: [sessionIdParam],
    delete: {
      ...secured,
      summary: 'End a live session: its client is disconnected, its calls end, its registration is removed',
      responses: { '200': ok('ended', { type: 'object', properties: { terminated: str } }), ...errors, '404': error('no such live session'), '503': error('another node holds it and did not answer') },
    },
  },
  '/api/calls/{callId}': {
    parameters: [{ name: 'callId', in: 'path', required: true, schema: str }],
    delete: {
      ...secured,
      summary: 'End a live call (BYE, CANCEL or 480 towards SIP; FINISH to the client)',
      responses: { '200': ok('ended', { type: 'object', properties: { terminated: str } }), ...errors, '404': error('no such live call'), '503': error('another node holds it and did not answer') },
    },
  },
} as const;
