/**
 * The SIP MESSAGEs a session sent and still waits on (docs/client-protocol.md "Messages"): `sendMessage` goes out, the
 * server reports SENT and then ACCEPTED or FAILED (`notifyMessage`, or `fail` MessageStatusEvent naming the `id`),
 * and the promise of `session.sendMessage()` settles on that final status, on a timeout, or when the connection
 * goes. Incoming messages (RECEIVED) are the session's: nothing waits on them.
 */
import type { Channel } from './channel.ts';
import { CallhookError } from './errors.ts';
import { newId } from './ids.ts';
import type { MessageStatus, ServerMessage } from './protocol.ts';

export interface SendMessageOptions {
  /** A user name (`sip:<to>@<sipDomain>`), `user@host`, or a full `sip:`/`sips:`/`tel:` URI. */
  to: string;
  body: string;
  /** Default `text/plain`. */
  contentType?: string;
  /** The message's id in `messageStatus` events; default a new UUID. */
  id?: string;
  /** How long to wait for the final status; default 60000 (a SIP transaction times out after 32 s). */
  timeoutMs?: number;
}

/** A message the far end accepted (SIP 2xx). */
export interface MessageResult {
  id: string;
  status: 'ACCEPTED';
  info?: string;
  sipStatus?: number;
  message: ServerMessage;
}

/** Status of a message this session sent (SENT, then ACCEPTED or FAILED). */
export interface MessageStatusEvent {
  id: string;
  status: MessageStatus;
  info?: string;
  sipStatus?: number;
  message: ServerMessage;
}

const DEFAULT_MESSAGE_TIMEOUT_MS = 60_000;

interface PendingMessage {
  resolve(result: MessageResult): void;
  reject(error: CallhookError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The `messageStatus` event of a status report. */
export function messageStatusEvent(m: ServerMessage): MessageStatusEvent {
  const event: MessageStatusEvent = { id: m.id, status: m.status, message: m };
  if (m.info !== undefined) event.info = m.info;
  if (m.sipStatus !== undefined) event.sipStatus = m.sipStatus;
  return event;
}

export class SentMessages {
  readonly #pending = new Map<string, PendingMessage>();

  /**
   * Checks the options, then sends through the channel `open()` returns (it throws NOT_CONNECTED when there is
   * none); the promise settles at the final status. Every refusal is a rejection, never a throw.
   */
  send(options: SendMessageOptions, open: () => Channel): Promise<MessageResult> {
    return new Promise((resolve, reject) => {
      const bad = (what: string) => reject(new CallhookError('INVALID_ARGUMENT', `sendMessage: ${what}`));
      if (typeof options?.to !== 'string' || options.to.trim() === '') return bad('to must be a non-empty string');
      if (typeof options.body !== 'string') return bad('body must be a string');
      if (options.contentType !== undefined && (typeof options.contentType !== 'string' || options.contentType === '')) {
        return bad('contentType must be a media type such as text/plain');
      }
      const id = options.id ?? newId();
      if (typeof id !== 'string' || id === '') return bad('id must be a non-empty string');
      if (this.#pending.has(id)) return bad(`a message with id ${JSON.stringify(id)} is still waiting for its status`);
      const channel = open();
      const timeoutMs = options.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CallhookError('TIMEOUT', `sendMessage: no final status for message ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      const frame: Record<string, unknown> = { id, to: options.to, body: options.body };
      if (options.contentType !== undefined) frame['contentType'] = options.contentType;
      channel.send('sendMessage', frame);
    });
  }

  /** Whether a message with this id waits for its final status. */
  awaits(id: string): boolean {
    return this.#pending.has(id);
  }

  /** A status report: ACCEPTED resolves the message's promise, FAILED rejects it with MESSAGE_FAILED. */
  settle(m: ServerMessage): void {
    const pending = this.#pending.get(m.id);
    if (pending === undefined || (m.status !== 'ACCEPTED' && m.status !== 'FAILED')) return;
    this.#pending.delete(m.id);
    clearTimeout(pending.timer);
    if (m.status === 'ACCEPTED') {
      const result: MessageResult = { id: m.id, status: 'ACCEPTED', message: m };
      if (m.info !== undefined) result.info = m.info;
      if (m.sipStatus !== undefined) result.sipStatus = m.sipStatus;
      pending.resolve(result);
    } else {
      const details: { apiMethod: string; sipStatus?: number } = { apiMethod: 'MessageStatusEvent' };
      if (m.sipStatus !== undefined) details.sipStatus = m.sipStatus;
      pending.reject(new CallhookError('MESSAGE_FAILED', m.info ?? 'the message failed', details));
    }
  }

  /** The connection is gone (`info` says how): every message still waiting rejects with DISCONNECTED. */
  abandon(info: string): void {
    for (const [id, pending] of [...this.#pending]) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(new CallhookError('DISCONNECTED', `sendMessage: ${info} before message ${id} had a final status`));
    }
  }
}
