/**
 * The SIP MESSAGEs a session sent and still waits on (docs/client-protocol.md "Messages"): `sendMessage` goes out, the
 * server reports SENT and then ACCEPTED or FAILED (`notifyMessage`, or `fail` MessageStatusEvent naming the `id`),
 * and the promise of `session.sendMessage()` settles on that final status, on a timeout, or when the connection
 * goes. Incoming messages (RECEIVED) are the session's: nothing waits on them.
 */
import type { Channel } from './channel.ts';
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
/** The `messageStatus` event of a status report. */
export declare function messageStatusEvent(m: ServerMessage): MessageStatusEvent;
export declare class SentMessages {
    #private;
    /**
     * Checks the options, then sends through the channel `open()` returns (it throws NOT_CONNECTED when there is
     * none); the promise settles at the final status. Every refusal is a rejection, never a throw.
     */
    send(options: SendMessageOptions, open: () => Channel): Promise<MessageResult>;
    /** Whether a message with this id waits for its final status. */
    awaits(id: string): boolean;
    /** A status report: ACCEPTED resolves the message's promise, FAILED rejects it with MESSAGE_FAILED. */
    settle(m: ServerMessage): void;
    /** The connection is gone (`info` says how): every message still waiting rejects with DISCONNECTED. */
    abandon(info: string): void;
}
