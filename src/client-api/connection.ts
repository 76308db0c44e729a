/**
 * One client WebSocket: frames in → gateway calls, gateway events → frames out. Nothing else happens here.
 *
 * States (docs/client-protocol.md "Endpoint"):
 *   AwaitingConnection → Connecting (the connect hook runs) → Established → Closed
 * The first frame must be `connection`; anything else first gets `fail` and the socket is closed. Later bad frames
 * get `fail` and the connection stays, except that repeated abuse (oversized frames, floods) closes it. Once the
 * server has decided to end a connection, frames still arriving on it are ignored.
 *
 * What it sends is bounded too: a client that stops reading would make the frames queued for it grow without end,
 * so past wsMaxSendQueueBytes or wsMaxSendQueueFrames the connection is closed like any other that is lost.
 */
import { WebSocket, type RawData } from 'ws';
import { RepeatedWarnings, type Logger } from '../log.ts';
import type { Gateway, Session } from '../gateway/index.ts';
import { CALL_STATUS_MESSAGE, encodeFrame, type CallStatus } from '../client-protocol/vocabulary.ts';
import { clientAddressOf, displayAddress } from '../gateway/ids.ts';
import type { ClientEndpoint, ClientEvent, ClientPort, OutgoingMessageRequest, SessionEndedBy } from '../gateway/types.ts';
import { decodeFrame, failFrame, FrameError, UNKNOWN, type ClientFrame, type FrameErrorCode } from './frames.ts';
import { TokenBucket } from '../token-bucket.ts';

export interface ConnectionLimits {
  /** config `wsMaxFrameBytes` */
  maxFrameBytes: number;
  /** config `wsMessagesPerSecond` */
  messagesPerSecond: number;
  /** config `wsMessagesPerSecondPerIp`: the rate of PeerShare.actions */
  messagesPerSecondPerIp: number;
  /** config `wsMaxMessagesInProgress` */
  maxMessagesInProgress: number;
  /** config `wsMaxSendQueueBytes` */
  maxSendQueueBytes: number;
  /** config `wsMaxSendQueueFrames` */
  maxSendQueueFrames: number;
}

/** What the connections from one IP address share. */
export interface PeerShare {
  /** Its client actions (wsMessagesPerSecondPerIp). */
  actions: TokenBucket;
  /** Its warnings, so that a flood over many connections is logged once, then counted. */
  warnings: RepeatedWarnings;
}

/** docs/client-protocol.md: a client silent for 3 ping intervals is disconnected. */
export const MAX_MISSED_PINGS = 3;
/** Abusive refused frames (CLOSING_ABUSE) tolerated in a burst; one more per second is forgiven. Beyond that: closed. */
const REFUSALS_BURST = 20;
const REFUSALS_PER_SECOND = 1;
/** Refusals that are a client's abuse, logged (once, then counted) for the operator. */
const ABUSE: ReadonlySet<FrameErrorCode> = new Set(['RATE_LIMITED', 'IP_RATE_LIMITED', 'TOO_MANY_IN_PROGRESS', 'FRAME_TOO_LARGE', 'JSON_TOO_DEEP']);
/**
 * Abuse of this connection's own limits, which closes it when repeated. The per-IP rate is not among them (clients
 * behind one NAT share it, and a neighbour's flood must not close the others), nor messages in progress (a slow
 * backend or SIP peer keeps them so, not the client).
 */
const CLOSING_ABUSE: ReadonlySet<FrameErrorCode> = new Set(['RATE_LIMITED', 'FRAME_TOO_LARGE', 'JSON_TOO_DEEP']);
/**
 * Keep-alive frames as SDK 2.0 and 1.x write them. They are never held to the per-IP rate, which is checked before a
 * frame is decoded (a flood must cost the server as little as possible), so they are recognised by their start.
 * (Any frame, even a refused one, keeps a connection alive; this only spares them a `fail`.)
 */
const KEEP_ALIVE = /^\s*\{\s*"message"\s*:\s*"p[io]ng"/;
/** Enough of a frame's start for KEEP_ALIVE. */
const KEEP_ALIVE_PREFIX = 64;
/** The keep-alive frame, the same for every client at every tick. */
const PING = encodeFrame('ping');
/** How long a client whose send queue overflowed has to take the close frame before its socket is dropped. */
const SEND_QUEUE_CLOSE_GRACE_MS = 1_000;

/** RFC 6455 §7.4.1 close codes (1013 from the IANA WebSocket Close Code Number Registry). */
const GOING_AWAY = 1001;
const POLICY_VIOLATION = 1008;
const INTERNAL_ERROR = 1011;
const TRY_AGAIN_LATER = 1013;

/** RFC 6455 §5.5: a control frame carries at most 125 bytes, 2 of them the close code. */
const MAX_CLOSE_REASON_BYTES = 123;

/** `info` as a close reason: cut to what a close frame holds, never inside a UTF-8 character. */
function closeReason(info: string): string {
  if (Buffer.byteLength(info) <= MAX_CLOSE_REASON_BYTES) return info;
  let cut = info.slice(0, MAX_CLOSE_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES - 3) cut = cut.slice(0, -1);
  // A surrogate pair cut in half would be sent as U+FFFD's three bytes: drop the orphan.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}...`;
}

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
  /** Made at the first refusal that counts (a bucket made then is as full as one made at connect): most clients never have one. */
  private refusals: TokenBucket | undefined;
  /** Made at the first warning, as `refusals`. */
  private warnings: RepeatedWarnings | undefined;
  /** Pings sent since the client last sent anything. */
  private missedPings = 0;
  /** Ticks seen before the `connection` message arrived. */
  private ticksAwaiting = 0;
  /** sendMessage requests without their final status yet (hook, SIP transaction): work the server holds for us. */
  private messagesInProgress = 0;
  /** Frames handed to ws and not yet written to the socket (ws counts their bytes, not them). */
  private queuedFrames = 0;
  /**
   * Why the server ended the connection, for ConnectionStatusEvent DISCONNECTED. Set as soon as the server decides
   * to end it: from then on the client's frames are ignored.
   */
  private closeInfo: string | undefined;
  /**
   * Who ends the session when the socket closes: the client (closed its tab, dropped the socket, stopped answering
   * pings) unless callhook closed it (a refusal, a full send queue, an error, the server stopping).
   */
  private closedBy: SessionEndedBy = 'client';
  private dropTimer: NodeJS.Timeout | undefined;
  private framesCheck: NodeJS.Immediate | undefined;

  /**
   * `peer` is what every connection from the same address shares; `onClosed` is called once the socket has closed
   * (a callback rather than a promise: a promise, its resolver and its reaction cost each of thousands of idle
   * connections some 200 bytes).
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly endpoint: ClientEndpoint,
    private readonly gateway: Gateway,
    private readonly limits: ConnectionLimits,
    private readonly peer: PeerShare,
    private readonly log: Logger,
    onClosed: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.frames = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond, now());
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('error', (err) => this.log.debug({ err }, 'client WebSocket error'));
    ws.on('close', (code) => {
      this.onClose(code);
      onClosed();
    });
  }

  /** Resolves once the socket has closed (the server's drain waits for it). */
  whenClosed(): Promise<void> {
    if (this.state === 'Closed') return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  deliver(event: ClientEvent): boolean {
    return this.send(frameOf(event));
  }

  /**
   * The gateway ends the session (it sent `fail` first): a refused connect, the admin or REST API terminating it, a
   * bug. The close frame's reason is `info`, so a client that only sees the close still learns the cause.
   */
  end(info: string): void {
    this.close(POLICY_VIOLATION, closeReason(info), info);
  }

  /** One tick of the server's keep-alive: ping, or end a client that stayed silent for MAX_MISSED_PINGS ticks. */
  tick(): void {
    if (this.state === 'Closed') return;
    if (this.missedPings >= MAX_MISSED_PINGS) {
      this.closeInfo ??= `Missed ${MAX_MISSED_PINGS} pings`;
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
    this.send(PING);
  }

  /** The server is stopping: close the socket and end the session now (without waiting for the handshake). */
  shutdown(): void {
    if (this.state === 'Closed') return;
    this.close(GOING_AWAY, 'server stopping', 'Server stopping');
    if (this.session) void this.gateway.detach(this.session, 'Server stopping', 'callhook');
  }

  /** For a server that stopped waiting for the close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Sends one frame if the socket is still open; false when it is not. */
  private send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.queuedFrames++;
    this.ws.send(text, this.written);
    if (this.ws.bufferedAmount > this.limits.maxSendQueueBytes) this.sendQueueFull();
    else if (this.queuedFrames > this.limits.maxSendQueueFrames) this.checkQueuedFramesSoon();
    return true;
  }

  /** ws calls back once a frame is written to the socket (or the socket has failed). */
  private readonly written = (): void => {
    this.queuedFrames--;
  };

  /**
   * Node reports even a write the kernel took at once on the next tick, so the frames sent in one burst (answers
   * to a chunk of many small frames) all look queued until then: count them once this turn's writes have settled.
   */
  private checkQueuedFramesSoon(): void {
    if (this.framesCheck !== undefined) return;
    this.framesCheck = setImmediate(() => {
      this.framesCheck = undefined;
      if (this.ws.readyState === WebSocket.OPEN && this.queuedFrames > this.limits.maxSendQueueFrames) this.sendQueueFull();
    });
  }

  /**
   * The client does not read what it is sent (or cannot keep up): close it, as lost, before its queue costs the
   * server more memory. Its close frame waits behind the queue, so a client still not reading is dropped shortly.
   */
  private sendQueueFull(): void {
    const queued = { bytes: this.ws.bufferedAmount, frames: this.queuedFrames };
    this.log.warn({ remote: clientAddressOf(this.endpoint), queued }, 'closing a client that does not read what it is sent (send queue full)');
    this.close(TRY_AGAIN_LATER, 'send queue full', 'Send queue full');
    this.dropTimer = setTimeout(() => this.ws.terminate(), SEND_QUEUE_CLOSE_GRACE_MS).unref();
  }

  private close(code: number, reason: string, info: string): void {
    if (this.closeInfo === undefined) this.closedBy = 'callhook';
    this.closeInfo ??= info;
    this.ws.close(code, reason);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.missedPings = 0;
    if (this.state === 'Closed' || this.closeInfo !== undefined) return;
    const now = this.now();
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
    let apiMethod = UNKNOWN;
    try {
      if (!this.frames.take(now)) {
        throw new FrameError('RATE_LIMITED', UNKNOWN, `more than ${this.limits.messagesPerSecond} messages per second: frame dropped`);
      }
      if (size > this.limits.maxFrameBytes) {
        throw new FrameError('FRAME_TOO_LARGE', UNKNOWN, `frame of ${size} bytes is over the limit of ${this.limits.maxFrameBytes} bytes`);
      }
      if (isBinary) throw new FrameError('BINARY_FRAME', UNKNOWN, 'binary frames are not part of the protocol: send JSON text');
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
      // Only an established session acts; before that, the only frame that counts is `connection`.
      if (this.state === 'Established' && !KEEP_ALIVE.test(text.slice(0, KEEP_ALIVE_PREFIX)) && !this.peer.actions.take(now)) {
        const from = displayAddress(clientAddressOf(this.endpoint));
        throw new FrameError('IP_RATE_LIMITED', UNKNOWN, `more than ${this.limits.messagesPerSecondPerIp} messages per second from ${from}: frame dropped`);
      }
      const frame = decodeFrame(text);
      apiMethod = frame.message;
      this.dispatch(frame);
    } catch (e) {
      if (e instanceof FrameError) this.refuse(e, now);
      else this.failed(e, apiMethod);
    }
  }

  private refuse(e: FrameError, now: number): void {
    if (this.state === 'AwaitingConnection') return this.refuseAndClose(e);
    this.send(failFrame(e.apiMethod, e.info, failExtra(e)));
    if (!ABUSE.has(e.code)) return;
    const remote = clientAddressOf(this.endpoint);
    const warnings = e.code === 'IP_RATE_LIMITED' ? this.peer.warnings : (this.warnings ??= new RepeatedWarnings(this.log));
    warnings.warn(e.code, { remote, reason: e.info }, 'refusing client frames');
    this.refusals ??= new TokenBucket(REFUSALS_PER_SECOND, REFUSALS_BURST, now);
    if (CLOSING_ABUSE.has(e.code) && !this.refusals.take(now)) {
      this.log.warn({ remote }, 'closing a client that keeps sending refused frames');
      this.close(POLICY_VIOLATION, 'too many refused frames', 'Too many refused frames');
    }
  }

  private refuseAndClose(e: FrameError): void {
    this.send(failFrame(e.apiMethod, e.info, failExtra(e)));
    this.close(POLICY_VIOLATION, 'expected connection', e.info);
  }

  /**
   * A frame that failed in a way no refusal foresees is a bug: the client hears `fail`, the error is logged with its
   * stack, and the connection (whose state is now unknown) ends as after an internal error. Never the process.
   */
  private failed(err: unknown, apiMethod: string): void {
    this.log.error({ err, remote: clientAddressOf(this.endpoint), apiMethod }, 'client frame failed unexpectedly');
    this.send(failFrame(apiMethod, 'Internal error'));
    this.close(INTERNAL_ERROR, 'internal error', 'Internal error');
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
            this.send(failFrame('ConnectionStatusEvent', 'Internal error'));
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
    if (this.state === 'Closed') void this.gateway.detach(session, this.closeInfo ?? 'Disconnected by the client', this.closedBy);
    else this.state = 'Established';
  }

  private established(frame: ClientFrame): void {
    switch (frame.message) {
      case 'connection':
        throw new FrameError('OUT_OF_ORDER', 'connection', 'connection: this connection is already established');
      case 'sendMessage':
        return this.sendMessage(frame.request);
      case 'notificationResult':
        return this.session!.acknowledge(frame.result);
      case 'call':
        this.session!.calls.place(frame.request);
        return;
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

  /**
   * Each message in progress holds its body and a hook or SIP transaction: a client may have only so many, or a
   * flood outpacing the backend would pile them up without bound.
   */
  private sendMessage(request: OutgoingMessageRequest): void {
    const max = this.limits.maxMessagesInProgress;
    if (this.messagesInProgress >= max) {
      throw new FrameError('TOO_MANY_IN_PROGRESS', 'sendMessage', `sendMessage: ${max} messages of this connection are still in progress: frame dropped`, request.id);
    }
    this.messagesInProgress++;
    // Session.sendMessage never rejects: it reports a failure as the message's status and logs a bug itself.
    void this.session!.sendMessage(request).finally(() => this.messagesInProgress--);
  }

  private onClose(code: number): void {
    this.state = 'Closed';
    clearTimeout(this.dropTimer);
    clearImmediate(this.framesCheck);
    this.warnings?.flush();
    const info = this.closeInfo ?? (code === 1000 || code === 1001 || code === 1005 ? 'Disconnected by the client' : `Connection lost (WebSocket close code ${code})`);
    if (this.session) void this.gateway.detach(this.session, info, this.closedBy);
  }
}
