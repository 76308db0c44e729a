/**
 * A connection to callhook: `connect()` opens the WebSocket, sends `connection`, and resolves with the Session
 * once the server answers `getUserData` (its connect hook approved); it rejects with the server's reason when the
 * server answers `fail` instead. The session then routes every server frame to its event, call or message.
 *
 * Status: PENDING → ESTABLISHED → DISCONNECTED | FAILED. With a reconnect policy an unexpected close goes
 * DISCONNECTED → PENDING → ESTABLISHED again (a new server session: calls do not survive it, SIP registration is
 * redone by the server as the connection asks).
 */
import { Call, type AnswerOptions, type CallHost, type CallOptions, type TransferEvent, type Warning } from './call.ts';
import { Channel, type WebSocketConstructor } from './channel.ts';
import { connectionFields, type SipOptions } from './connection-fields.ts';
import { Emitter } from './emitter.ts';
import { CallhookError } from './errors.ts';
import { newId } from './ids.ts';
import type { MediaOptions } from './media.ts';
import {
  CALL_MESSAGES,
  CALL_STATUSES,
  type ConnectionStatus,
  type Frame,
  type JsonValue,
  type MessageStatus,
  type RegistrationStatus,
  type ServerCall,
  type ServerFailure,
  type ServerMessage,
  type TransferStatus,
  type UserData,
} from './protocol.ts';

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

export interface EstablishedEvent {
  /** The connection as the server holds it after the connect hook (never with the password). */
  userData: UserData;
  /** True after a reconnect. */
  reconnected: boolean;
}

export interface RegistrationEvent {
  status: RegistrationStatus;
  /** `SIP 200 OK`, `SIP 403 Forbidden`, `no SIP identity: sipDomain is not set`, … */
  info: string;
  sipMessageRaw?: string;
}

export interface DisconnectedEvent {
  /** The WebSocket close code. */
  code: number;
  /** What happened, in words (`Connection lost (WebSocket close code 1006)`, `Disconnected by the client`). */
  info: string;
  /** `session.disconnect()` was called. */
  byClient: boolean;
  /** A reconnect attempt follows (reconnect policy). */
  willReconnect: boolean;
}

export interface FailedEvent {
  /** The server's reason when it refused the connection; else why reconnecting gave up. */
  info: string;
}

/** Status of a message this session sent (SENT, then ACCEPTED or FAILED). */
export interface MessageStatusEvent {
  id: string;
  status: MessageStatus;
  info?: string;
  sipStatus?: number;
  message: ServerMessage;
}

export interface SessionEvents {
  established: EstablishedEvent;
  registered: RegistrationEvent;
  registrationFailed: RegistrationEvent;
  disconnected: DisconnectedEvent;
  failed: FailedEvent;
  incomingCall: Call;
  /** An incoming SIP MESSAGE (status RECEIVED); `from` is the sender's URI. */
  message: ServerMessage;
  messageStatus: MessageStatusEvent;
  /** A `fail` from the server that concerns no call or message of this session (bad frame, ErrorStatusEvent). */
  warning: Warning;
}

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

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_MESSAGE_TIMEOUT_MS = 60_000;
const DEFAULT_RECONNECT_DELAY_MS = 1_000;
const DEFAULT_RECONNECT_MAX_DELAY_MS = 30_000;
/** 1008 (policy violation) is how the server closes after refusing a client: reconnecting would be refused too. */
const CLOSE_POLICY = 1008;
/** Offers (setRemoteSDP) kept for incoming calls not yet announced; older ones are dropped beyond this. */
const MAX_PENDING_OFFERS = 16;

interface PendingMessage {
  resolve(result: MessageResult): void;
  reject(error: CallhookError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Connects to callhook; resolves once the server has accepted the connection (`getUserData`). */
export function connect(options: ConnectOptions): Promise<Session> {
  return Session._connect(options);
}

export class Session extends Emitter<SessionEvents> {
  readonly #options: ConnectOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #callHost: CallHost;
  #channel: Channel | undefined;
  #status: ConnectionStatus = 'PENDING';
  #registration: RegistrationStatus = 'UNREGISTERED';
  #userData: UserData | undefined;
  readonly #calls = new Map<string, Call>();
  readonly #offers = new Map<string, string>();
  readonly #pending = new Map<string, PendingMessage>();
  #closedByClient = false;
  /** Stops a connection attempt or the wait before one (disconnect() during reconnecting). */
  #abortAttempt: (() => void) | undefined;

  private constructor(options: ConnectOptions, WebSocket: WebSocketConstructor) {
    super();
    this.#options = options;
    this.#WebSocket = WebSocket;
    this.#callHost = {
      media: options.media ?? {},
      send: (message, arg) => this.#channel?.send(message, arg) ?? false,
      ended: (call) => {
        if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
      },
    };
  }

  /** @internal Use `connect()`. */
  static async _connect(options: ConnectOptions): Promise<Session> {
    const WebSocket = checkOptions(options);
    const session = new Session(options, WebSocket);
    await session.#establish(false);
    return session;
  }

  get url(): string {
    return this.#options.url;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get registration(): RegistrationStatus {
    return this.#registration;
  }

  /** The server's `getUserData` of the current connection. */
  get userData(): UserData | undefined {
    return this.#userData;
  }

  /** The id the backend sees in every hook of this connection. */
  get sessionId(): string | undefined {
    return this.#userData?.sessionId;
  }

  /** The calls that have not ended. */
  get calls(): readonly Call[] {
    return [...this.#calls.values()];
  }

  /**
   * Places a call. Returns at once; the microphone, the offer and the `call` frame follow, and the call's `status`
   * events tell the rest (a failure ends it with FAILED and the reason in `info`).
   */
  call(options: CallOptions): Call {
    if (typeof options?.callee !== 'string' || options.callee.trim() === '') {
      throw new CallhookError('INVALID_ARGUMENT', 'call: callee must be a non-empty string');
    }
    this.#assertEstablished('call');
    const data: ServerCall = { callId: newId(), status: 'PENDING', incoming: false, callee: options.callee };
    const caller = this.#userData?.sipLogin;
    if (caller !== undefined) data.caller = caller;
    const call = new Call(this.#callHost, data);
    this.#calls.set(call.id, call);
    void call._place(options, caller);
    return call;
  }

  /**
   * Answers an incoming call: opens the microphone, answers the server's offer, sends `answer`. Resolves when
   * the answer is sent (the status then becomes ESTABLISHED); rejects, and ends the call, when that fails.
   */
  answer(call: Call, options: AnswerOptions = {}): Promise<void> {
    if (this.#calls.get(call?.id) !== call) {
      return Promise.reject(new CallhookError('INVALID_ARGUMENT', 'answer: not a live call of this session'));
    }
    return call._answer(options);
  }

  /**
   * Sends a SIP MESSAGE. Resolves when the far end accepted it (ACCEPTED); rejects with CallhookError
   * MESSAGE_FAILED, whose `info` is the server's reason (`SIP 404 Not Found`, a backend's refusal), when it failed.
   */
  sendMessage(options: SendMessageOptions): Promise<MessageResult> {
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
      if (this.#status !== 'ESTABLISHED' || this.#channel === undefined) {
        return reject(new CallhookError('NOT_CONNECTED', `sendMessage: the session is ${this.#status}`));
      }
      const timeoutMs = options.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CallhookError('TIMEOUT', `sendMessage: no final status for message ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      const frame: Record<string, unknown> = { id, to: options.to, body: options.body };
      if (options.contentType !== undefined) frame['contentType'] = options.contentType;
      this.#channel.send('sendMessage', frame);
    });
  }

  /**
   * Closes the connection: the server ends every call, unregisters and tells the backend. Calls end here with
   * FINISH, messages still waiting reject with DISCONNECTED. Stops reconnecting. Safe to call twice.
   */
  async disconnect(): Promise<void> {
    if (this.#closedByClient) return;
    this.#closedByClient = true;
    const reconnecting = this.#abortAttempt !== undefined;
    this.#abortAttempt?.();
    const channel = this.#channel;
    this.#channel = undefined;
    const info = 'Disconnected by the client';
    this.#teardown('FINISH', info);
    this.#registration = 'UNREGISTERED';
    if (channel === undefined && !reconnecting) return; // already closed (or failed): nothing more to report
    await channel?.close(1000);
    this.#status = 'DISCONNECTED';
    this.emit('disconnected', { code: 1000, info, byClient: true, willReconnect: false });
  }

  // ------------------------------------------------------------------------------------------------- connecting

  /** Opens a channel and sends `connection`; resolves at `getUserData`, rejects with the reason otherwise. */
  #establish(reconnected: boolean): Promise<void> {
    const { url } = this.#options;
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let channel: Channel | undefined;
      let settled = false;
      const settle = (error?: CallhookError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#abortAttempt = undefined;
        if (error === undefined) {
          resolve();
          return;
        }
        if (channel !== undefined) void channel.close();
        reject(error);
      };
      const timer = setTimeout(
        () => settle(new CallhookError('TIMEOUT', `the server did not accept the connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#abortAttempt = () => settle(new CallhookError('DISCONNECTED', 'disconnected by the client while connecting'));

      Channel.open(url, this.#WebSocket, {
        frame: (frame) => {
          if (channel !== undefined && this.#channel === channel) {
            this.#frame(frame);
          } else if (frame.message === 'getUserData' && !settled) {
            this.#channel = channel;
            this.#status = 'ESTABLISHED';
            this.#registration = 'UNREGISTERED';
            this.#userData = { ...asObject(frame.data[0]) } as UserData;
            settle();
            this.emit('established', { userData: this.#userData, reconnected });
          } else if (frame.message === 'fail') {
            const failure = asFailure(frame.data[0]);
            if (failure.apiMethod === 'ConnectionStatusEvent') {
              settle(new CallhookError('CONNECT_REFUSED', failure.info, { apiMethod: failure.apiMethod }));
            }
          }
        },
        badFrame: (description) => this.#warn('unknown', `the server sent ${description}`),
        closed: (code, reason) => {
          if (channel !== undefined && this.#channel === channel) {
            this.#lost(code, reason);
            return;
          }
          settle(new CallhookError('CONNECTION_FAILED', `the server closed the connection before accepting it (${closeText(code, reason)})`));
        },
      }).then(
        (opened) => {
          channel = opened;
          if (settled) {
            void opened.close();
            return;
          }
          const userAgent = typeof navigator === 'undefined' ? undefined : navigator.userAgent;
          opened.send('connection', connectionFields(this.#options, userAgent));
        },
        (error: CallhookError) => settle(error),
      );
    });
  }

  /** The established channel closed without `disconnect()`. */
  #lost(code: number, reason: string): void {
    this.#channel = undefined;
    const info = `Connection lost (${closeText(code, reason)})`;
    this.#teardown('FAILED', info);
    this.#registration = 'UNREGISTERED';
    if (this.#status === 'FAILED') return; // the server refused the connection: `failed` has been emitted
    const policy = this.#options.reconnect;
    const willReconnect = policy !== undefined && code !== CLOSE_POLICY;
    this.#status = 'DISCONNECTED';
    this.emit('disconnected', { code, info, byClient: false, willReconnect });
    if (policy !== undefined && willReconnect) void this.#reconnect(policy, info);
  }

  async #reconnect(policy: ReconnectPolicy, lastInfo: string): Promise<void> {
    let delay = policy.delayMs ?? DEFAULT_RECONNECT_DELAY_MS;
    let info = lastInfo;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      await this.#wait(delay);
      if (this.#closedByClient) return;
      this.#status = 'PENDING';
      try {
        await this.#establish(true);
        return;
      } catch (err) {
        if (this.#closedByClient) return;
        const error = err as CallhookError;
        this.#status = 'DISCONNECTED';
        if (error.code === 'CONNECT_REFUSED') {
          this.#fail(error.info);
          return;
        }
        info = error.info;
      }
      delay = Math.min(delay * 2, policy.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS);
    }
    this.#fail(`${info} (gave up after ${policy.attempts} reconnect attempts)`);
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#abortAttempt = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#abortAttempt = done;
    });
  }

  #fail(info: string): void {
    this.#status = 'FAILED';
    this.emit('failed', { info });
  }

  /** Ends the calls and the waiting messages of a connection that is gone. */
  #teardown(callStatus: 'FINISH' | 'FAILED', info: string): void {
    for (const call of [...this.#calls.values()]) call._end(callStatus, info);
    this.#calls.clear();
    this.#offers.clear();
    for (const [id, pending] of [...this.#pending]) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(new CallhookError('DISCONNECTED', `sendMessage: ${info} before message ${id} had a final status`));
    }
  }

  #assertEstablished(what: string): void {
    if (this.#status !== 'ESTABLISHED' || this.#channel === undefined) {
      throw new CallhookError('NOT_CONNECTED', `${what}: the session is ${this.#status}`);
    }
  }

  // ----------------------------------------------------------------------------------------------- server frames

  #frame(frame: Frame): void {
    const first = frame.data[0];
    switch (frame.message) {
      case 'registered': {
        const o = asObject(first);
        this.#registration = 'REGISTERED';
        this.emit('registered', registrationEvent('REGISTERED', o, 'registered'));
        return;
      }
      case 'fail':
        this.#routeFailure(asFailure(first));
        return;
      case 'notifyMessage':
        this.#notifyMessage(asObject(first), asObject(frame.data[1]));
        return;
      case 'setRemoteSDP':
        this.#remoteSdp(frame.data[0], frame.data[1]);
        return;
      case 'notifyTryingResponse':
      case 'ring':
      case 'talk':
      case 'hold':
      case 'finish': {
        const call = asCall(first);
        if (call !== undefined) this.#calls.get(call.callId)?._serverStatus(call);
        return;
      }
      case 'notifyIncomingCall':
        this.#incomingCall(asCall(first));
        return;
      case 'notifyTransferEvent': {
        const o = asObject(first);
        const status = o['status'];
        if (typeof o['callId'] === 'string' && typeof status === 'string') {
          const event: TransferEvent = { status: status as TransferStatus };
          if (typeof o['info'] === 'string') event.info = o['info'];
          this.#calls.get(o['callId'])?._transfer(event);
        }
        return;
      }
      default:
        // getUserData again, and messages of WCS features callhook does not have: nothing to do.
        return;
    }
  }

  /**
   * A `fail`, to whatever it concerns: the connection, the registration, a message by `id`, a call by `callId`.
   * A refused `call` without a callId (a frame the server could not read) goes to the oldest call still waiting
   * for its first answer: the server answers frames in order. Anything else is a session warning.
   */
  #routeFailure(failure: ServerFailure): void {
    const { apiMethod, info } = failure;
    if (apiMethod === 'ConnectionStatusEvent') {
      this.#fail(info);
      return;
    }
    if (apiMethod === 'RegistrationStatusEvent') {
      this.#registration = 'FAILED';
      this.emit('registrationFailed', registrationEvent('FAILED', failure, info));
      return;
    }
    if (failure.id !== undefined && this.#pending.has(failure.id)) {
      const message: ServerMessage = { id: failure.id, status: 'FAILED', info };
      this.emit('messageStatus', { id: failure.id, status: 'FAILED', info, message });
      this.#settleMessage(message);
      return;
    }
    const call =
      failure.callId !== undefined
        ? this.#calls.get(failure.callId)
        : apiMethod === 'call'
          ? [...this.#calls.values()].find((c) => c._awaitingReply)
          : undefined;
    if (call !== undefined && (CALL_MESSAGES.has(apiMethod) || apiMethod === 'CallStatusEvent' || apiMethod === 'TransferStatusEvent')) {
      call._fail(failure);
      return;
    }
    const warning: Warning = { apiMethod, info };
    if (failure.callId !== undefined) warning.callId = failure.callId;
    if (failure.id !== undefined) warning.id = failure.id;
    this.emit('warning', warning);
  }

  #notifyMessage(message: Record<string, unknown>, notificationResult: Record<string, unknown>): void {
    if (typeof message['id'] !== 'string' || typeof message['status'] !== 'string') return;
    const m = message as ServerMessage;
    if (m.status === 'RECEIVED') {
      this.emit('message', m);
      // Acknowledged as SDK 1.x does: the notificationResult it came with, status OK.
      this.#channel?.send('notificationResult', { ...notificationResult, status: 'OK' });
      return;
    }
    const event: MessageStatusEvent = { id: m.id, status: m.status, message: m };
    if (m.info !== undefined) event.info = m.info;
    if (m.sipStatus !== undefined) event.sipStatus = m.sipStatus;
    this.emit('messageStatus', event);
    this.#settleMessage(m);
  }

  #settleMessage(m: ServerMessage): void {
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

  #remoteSdp(callId: unknown, sdp: unknown): void {
    if (typeof callId !== 'string' || typeof sdp !== 'string') return;
    const call = this.#calls.get(callId);
    if (call !== undefined) {
      call._remoteSdp(sdp);
      return;
    }
    // An incoming call's offer comes before notifyIncomingCall.
    this.#offers.delete(callId);
    this.#offers.set(callId, sdp);
    for (const oldest of this.#offers.keys()) {
      if (this.#offers.size <= MAX_PENDING_OFFERS) break;
      this.#offers.delete(oldest);
    }
  }

  #incomingCall(data: ServerCall | undefined): void {
    if (data === undefined) return;
    if (this.#calls.has(data.callId)) {
      this.#warn('notifyIncomingCall', `a second notifyIncomingCall for call ${data.callId} was ignored`);
      return;
    }
    const offer = this.#offers.get(data.callId);
    this.#offers.delete(data.callId);
    const call = new Call(this.#callHost, { ...data, incoming: true }, offer);
    this.#calls.set(call.id, call);
    this.emit('incomingCall', call);
  }

  #warn(apiMethod: string, info: string): void {
    this.emit('warning', { apiMethod, info });
  }
}

function checkOptions(options: ConnectOptions): WebSocketConstructor {
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

function closeText(code: number, reason: string): string {
  return reason === '' ? `WebSocket close code ${code}` : `WebSocket close code ${code}: ${reason}`;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function asFailure(value: unknown): ServerFailure {
  const o = asObject(value);
  const failure: ServerFailure = {
    ...o,
    status: 'FAILED',
    apiMethod: typeof o['apiMethod'] === 'string' ? o['apiMethod'] : 'unknown',
    info: typeof o['info'] === 'string' ? o['info'] : 'the server reported a failure without a reason',
  };
  if (typeof o['callId'] !== 'string') delete failure.callId;
  if (typeof o['id'] !== 'string') delete failure.id;
  return failure;
}

function asCall(value: unknown): ServerCall | undefined {
  const o = asObject(value);
  if (typeof o['callId'] !== 'string' || !(CALL_STATUSES as readonly unknown[]).includes(o['status'])) return undefined;
  return o as ServerCall;
}

function registrationEvent(status: RegistrationStatus, o: Record<string, unknown>, fallbackInfo: string): RegistrationEvent {
  const event: RegistrationEvent = { status, info: typeof o['info'] === 'string' ? o['info'] : fallbackInfo };
  if (typeof o['sipMessageRaw'] === 'string') event.sipMessageRaw = o['sipMessageRaw'];
  return event;
}
