/**
 * One attempt to connect (docs/client-protocol.md "Connecting"): open the WebSocket, send `connection`, wait for
 * `getUserData`. The attempt fails with CONNECT_REFUSED and the server's reason on `fail` ConnectionStatusEvent,
 * with CONNECTION_FAILED when the socket cannot open or closes first, with TIMEOUT after `timeoutMs`, and with
 * DISCONNECTED when aborted; its socket is then closed. Once the server accepts, the socket's frames and its close
 * go to the handlers that `accepted` returns.
 */
import { Channel, type ChannelHandlers, type WebSocketConstructor } from './channel.ts';
import { type UserData } from './protocol.ts';
export interface AttemptOptions {
    url: string;
    WebSocket: WebSocketConstructor;
    /** data[0] of `connection`. */
    fields: Record<string, unknown>;
    timeoutMs: number;
    /** A text frame that is not a protocol frame, or a binary frame, at any time. */
    badFrame(description: string): void;
    /** The server accepted (the attempt has succeeded): whoever hears the socket from now on. */
    accepted(channel: Channel, userData: UserData): Pick<ChannelHandlers, 'frame' | 'closed'>;
}
export declare class ConnectionAttempt {
    #private;
    /** Resolves when the server accepted; rejects with a CallhookError saying why not. */
    readonly done: Promise<void>;
    constructor(o: AttemptOptions);
    /** Gives up (disconnect() while connecting): the attempt fails with DISCONNECTED. Nothing once it has settled. */
    abort(): void;
}
/** A close code and reason in words. */
export declare function closeText(code: number, reason: string): string;
