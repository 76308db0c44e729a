/**
 * What `connect()` takes, and its check: every option is validated before a socket is opened, and a bad one is
 * an INVALID_ARGUMENT naming it.
 */
import type { WebSocketConstructor } from './channel.ts';
import type { SipOptions } from './connection-fields.ts';
import { CallhookError } from './errors.ts';
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

export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
export const DEFAULT_RECONNECT_DELAY_MS = 1_000;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 30_000;

/** Checks the options; returns the WebSocket constructor to use. Throws INVALID_ARGUMENT naming a bad option. */
export function checkOptions(options: ConnectOptions): WebSocketConstructor {
  const bad = (what: string): never => {
    throw new CallhookError('INVALID_ARGUMENT', `connect: ${what}`);
  };
  if (typeof options !== 'object' || options === null) bad('options must be an object');
  if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
    bad(`url must be a ws:// or wss:// URL, got ${JSON.stringify(options.url)}`);
  }
  const positive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;
  if (options.timeoutMs !== undefined && !positive(options.timeoutMs)) bad('timeoutMs must be a positive number');
  const r = options.reconnect;
  if (r !== undefined) {
    if (!Number.isInteger(r.attempts) || r.attempts < 1) bad('reconnect.attempts must be an integer of at least 1');
    if (r.delayMs !== undefined && !positive(r.delayMs)) bad('reconnect.delayMs must be a positive number');
    if (r.maxDelayMs !== undefined && !positive(r.maxDelayMs)) bad('reconnect.maxDelayMs must be a positive number');
  }
  const WebSocket = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (WebSocket === undefined) bad('there is no global WebSocket here: pass options.WebSocket (in Node, the ws package)');
  return WebSocket as WebSocketConstructor;
}
