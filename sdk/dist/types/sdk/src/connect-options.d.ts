/**
 * What `connect()` takes, and its check: every option is validated before a socket is opened, and a bad one is
 * an INVALID_ARGUMENT naming it.
 */
import type { WebSocketConstructor } from './channel.ts';
import type { SipOptions } from './connection-fields.ts';
import type { MediaOptions } from './media.ts';
import type { JsonValue } from './protocol.ts';
/** Reconnecting after an unexpected close: off unless given. */
export interface ReconnectPolicy {
    /** Attempts after each unexpected close before the session gives up (`failed`). */
    attempts: number;
    /** Wait before the first attempt, doubled after each failed one; default 1000. */
    delayMs?: number;
    /** The longest wait between attempts; default 30000. */
    maxDelayMs?: number;
}
export interface ConnectOptions {
    /** `ws://host:8080/` or `wss://host:8443/`. */
    url: string;
    /** The app whose REST hooks the server calls; default `defaultApp`. */
    appKey?: string;
    /** SIP account; every field may instead come from the backend's connect hook. */
    sip?: SipOptions;
    /** Anything JSON, passed to the connect hook (e.g. a token the backend checks). */
    custom?: JsonValue;
    /** How long to wait for the server to accept the connection; default 20000 (the connect hook may take 15 s). */
    timeoutMs?: number;
    /** Reconnect after an unexpected close; default off. */
    reconnect?: ReconnectPolicy;
    /** The WebSocket constructor; default the global one (browsers). In Node pass the `ws` package's. */
    WebSocket?: WebSocketConstructor;
    media?: MediaOptions;
}
export declare const DEFAULT_CONNECT_TIMEOUT_MS = 20000;
export declare const DEFAULT_RECONNECT_DELAY_MS = 1000;
export declare const DEFAULT_RECONNECT_MAX_DELAY_MS = 30000;
/** Checks the options; returns the WebSocket constructor to use. Throws INVALID_ARGUMENT naming a bad option. */
export declare function checkOptions(options: ConnectOptions): WebSocketConstructor;
