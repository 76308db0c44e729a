/**
 * The frames of the WCS client protocol (docs/client-protocol.md): `{"message": <name>, "data": [...]}`
 * both ways. This module decodes and validates what a client sends (one zod schema per message) and encodes what
 * the server sends. Every refusal is a FrameError whose `info` names the message and what was wrong, ready for
 * a `fail` frame.
 */
import { z } from 'zod';
import { ExpectedError } from '../errors.ts';
import { DTMF_TYPES, encodeFrame, type ClientMessageName } from '../client-protocol/vocabulary.ts';
import { isMediaType } from '../gateway/media-type.ts';
import type {
  AnswerRequest, CallControlRequest, ConnectionRequest, DtmfRequest, OutgoingCallRequest, OutgoingMessageRequest,
  TransferRequest,
} from '../gateway/types.ts';
import type { JsonObject } from '../json/json-object.ts';
import { JsonDepthError, parseJsonLimited } from '../json/limited-parse.ts';

// ---------------------------------------------------------------------------------------------------- server

/** `fail` [{status:"FAILED", info, apiMethod, …}] */
export function failFrame(apiMethod: string, info: string, extra: JsonObject = {}): string {
  return encodeFrame('fail', [{ ...extra, status: 'FAILED', info, apiMethod }]);
}

// ---------------------------------------------------------------------------------------------------- client

/**
 * Why a client frame is refused. Unprefixed: these codes predate the LAYER_ rule and tests pin them
 * (docs/errors.md). The client sees `info` in a `fail` frame, never the code.
 */
export type FrameErrorCode =
  /** The frame is not JSON. */
  | 'NOT_JSON'
  /** JSON nested deeper than the limit (32 levels): refused before it is parsed. */
  | 'JSON_TOO_DEEP'
  /** Not an object with a `message` naming what it is. */
  | 'NO_MESSAGE'
  /** A `message` the protocol does not have. */
  | 'UNKNOWN_MESSAGE'
  /** The `data` of a known message fails its schema; `info` names the field. */
  | 'INVALID_DATA'
  /** A frame over the frame size limit (a client that keeps sending them is disconnected). */
  | 'FRAME_TOO_LARGE'
  /** More frames per second than the rate limit (a client that keeps sending them is disconnected). */
  | 'RATE_LIMITED'
  /** More frames per second from the client's IP address, over all its connections, than wsMessagesPerSecondPerIp. */
  | 'IP_RATE_LIMITED'
  /** More sendMessage requests waiting for their outcome than wsMaxMessagesInProgress. */
  | 'TOO_MANY_IN_PROGRESS'
  /** A binary WebSocket frame. */
  | 'BINARY_FRAME'
  /** A message before `connection`, a second `connection`, or no `connection` within one ping interval. */
  | 'OUT_OF_ORDER';

/**
 * A client frame that is refused: the client API's one error class. Its data are what the `fail` frame carries:
 * `apiMethod` is the message name, or "unknown" when there is none; `info` is the message.
 */
export class FrameError extends ExpectedError<FrameErrorCode> {
  constructor(
    code: FrameErrorCode,
    readonly apiMethod: string,
    readonly info: string,
    /** The `id` of a refused sendMessage, or the `callId` of a refused call message, so the client can tell which one. */
    readonly id?: string,
    readonly callId?: string,
  ) {
    super(code, info);
  }
}

/** The apiMethod of a frame whose message could not be read. */
export const UNKNOWN = 'unknown';

const MAX_FIELD = 1024;
const MAX_ID = 256;

const field = z.string().max(MAX_FIELD).optional();

/**
 * `connection` (SDK 2.0 sends the fields of docs/sdk-compatibility.md). Types are checked here; whether the sip*
 * values make a usable SIP account is decided after the connect hook, which may replace every one of them.
 * Unknown fields are kept: the connect hook gets all of them, as in WCS.
 */
const connectionSchema = z
  .object({
    appKey: z.string().max(MAX_ID).optional(),
    sipLogin: field,
    sipAuthenticationName: field,
    sipPassword: field,
    sipVisibleName: field,
    sipDomain: field,
    sipOutboundProxy: field,
    sipProxy: field,
    sipContactParams: field,
    sipTransport: z.enum(['udp', 'tcp', 'tls', 'UDP', 'TCP', 'TLS'], { error: 'must be udp, tcp or tls' }).optional(),
    // SDK 2.0's demo sends the port as typed into an input: a string, "" when left blank.
    sipPort: z
      .union([z.number().int().min(1).max(65535), z.string().regex(/^\s*\d{0,5}\s*$/, 'must be a port number (1-65535)')])
      .optional(),
    sipRegisterRequired: z.boolean().optional(),
    keepAlive: z.boolean().optional(),
    authToken: z.string().max(MAX_ID).optional(),
    mediaProviders: z.array(z.string().max(MAX_ID)).max(16).optional(),
    clientVersion: field,
    clientOSVersion: field,
    clientBrowserVersion: field,
  })
  .loose();

const sendMessageSchema = z
  .object({
    id: z.string().min(1).max(MAX_ID),
    to: z.string().min(1).max(MAX_FIELD),
    body: z.string(),
    contentType: z.string().refine(isMediaType, 'must be a media type such as text/plain').optional(),
  })
  .loose();

/** The notificationResult object the client got with a notifyMessage, sent back with `status: "OK"`. */
const notificationResultSchema = z.object({}).loose();

const callId = z.string().min(1).max(MAX_ID);
/** An SDP: bounded by the frame limit already, but never an empty string. */
const sdp = z.string().min(1);

/**
 * `call` (SDK 2.0: callId, callee, hasAudio, hasVideo, status, mediaProvider, sdp, sipSDP, caller, custom,
 * visibleName, localMediaInfo). `callee` may be absent when the `call` hook supplies it. `inviteParameters` (SDK
 * 1.x) become header fields of the INVITE.
 */
const callSchema = z
  .object({
    callId,
    callee: z.string().max(MAX_FIELD).optional(),
    sdp,
    hasAudio: z.boolean().optional(),
    hasVideo: z.boolean().optional(),
    visibleName: field,
    caller: field,
    inviteParameters: z.record(z.string().max(64), z.string().max(MAX_FIELD)).optional(),
  })
  .loose();

const answerSchema = z.object({ callId, sdp }).loose();

/** `hangup`, `hold` (`holdForTransfer?`), `unhold`. */
const callControlSchema = z.object({ callId, holdForTransfer: z.boolean().optional() }).loose();

const sendDtmfSchema = z.object({
  callId,
  dtmf: z.string().regex(/^[0-9*#A-Da-d]{1,64}$/, 'must be DTMF digits 0-9, *, #, A-D'),
  type: z.enum(DTMF_TYPES, { error: 'must be RFC2833, INFO or INFO_RELAY' }).optional(),
});

const transferSchema = z.object({ callId, target: z.string().min(1).max(MAX_FIELD) });

/** What a valid frame of each client message carries (the compiler holds the keys to the protocol's messages). */
interface ClientFrameFields {
  connection: { connection: ConnectionRequest };
  sendMessage: { request: OutgoingMessageRequest };
  notificationResult: { result: JsonObject };
  call: { request: OutgoingCallRequest };
  answer: { request: AnswerRequest };
  hangup: { request: CallControlRequest };
  hold: { request: CallControlRequest };
  unhold: { request: CallControlRequest };
  sendDtmf: { request: DtmfRequest };
  transfer: { request: TransferRequest };
  ping: Record<never, never>;
  pong: Record<never, never>;
}

/** What the rest of the client API gets out of a valid frame. */
export type ClientFrame = { [M in ClientMessageName]: { message: M } & ClientFrameFields[M] }[ClientMessageName];

/** `data` without top-level nulls: a client's `"sipPassword": null` means "not given", like an absent field. */
function withoutNulls(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** zod's issue in words for a person reading a `fail`: `is required`, `must be a string`, … */
function describeIssue(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${article(iss.expected === 'int' ? 'integer' : iss.expected)}`;
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `must have at least ${iss.minimum} characters`;
      return `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `must have at most ${iss.maximum} characters`;
      if (iss.origin === 'array') return `must have at most ${iss.maximum} items`;
      return `must be at most ${iss.maximum}`;
    default:
      return undefined; // the schema's own message (e.g. a regex's), else zod's
  }
}

function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'data[0]';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** One options object for every frame's parse (decoding is per frame: no allocation for it). */
const PARSE_OPTIONS = { error: describeIssue };

function validate<T>(schema: z.ZodType<T>, message: string, value: unknown): T {
  const result = schema.safeParse(value, PARSE_OPTIONS);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${pathText(i.path)} ${i.message}`);
  const object = typeof value === 'object' && value !== null ? (value as JsonObject) : {};
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  throw new FrameError('INVALID_DATA', message, `${message}: ${problems.join('; ')}`, text(object['id']), text(object['callId']));
}

function omit(obj: JsonObject, keys: readonly string[]): JsonObject {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)));
}

/** Decodes one text frame of a client; throws FrameError. */
export function decodeFrame(text: string): ClientFrame {
  let parsed: unknown;
  try {
    // Depth-limited: zod, the hooks' JSON.stringify and the logger all walk a frame's values recursively.
    parsed = parseJsonLimited(text);
  } catch (e) {
    if (e instanceof JsonDepthError) throw new FrameError('JSON_TOO_DEEP', UNKNOWN, `frame nests JSON deeper than the limit of ${e.maxDepth} levels`);
    throw new FrameError('NOT_JSON', UNKNOWN, `frame is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FrameError('NO_MESSAGE', UNKNOWN, 'frame must be a JSON object {"message": <name>, "data": [...]}');
  }
  const { message, data } = parsed as { message?: unknown; data?: unknown };
  if (typeof message !== 'string' || message === '') {
    throw new FrameError('NO_MESSAGE', UNKNOWN, 'frame has no "message" naming what it is');
  }
  // SDK 1.x leaves `data` out when its argument is null; anything else must be the array of the envelope.
  if (data !== undefined && !Array.isArray(data)) throw new FrameError('INVALID_DATA', message, `${message}: "data" must be an array`);
  const first: unknown = data?.[0];
  switch (message) {
    case 'connection':
      return { message, connection: validate(connectionSchema, message, withoutNulls(first)) as ConnectionRequest };
    case 'sendMessage': {
      const m = validate(sendMessageSchema, message, first);
      const request: OutgoingMessageRequest = { id: m.id, to: m.to, body: m.body, extra: omit(m, ['id', 'to', 'body', 'contentType']) };
      if (m.contentType !== undefined) request.contentType = m.contentType;
      return { message, request };
    }
    case 'notificationResult':
      return { message, result: validate(notificationResultSchema, message, first) };
    case 'call': {
      const c = validate(callSchema, message, first);
      const request: OutgoingCallRequest = { callId: c.callId, sdp: c.sdp, extra: omit(c, ['callId', 'callee', 'sdp', 'inviteParameters']) };
      if (c.callee !== undefined) request.callee = c.callee;
      if (c.inviteParameters !== undefined) request.inviteParameters = c.inviteParameters;
      return { message, request };
    }
    case 'answer': {
      const a = validate(answerSchema, message, first);
      return { message, request: { callId: a.callId, sdp: a.sdp, extra: omit(a, ['callId', 'sdp']) } };
    }
    case 'hangup':
    case 'hold':
    case 'unhold': {
      const c = validate(callControlSchema, message, first);
      return { message, request: { callId: c.callId, extra: omit(c, ['callId']) } };
    }
    case 'sendDtmf': {
      const d = validate(sendDtmfSchema, message, first);
      // SDK 2.0 defaults the type to RFC2833 itself; a client that leaves it out means the same.
      return { message, request: { callId: d.callId, dtmf: d.dtmf, type: d.type ?? 'RFC2833' } };
    }
    case 'transfer': {
      const t = validate(transferSchema, message, first);
      return { message, request: { callId: t.callId, target: t.target } };
    }
    case 'pong':
    case 'ping':
      return { message };
    default:
      throw new FrameError('UNKNOWN_MESSAGE', message.slice(0, 64), `unknown message ${JSON.stringify(message.slice(0, 64))}`);
  }
}
