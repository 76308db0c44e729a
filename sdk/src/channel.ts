/**
 * One WebSocket to callhook, framed as the protocol says: JSON text frames both ways, `ping` answered with
 * `pong` here (a client silent for three pings is dropped by the server), everything else handed up as a Frame.
 * Browsers use their global WebSocket; elsewhere (Node, tests) the application passes a constructor with the same
 * API, e.g. the `ws` package's.
 */
import { CallhookError } from './errors.ts';
import { decodeFrame, encodeFrame, type ClientMessageName, type Frame } from './protocol.ts';

/** What the SDK uses of a WebSocket: the WHATWG API, which browsers and the `ws` package both implement. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `event` is the browser's (or ws's) event object: `{data}` for message, `{code, reason}` for close. */
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

interface CloseEventLike {
  code: number;
  reason: string;
}

/** WebSocket.OPEN and WebSocket.CLOSED of the WHATWG API (not read from the constructor: `ws` and browsers agree). */
const OPEN = 1;
const CLOSED = 3;
/** How long `close()` waits for the closing handshake before it stops waiting. */
const CLOSE_WAIT_MS = 3_000;

export interface ChannelHandlers {
  frame(frame: Frame): void;
  /** A text frame that is not a protocol frame, or a binary frame. */
  badFrame(description: string): void;
  closed(code: number, reason: string): void;
}

export class Channel {
  #closed: Promise<void>;
  #handlers: ChannelHandlers | undefined;

  private constructor(private readonly ws: WebSocketLike) {
    this.#closed = new Promise((resolve) => {
      ws.addEventListener('close', (event) => {
        const { code, reason } = event as CloseEventLike;
        resolve();
        this.#handlers?.closed(code, reason);
      });
    });
    ws.addEventListener('message', (event) => this.#receive((event as { data: unknown }).data));
  }

  /**
   * Opens a WebSocket to `url`; resolves once it is open. Frames and the close are delivered to `handlers` from
   * then on, so nothing that arrives right after `open` is lost.
   */
  static open(url: string, WebSocket: WebSocketConstructor, handlers: ChannelHandlers): Promise<Channel> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = new WebSocket(url);
      } catch (err) {
        reject(new CallhookError('CONNECTION_FAILED', `cannot open a WebSocket to ${url}: ${describe(err)}`, { cause: err }));
        return;
      }
      const channel = new Channel(ws);
      let settled = false;
      ws.addEventListener('open', () => {
        settled = true;
        channel.#handlers = handlers;
        resolve(channel);
      });
      // Browsers fire `error` with no detail and then `close` with the code: the code says more, so wait for it.
      // The listener must exist all the same: an EventEmitter-based WebSocket (`ws`) throws an unheard `error`.
      ws.addEventListener('error', () => undefined);
      ws.addEventListener('close', (event) => {
        if (settled) return;
        settled = true;
        const { code, reason } = event as CloseEventLike;
        const why = reason === '' ? `close code ${code}` : `close code ${code}: ${reason}`;
        reject(new CallhookError('CONNECTION_FAILED', `cannot connect to ${url} (${why})`));
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === OPEN;
  }

  /**
   * Sends `{"message": message, "data": [arg]}`, as SDK 2.0 does: one argument, `[null]` when there is none.
   * False when the socket is no longer open.
   */
  send(message: ClientMessageName, arg?: unknown): boolean {
    if (!this.isOpen) return false;
    this.ws.send(encodeFrame(message, [arg ?? null]));
    return true;
  }

  /** Closes the socket (1000 by default) and waits, for at most 3 s, until it is closed. */
  async close(code = 1000, reason = ''): Promise<void> {
    if (this.ws.readyState !== CLOSED) this.ws.close(code, reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  #receive(data: unknown): void {
    if (this.#handlers === undefined) return;
    if (typeof data !== 'string') {
      this.#handlers.badFrame('a binary frame (the protocol has only JSON text frames)');
      return;
    }
    const frame = decodeFrame(data);
    if (frame === undefined) {
      this.#handlers.badFrame(`a frame that is not {"message", "data"} JSON: ${data.slice(0, 120)}`);
      return;
    }
    if (frame.message === 'ping') {
      this.send('pong');
      return;
    }
    this.#handlers.frame(frame);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.name === 'Error' ? err.message : `${err.name}: ${err.message}`;
  return String(err);
}
