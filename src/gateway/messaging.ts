/**
 * SIP MESSAGE (RFC 3428) between a session's client and the SIP side, with the WCS hooks around it
 * (docs/hooks.md: `sendMessage` direct, `MessageStatusEvent` event, `OnMessageEvent` incoming):
 *
 *   outgoing: client sendMessage → `sendMessage` hook → SENT → SIP MESSAGE → final response → ACCEPTED | FAILED
 *   incoming: SIP MESSAGE → `OnMessageEvent` hook (may rewrite body; refused → 403) → RECEIVED to the client → 200
 *
 * Statuses go to the client as `message` events (notifyMessage) and to the backend as MessageStatusEvent.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { HookContext, HookEngine, JsonObject } from '../hooks/types.ts';
import { describeResponse, readMessage, sendMessage, type IncomingRequest, type SipAccount, type UserAgent } from '../sip/ua/index.ts';
import { SipError, SipParseError } from '../sip/errors.ts';
import { formatUri } from '../sip/message/uri.ts';
import type { Uri } from '../sip/message/types.ts';
import { GatewayError } from './errors.ts';
import { isMediaType } from './media-type.ts';
import { resolveTarget } from './sip-settings.ts';
import { clientView, sipMessageRaw, withoutContext } from './views.ts';
import type { ClientEvent, MessageStatus, OutgoingMessageRequest } from './types.ts';

/** What messaging needs of its session. */
export interface MessagingHost {
  readonly ua: UserAgent;
  readonly hooks: HookEngine;
  readonly log: Logger;
  /** Whether a client is attached to receive what arrives. */
  readonly attached: boolean;
  /** `sipLogin`, the `from` of own messages (as SDK 1.x and WCS name it). */
  readonly sipLogin: string | undefined;
  hookContext(): HookContext;
  /** Throws GatewayError when the session has no usable SIP identity. */
  account(): SipAccount;
  deliver(event: ClientEvent): boolean;
}

export const DEFAULT_CONTENT_TYPE = 'text/plain';

interface StatusDetail {
  info?: string;
  sipStatus?: number;
}

/**
 * Reports a status of an own message: MessageStatusEvent to the backend, notifyMessage to the client (without
 * the fields that event's clientExclude names).
 */
function report(host: MessagingHost, message: JsonObject, status: MessageStatus, detail: StatusDetail = {}): void {
  const event = { ...message, status, ...detail };
  const { clientExclude } = host.hooks.emit('MessageStatusEvent', event, host.hookContext());
  host.deliver({ type: 'message', message: clientView(event, clientExclude), notificationResult: { id: message['id'] } });
}

/** A field of the message after the hook, which may have overwritten it with any JSON. */
function hookString(message: JsonObject, name: string, valid: (v: string) => boolean): string {
  const v = message[name];
  if (typeof v !== 'string' || !valid(v)) {
    throw new GatewayError('BAD_HOOK_ANSWER', `the sendMessage hook answered a bad ${name}: ${JSON.stringify(v)}`);
  }
  return v;
}

/** RFC 3261 §8.1.3.1: a transaction timeout is treated as 408, a transport failure as 503. */
function failureDetail(e: SipError): StatusDetail {
  if (e.code === 'SIP_TIMEOUT') return { info: `SIP 408 Request Timeout (${e.message})`, sipStatus: 408 };
  if (e.code === 'SIP_TRANSPORT') return { info: `SIP 503 Service Unavailable (${e.message})`, sipStatus: 503 };
  return { info: e.message };
}

/** A client's sendMessage, to its final status. Never rejects for expected failures: they become FAILED. */
export async function sendOutgoing(host: MessagingHost, req: OutgoingMessageRequest): Promise<void> {
  const request: JsonObject = {
    ...req.extra,
    id: req.id,
    from: host.sipLogin ?? '',
    to: req.to,
    body: req.body,
    contentType: req.contentType ?? DEFAULT_CONTENT_TYPE,
  };
  const decision = await host.hooks.invoke('sendMessage', request, host.hookContext());
  // The client finds its message by id: the backend may overwrite other fields, never that one.
  const message: JsonObject = { ...withoutContext(decision.body), id: req.id };
  if (!decision.ok && decision.refuse) {
    // docs/hooks.md, direct × restOnError FAIL: the message is not sent; `fail` for its event.
    host.deliver({ type: 'failed', failure: { apiMethod: 'MessageStatusEvent', info: decision.info, id: req.id } });
    host.hooks.emit('MessageStatusEvent', { ...message, status: 'FAILED', info: decision.info }, host.hookContext());
    return;
  }
  let account: SipAccount;
  let to: Uri;
  let body: string;
  let contentType: string;
  try {
    account = host.account();
    to = resolveTarget(hookString(message, 'to', (v) => v !== ''), account.aor);
    body = hookString(message, 'body', () => true);
    contentType = hookString(message, 'contentType', isMediaType);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    return report(host, message, 'FAILED', { info: e.message });
  }
  report(host, message, 'SENT');
  try {
    const response = await sendMessage(host.ua, account, { to, contentType, body: Buffer.from(body, 'utf8') });
    // RFC 3428 §7: a 2xx means the request was delivered (or accepted by a relay); anything else failed.
    const status = response.status >= 200 && response.status < 300 ? 'ACCEPTED' : 'FAILED';
    report(host, message, status, { info: describeResponse(response), sipStatus: response.status });
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    report(host, message, 'FAILED', failureDetail(e));
  }
}

/** A MESSAGE that arrived for the session's Contact, answered once the client has it (or refused). */
export async function receiveIncoming(host: MessagingHost, incoming: IncomingRequest): Promise<void> {
  // RFC 3261 §21.4.18: the callee's end system was contacted but the user is not available right now.
  if (!host.attached) return incoming.respond(480);
  let received;
  try {
    received = readMessage(incoming);
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return incoming.respond(400, e.reason);
  }
  const id = randomUUID();
  const event: JsonObject = {
    id,
    from: formatUri(received.from.uri),
    // As for an incoming call (./incoming-call.ts): the recipient is the session's own address of record, not the
    // Contact a PBX may have put in To; the Request-URI stays available.
    to: formatUri(host.account().aor),
    sipRequestUri: formatUri(incoming.message.uri),
    body: received.body.toString('utf8'),
    contentType: received.contentType,
    status: 'RECEIVED',
    sipMessageRaw: sipMessageRaw(incoming.received.raw),
  };
  if (received.from.displayName !== undefined) event['visibleName'] = received.from.displayName;
  const decision = await host.hooks.invoke('OnMessageEvent', event, host.hookContext());
  if (!decision.ok && decision.refuse) {
    // docs/hooks.md, incoming × restOnError FAIL: refuse the SIP request with 403, `fail` to the client.
    incoming.respond(403);
    host.deliver({ type: 'failed', failure: { apiMethod: 'MessageStatusEvent', info: decision.info, id } });
    return;
  }
  const message: JsonObject = { ...withoutContext(decision.body), id, status: 'RECEIVED' };
  if (typeof message['body'] !== 'string') {
    host.log.warn({ body: message['body'] }, 'OnMessageEvent hook answered a body that is not a string; the original is used');
    message['body'] = event['body'];
  }
  const delivered = host.attached && host.deliver({ type: 'message', message: clientView(message, decision.clientExclude), notificationResult: { id } });
  incoming.respond(delivered ? 200 : 480);
}
