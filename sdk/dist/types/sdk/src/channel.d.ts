import { type ClientMessageName, type Frame } from './protocol.ts';
/** What the SDK uses of a WebSocket: the WHATWG API, which browsers and the `ws` package both implement. */
export interface WebSocketLike {
    readonly readyState: number;
    send(data: string): void;
    close(code?: number, reason?: string): void;
    /** `event` is the browser's (or ws's) event object: `{data}` for message, `{code, reason}` for close. */
    addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: unknown) => void): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;
export interface ChannelHandlers {
    frame(frame: Frame): void;
    /** A text frame that is not a protocol frame, or a binary frame. */
    badFrame(description: string): void;
    closed(code: number, reason: string): void;
}
export declare class Channel {
    #private;
    private readonly ws;
    private constructor();
    /**
     * Opens a WebSocket to `url`; resolves once it is open. Frames and the close are delivered to `handlers` from
     * then on, so nothing that arrives right after `open` is lost.
     */
    static open(url: string, WebSocket: WebSocketConstructor, handlers: ChannelHandlers): Promise<Channel>;
    get isOpen(): boolean;
    /**
     * Sends `{"message": message, "data": [arg]}`, as SDK 2.0 does: one argument, `[null]` when there is none.
     * False when the socket is no longer open.
     */
    send(message: ClientMessageName, arg?: unknown): boolean;
    /** Closes the socket (1000 by default) and waits, for at most 3 s, until it is closed. */
    close(code?: number, reason?: string): Promise<void>;
}
export declare function describe(err: unknown): string;
