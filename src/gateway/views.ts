/**
 * What of a hook body a client or a backend may see. Two rules hold for every client-bound object: the fields a
 * restClientConfig `clientExclude` names are left out, and the SIP password never leaves the server — whether the
 * client sent it or the connect hook supplied it (docs/client-protocol.md, getUserData).
 */
import { CONTEXT_FIELDS, type JsonObject } from '../hooks/types.ts';
import { redactSipText } from '../log.ts';
import type { SipMessage } from '../sip/message/message.ts';
import { messageText } from '../sip/message/serialize.ts';

const SECRET_FIELDS: readonly string[] = ['sipPassword'];

const CONTEXT = new Set<string>(CONTEXT_FIELDS);

/** The fields of the call object (docs/client-protocol.md "The call object and the status frames") besides status, info and the SIP ones. */
const CALL_OBJECT_FIELDS = [
  'callId', 'incoming', 'caller', 'callee', 'sipRequestUri', 'visibleName', 'hasAudio', 'hasVideo', 'mediaProvider', 'custom',
] as const;
/** The call object's `mediaProvider`: the browser side is always WebRTC. */
export const MEDIA_PROVIDER = 'WebRTC';

/** The call object's fields of a hook body or a client request. */
export function pickCallObject(fields: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const f of CALL_OBJECT_FIELDS) if (fields[f] !== undefined) out[f] = fields[f];
  return out;
}

/** The object without `exclude` and without the secret fields. */
export function clientView(body: JsonObject, exclude: readonly string[]): JsonObject {
  const out: JsonObject = { ...body };
  for (const f of exclude) delete out[f];
  for (const f of SECRET_FIELDS) delete out[f];
  return out;
}

/** The object without the context fields every hook body carries (nodeId, appKey, sessionId). */
export function withoutContext(body: JsonObject): JsonObject {
  // fromEntries defines fields: a backend's `__proto__` key stays a plain field instead of a prototype.
  return Object.fromEntries(Object.entries(body).filter(([k]) => !CONTEXT.has(k)));
}

/** The object without the secret fields: what events about the connection store in the outbox. */
export function withoutSecrets(body: JsonObject): JsonObject {
  return clientView(body, []);
}

/** A SIP message as `sipMessageRaw` shows it: its text (as received, when given as such), credentials redacted. */
export function sipMessageRaw(message: SipMessage | Buffer | string): string {
  const text = typeof message === 'string' ? message : Buffer.isBuffer(message) ? message.toString('utf8') : messageText(message);
  return redactSipText(text);
}
