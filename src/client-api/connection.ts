/**
 * One client WebSocket: frames in → gateway calls, gateway events → frames out. Nothing else happens here.
 *
 * States (client-protocol.md "Endpoint and framing"):
 *   AwaitingConnection → Connecting (the connect hook runs) → Established → Closed
 * The first frame must be `connection`; anything else first gets `fail` and the socket is closed. Later bad frames
 * get `fail` and the connection stays, except that repeated abuse (oversized frames, floods) closes it.
 */
import { WebSocket, type RawData } from 'ws';
import type { Logger } from '../log.ts';
import type { Gateway, Session } from '../gateway/index.ts';
import { CALL_STATUS_MESSAGE, encodeFrame, type CallStatus } from '../client-protocol/vocabulary.ts';
import type { ClientEndpoint, ClientEvent, ClientPort } from '../gateway/types.ts';
import { decodeFrame, failFrame, FrameError, UNKNOWN, type ClientFrame } from './frames.ts';
import { TokenBucket } from '../token-bucket.ts';

export interface ConnectionLimits {
  /** config `wsMaxFrameBytes` */
  maxFrameBytes: number;
  /** config `wsMessagesPerSecond` */
  messagesPerSecond: number;
}

/** client-protocol.md: a client silent for 3 ping intervals is disconnected. */
export const MAX_MISSED_PINGS = 3;
/** Refused frames (size, rate) tolerated in a burst; one more per second is forgiven. Beyond that: closed. */
const REFUSALS_BURST = 20;
const REFUSALS_PER_SECOND = 1;

/** RFC 6455 §7.4.1 close codes. */
const GOING_AWAY = 1001;
const POLICY_VIOLATION = 1008;
const INTERNAL_ERROR = 1011;

type State = 'AwaitingConnection' | 'Connecting' | 'Established' | 'Closed';

function frameOf(event: ClientEvent): string {
  switch (event.type) {
    case 'established':
      return encodeFrame('getUserData', [event.userData]);
    case 'registered':
      return encodeFrame('registered', [event.event]);
    case 'failed': {
      const { apiMethod, info, ...extra } = event.failure;
      return failFrame(apiMethod, info, extra);
    }
    case 'message':
      return encodeFrame('notifyMessage', [event.message, event.notificationResult]);
    case 'remoteSdp':
      return encodeFrame('setRemoteSDP', [event.callId, event.sdp]);
    case 'callStatus':
      return encodeFrame(CALL_STATUS_MESSAGE[event.call['status'] as CallStatus] ?? 'ring', [event.call]);
    case 'incomingCall':
      return encodeFrame('notifyIncomingCall', [event.call]);
    case 'transfer':
      return encodeFrame('notifyTransferEvent', [event.event]);
  }
}

function failExtra(e: FrameError): Record<string, string> {
  return { ...(e.id !== undefined && { id: e.id }), ...(e.callId !== undefined && { callId: e.callId }) };
}

export class ClientConnection implements ClientPort {
  private state: State = 'AwaitingConnection';
  private session: Session | undefined;
  private readonly frames: TokenBucket;
  private readonly refusals: TokenBucket;
  /** Pings sent since the client last sent anything. */
  private missedPings = 0;
  /** Ticks seen before the `connection` message arrived. */
  private ticksAwaiting = 0;
  /** Why the server ended the connection, for ConnectionStatusEvent DISCONNECTED. */
  private closeInfo: string | undefined;
  readonly closed: Promise<void>;

  constructor(
    private readonly ws: WebSocket,
    private readonly endpoint: ClientEndpoint,
    private readonly gateway: Gateway,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.frames = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond, now());
    this.refusals = new TokenBucket(REFUSALS_PER_SECOND, REFUSALS_BURST, now());
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('error', (err) => this.log.debug({ err }, 'client WebSocket error'));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.onClose(code);
        resolve();
      });
    });
  }

  deliver(event: ClientEvent): boolean {
    return this.send(frameOf(event));
  }

  /** The gateway refused the connect (it sent `fail` first). */
  end(info: string): void {
    this.close(POLICY_VIOLATION, 'connect refused', info);
  }

  /** One tick of the server's keep-alive: ping, or end a client that stayed silent for MAX_MISSED_PINGS ticks. */
  tick(): void {
    if (this.state === 'Closed') return;
    if (this.missedPings >= MAX_MISSED_PINGS) {
      this.closeInfo = `Missed ${MAX_MISSED_PINGS} pings`;
      // The peer is gone or stuck: no close handshake to wait for.
      this.ws.terminate();
      return;
    }
    if (this.state === 'AwaitingConnection' && ++this.ticksAwaiting > 1) {
      // A socket that answers pings but never says `connection` holds a slot for nothing.
      this.refuseAndClose(new FrameError('OUT_OF_ORDER', UNKNOWN, 'no "connection" message within one ping interval'));
      return;
    }
    this.missedPings++;
    this.send(encodeFrame('ping'));
  }

  /** The server is stopping: close the socket and end the session now (without waiting for the handshake). */
  shutdown(): void {
    if (this.state === 'Closed') return;
    this.close(GOING_AWAY, 'server stopping', 'Server stopping');
    if (this.session) void this.gateway.detach(this.session, 'Server stopping');
  }

  /** For a server that stopped waiting for the close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Sends one frame if the socket is still open; false when it is not. */
  private send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  private close(code: number, reason: string, info: string): void {
    this.closeInfo ??= info;
    this.ws.close(code, reason);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.missedPings = 0;
    if (this.state === 'Closed') return;
    const now = this.now();
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
    try {
      if (!this.frames.take(now)) {
        throw new FrameError('RATE_LIMITED', UNKNOWN, `more than ${this.limits.messagesPerSecond} messages per second: frame dropped`);
      }
      if (size > this.limits.maxFrameBytes) {
        throw new FrameError('FRAME_TOO_LARGE', UNKNOWN, `frame of ${size} bytes is over the limit of ${this.limits.maxFrameBytes} bytes`);
      }
      if (isBinary) throw new FrameError('BINARY_FRAME', UNKNOWN, 'binary frames are not part of the protocol: send JSON text');
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
      this.dispatch(decodeFrame(text));
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      this.refuse(e, now);
    }
  }

  private refuse(e: FrameError, now: number): void {
    if (this.state === 'AwaitingConnection') return this.refuseAndClose(e);
    this.send(failFrame(e.apiMethod, e.info, failExtra(e)));
    const abuse = e.code === 'RATE_LIMITED' || e.code === 'FRAME_TOO_LARGE';
    if (abuse && !this.refusals.take(now)) {
      this.log.warn({ remote: this.endpoint.remoteAddress }, 'closing a client that keeps sending refused frames');
      this.close(POLICY_VIOLATION, 'too many refused frames', 'Too many refused frames');
    }
  }

  private refuseAndClose(e: FrameError): void {
    this.send(failFrame(e.apiMethod, e.info, failExtra(e)));
    this.close(POLICY_VIOLATION, 'expected connection', e.info);
  }

  private dispatch(frame: ClientFrame): void {
    if (frame.message === 'pong' || frame.message === 'ping') return; // liveness only (any frame counts)
    switch (this.state) {
      case 'AwaitingConnection':
        if (frame.message !== 'connection') {
          throw new FrameError('OUT_OF_ORDER', frame.message, `the first message must be "connection", not "${frame.message}"`);
        }
        this.state = 'Connecting';
        this.gateway.connect(this, this.endpoint, frame.connection).then(
          (session) => this.connected(session),
          (err: unknown) => {
            this.log.error({ err }, 'connect failed unexpectedly');
            this.close(INTERNAL_ERROR, 'internal error', 'Internal error');
          },
        );
        return;
      case 'Connecting':
        throw new FrameError('OUT_OF_ORDER', frame.message, `${frame.message}: the connection is not established yet (wait for getUserData)`);
      case 'Established':
        return this.established(frame);
      case 'Closed':
        return;
    }
  }

  private connected(session: Session | undefined): void {
    if (session === undefined) return; // refused: the gateway has sent `fail` and ended us
    this.session = session;
    // The client may have left while the connect hook ran.
    if (this.state === 'Closed') void this.gateway.detach(session, this.closeInfo ?? 'Disconnected by the client');
    else this.state = 'Established';
  }

  private established(frame: ClientFrame): void {
    switch (frame.message) {
      case 'connection':
        throw new FrameError('OUT_OF_ORDER', 'connection', 'connection: this connection is already established');
      case 'sendMessage':
        return this.session!.sendMessage(frame.request);
      case 'notificationResult':
        return this.session!.acknowledge(frame.result);
      case 'call':
        return this.session!.calls.place(frame.request);
      case 'answer':
        return this.session!.calls.answer(frame.request);
      case 'hangup':
        return this.session!.calls.hangup(frame.request);
      case 'hold':
      case 'unhold':
        return this.session!.calls.hold(frame.request, frame.message === 'hold');
      case 'sendDtmf':
        return this.session!.calls.sendDtmf(frame.request);
      case 'transfer':
        return this.session!.calls.transfer(frame.request);
    }
  }

  private onClose(code: number): void {
    this.state = 'Closed';
    const info = this.closeInfo ?? (code === 1000 || code === 1001 || code === 1005 ? 'Disconnected by the client' : `Connection lost (WebSocket close code ${code})`);
    if (this.session) void this.gateway.detach(this.session, info);
  }
}
