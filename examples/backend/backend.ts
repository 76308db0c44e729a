/**
 * A sample web server ("backend") for callhook's REST hooks, written the way WCS's documentation recommends
 * (docs/hooks.md): callhook POSTs `<app url>/<method>` with JSON, and the answer decides.
 *
 *   POST /rest/connect      authenticates the page by a token in `custom`, answers with the user's SIP account
 *                           and a restClientConfig that keeps that account off the page (policy.ts)
 *   POST /rest/call         normalises the callee (OVERWRITE) and refuses callees outside the allow-list with
 *                           {"status":403,"reason":"…"}, which callhook shows to the page as the reason
 *   POST /rest/<…>Event     stores the event (event-store.ts), once per eventId
 *   POST /rest/<other>      approves by echoing the body (answer, hangup, hold, sendMessage, OnCallEvent, …)
 *   GET  /history           the call history, built from the stored CallStatusEvents
 *   GET  /events[?method=]  the stored events
 *
 * Every hook request must carry a valid `X-Callhook-Signature` (the app's restSecret), checked with the SDK's
 * helper, which is callhook's own verifier: an unsigned request could otherwise ask for anyone's SIP password.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
// Outside this repository: import { SIGNATURE_HEADER, verifySignature } from '@callhook/sdk/node';
import { SIGNATURE_HEADER, verifySignature } from '../../sdk/src/node/index.ts';
import type { BackendData } from './config.ts';
import type { EventStore, StoredEvent } from './event-store.ts';
import { REST_CLIENT_CONFIG, findUser, isAllowedCallee, normalizeCallee, sipFieldsOf, tokenOf } from './policy.ts';

export interface BackendOptions {
  /** The app's `restSecret` in callhook (`callhook update app -s SECRET NAME`). */
  secret: string;
  data: BackendData;
  events: EventStore;
  /** One line per request; default console.log. */
  log?: (line: string) => void;
}

export interface Backend {
  readonly server: http.Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** One call as GET /history lists it. */
export interface CallRecord {
  callId: string;
  sessionId: string;
  caller?: string;
  callee?: string;
  incoming?: boolean;
  /** The last status reported. */
  status: string;
  info?: string;
  startedAt: number;
  /** When the call was first ESTABLISHED. */
  answeredAt?: number;
  /** When it reached FINISH, BUSY or FAILED. */
  endedAt?: number;
  statuses: Array<{ status: string; info?: string; at: number }>;
}

const HOOK_PREFIX = '/rest/';
const MAX_BODY_BYTES = 1 << 20;
const EVENTS = new Set(['ConnectionStatusEvent', 'RegistrationStatusEvent', 'CallStatusEvent', 'TransferStatusEvent', 'MessageStatusEvent', 'ErrorStatusEvent', 'CallDetailRecord']);
/** Decisions this backend has no opinion on: approved by answering 200 with what was received. */
const APPROVED = new Set(['answer', 'hangup', 'hold', 'unhold', 'transfer', 'sendDtmf', 'sendMessage', 'OnCallEvent', 'OnMessageEvent']);
const FINAL = new Set(['FINISH', 'BUSY', 'FAILED']);

interface Reply {
  status: number;
  body: unknown;
}

/** The one body shape callhook passes on as the reason (docs/hooks.md "The response"): nothing more, nothing less. */
const refuse = (status: number, reason: string): Reply => ({ status, body: { status, reason } });

class BadRequest extends Error {
  constructor(readonly reply: Reply) {
    super(String((reply.body as { reason: string }).reason));
  }
}

export function createBackend(options: BackendOptions): Backend {
  const log = options.log ?? ((line: string) => console.log(line));
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    handle(req)
      .catch((err: unknown) => {
        if (err instanceof BadRequest) return err.reply;
        log(`error: ${err instanceof Error ? err.stack : String(err)}`);
        return refuse(500, 'the backend failed; see its log');
      })
      .then((reply) => {
        log(`${req.method} ${req.url} → ${reply.status}`);
        res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(reply.body));
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://backend');
    if (req.method === 'GET' && url.pathname === '/history') {
      return { status: 200, body: { calls: callHistory(options.events.list('CallStatusEvent')) } };
    }
    if (req.method === 'GET' && url.pathname === '/events') {
      return { status: 200, body: { events: options.events.list(url.searchParams.get('method') ?? undefined) } };
    }
    if (!url.pathname.startsWith(HOOK_PREFIX)) return refuse(404, `no route ${req.method} ${url.pathname}`);
    if (req.method !== 'POST') return refuse(405, 'hooks are POST requests');
    const method = url.pathname.slice(HOOK_PREFIX.length);

    const raw = await readBody(req);
    const check = verifySignature(raw, req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined, options.secret);
    if (!check.ok) return refuse(403, `bad ${SIGNATURE_HEADER}: ${check.reason}`);
    const body = parseObject(raw);
    // `callhook check app` sends one probe per method; approve it so the check shows the route works.
    if (body['callhookProbe'] === true) return { status: 200, body };

    if (method === 'connect') return connect(body);
    if (method === 'call') return call(body);
    if (EVENTS.has(method)) return storeEvent(method, body);
    if (APPROVED.has(method)) return { status: 200, body };
    return refuse(404, `no handler for the hook ${method}`);
  }

  /** Authenticates by token and fills in the SIP account; the page never sent it and never gets it back. */
  function connect(body: Record<string, unknown>): Reply {
    const user = findUser(options.data, tokenOf(body['custom']));
    if (user === undefined) return refuse(403, 'Unknown or missing token');
    return { status: 200, body: { ...body, ...sipFieldsOf(user), restClientConfig: REST_CLIENT_CONFIG } };
  }

  function call(body: Record<string, unknown>): Reply {
    if (typeof body['callee'] !== 'string' || body['callee'].trim() === '') return refuse(403, 'No callee given');
    const callee = normalizeCallee(body['callee']);
    if (!isAllowedCallee(options.data, callee)) return refuse(403, `Calls to ${callee} are not allowed`);
    return { status: 200, body: { ...body, callee } };
  }

  async function storeEvent(method: string, body: Record<string, unknown>): Promise<Reply> {
    if (typeof body['eventId'] !== 'string') return refuse(400, `${method} has no eventId`);
    await options.events.add({ eventId: body['eventId'], method, receivedAt: Date.now(), body });
    return { status: 200, body };
  }

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest(refuse(413, `the body is over ${MAX_BODY_BYTES} bytes`)));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseObject(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BadRequest(refuse(400, 'the body is not JSON'));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequest(refuse(400, 'the body is not a JSON object'));
  return value as Record<string, unknown>;
}

/** Calls from their CallStatusEvents, in the order they started. */
export function callHistory(events: readonly StoredEvent[]): CallRecord[] {
  const calls = new Map<string, CallRecord>();
  for (const { body, receivedAt } of events) {
    const callId = body['callId'];
    const status = body['status'];
    if (typeof callId !== 'string' || typeof status !== 'string') continue;
    let record = calls.get(callId);
    if (record === undefined) {
      record = { callId, sessionId: String(body['sessionId']), status, startedAt: receivedAt, statuses: [] };
      calls.set(callId, record);
    }
    const info = typeof body['info'] === 'string' ? body['info'] : undefined;
    record.statuses.push({ status, ...(info !== undefined && { info }), at: receivedAt });
    record.status = status;
    if (info !== undefined) record.info = info;
    else delete record.info;
    for (const field of ['caller', 'callee'] as const) if (typeof body[field] === 'string') record[field] = body[field];
    if (typeof body['incoming'] === 'boolean') record.incoming = body['incoming'];
    if (status === 'ESTABLISHED' && record.answeredAt === undefined) record.answeredAt = receivedAt;
    if (FINAL.has(status)) record.endedAt = receivedAt;
  }
  return [...calls.values()];
}
