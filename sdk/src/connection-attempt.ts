/**
 * One attempt to connect (docs/client-protocol.md "Connecting"): open the WebSocket, send `connection`, wait for
 * `getUserData`. The attempt fails with CONNECT_REFUSED and the server's reason on `fail` ConnectionStatusEvent,
 * with CONNECTION_FAILED when the socket cannot open or closes first, with TIMEOUT after `timeoutMs`, and with
 * DISCONNECTED when aborted; its socket is then closed. Once the server accepts, the socket's frames and its close
 * go to the handlers that `accepted` returns.
 */
import { Channel, type ChannelHandlers, type WebSocketConstructor } from './channel.ts';
import { CallhookError } from './errors.ts';
import { asFailure, asObject, type UserData } from './protocol.ts';

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

export class ConnectionAttempt {
  /** Resolves when the server accepted; rejects with a CallhookError saying why not. */
  readonly done: Promise<void>;
  #settle: (error?: CallhookError) => void = () => undefined;

  constructor(o: AttemptOptions) {
    this.done = new Promise((resolve, reject) => {
      let channel: Channel | undefined;
      let handlers: Pick<ChannelHandlers, 'frame' | 'closed'> | undefined;
      let settled = false;
      this.#settle = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) {
          resolve();
          return;
        }
        if (channel !== undefined) void channel.close();
        reject(error);
      };
      const timer = setTimeout(
        () => this.#settle(new CallhookError('TIMEOUT', `the server did not accept the connection within ${o.timeoutMs} ms`)),
        o.timeoutMs,
      );

      Channel.open(o.url, o.WebSocket, {
        frame: (frame) => {
          if (handlers !== undefined) {
            handlers.frame(frame);
          } else if (frame.message === 'getUserData' && !settled && channel !== undefined) {
            this.#settle();
            handlers = o.accepted(channel, { ...asObject(frame.data[0]) } as UserData);
          } else if (frame.message === 'fail') {
            const failure = asFailure(frame.data[0]);
            if (failure.apiMethod === 'ConnectionStatusEvent') {
              this.#settle(new CallhookError('CONNECT_REFUSED', failure.info, { apiMethod: failure.apiMethod }));
            }
          }
        },
        badFrame: (description) => o.badFrame(description),
        closed: (code, reason) => {
          if (handlers !== undefined) {
            handlers.closed(code, reason);
            return;
          }
          this.#settle(new CallhookError('CONNECTION_FAILED', `the server closed the connection before accepting it (${closeText(code, reason)})`));
        },
      }).then(
        (opened) => {
          channel = opened;
          if (settled) {
            void opened.close();
            return;
          }
          opened.send('connection', o.fields);
        },
        (error: CallhookError) => this.#settle(error),
      );
    });
  }

  /** Gives up (disconnect() while connecting): the attempt fails with DISCONNECTED. Nothing once it has settled. */
  abort(): void {
    this.#settle(new CallhookError('DISCONNECTED', 'disconnected by the client while connecting'));
  }
}

/** A close code and reason in words. */
export function closeText(code: number, reason: string): string {
  return reason === '' ? `WebSocket close code ${code}` : `WebSocket close code ${code}: ${reason}`;
}
