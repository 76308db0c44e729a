/**
 * A connection to callhook: `connect()` opens the WebSocket, sends `connection`, and resolves with the Session
 * once the server answers `getUserData` (its connect hook approved); it rejects with the server's reason when the
 * server answers `fail` instead. The session then routes every server frame to its event, call or message.
 *
 * Its two statuses, the connection's and the registration's, change only along the tables of ./session-status.ts.
 * With a reconnect policy an unexpected close goes DISCONNECTED → PENDING → ESTABLISHED again (a new server
 * session: calls do not survive it, SIP registration is redone by the server as the connection asks).
 */
import type { AnswerOptions, Call, CallOptions, Warning } from './call.ts';
import type { Channel, WebSocketConstructor } from './channel.ts';
import {
  checkOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RECONNECT_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
  type ConnectOptions,
  type ReconnectPolicy,
} from './connect-options.ts';
import { ConnectionAttempt, closeText } from './connection-attempt.ts';
import { connectionFields } from './connection-fields.ts';
import { Emitter } from './emitter.ts';
import { CallhookError } from './errors.ts';
import { messageStatusEvent, SentMessages, type MessageResult, type MessageStatusEvent, type SendMessageOptions } from './messages.ts';
import {
  asFailure,
  asObject,
  type ConnectionStatus,
  type Frame,
  type RegistrationStatus,
  type ServerFailure,
  type ServerMessage,
  type UserData,
} from './protocol.ts';
import { SessionCalls } from './session-calls.ts';
import { CONNECTION_TRANSITIONS, REGISTRATION_TRANSITIONS } from './session-status.ts';
import { StatusMachine } from './status-machine.ts';

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

/** 1008 (policy violation) is how the server closes after refusing a client: reconnecting would be refused too. */
const CLOSE_POLICY = 1008;

/** Connects to callhook; resolves once the server has accepted the connection (`getUserData`). */
export function connect(options: ConnectOptions): Promise<Session> {
  return Session._connect(options);
}

export class Session extends Emitter<SessionEvents> {
  readonly #options: ConnectOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #calls: SessionCalls;
  #channel: Channel | undefined;
  readonly #status = new StatusMachine<ConnectionStatus>('connection', 'PENDING', CONNECTION_TRANSITIONS);
  readonly #registration = new StatusMachine<RegistrationStatus>('registration', 'UNREGISTERED', REGISTRATION_TRANSITIONS);
  #userData: UserData | undefined;
  readonly #messages = new SentMessages();
  #closedByClient = false;
  /** Stops a connection attempt or the wait before one (disconnect() during reconnecting). */
  #abortAttempt: (() => void) | undefined;

  private constructor(options: ConnectOptions, WebSocket: WebSocketConstructor) {
    super();
    this.#options = options;
    this.#WebSocket = WebSocket;
    this.#calls = new SessionCalls({
      media: options.media ?? {},
      send: (message, arg) => this.#channel?.send(message, arg) ?? false,
      warn: (apiMethod, info) => this.#warn(apiMethod, info),
      incoming: (call) => this.emit('incomingCall', call),
    });
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
    return this.#status.current;
  }

  get registration(): RegistrationStatus {
    return this.#registration.current;
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
    return this.#calls.all;
  }

  /**
   * Places a call. Returns at once; the microphone, the offer and the `call` frame follow, and the call's `status`
   * events tell the rest (a failure ends it with FAILED and the reason in `info`).
   */
  call(options: CallOptions): Call {
    if (typeof options?.callee !== 'string' || options.callee.trim() === '') {
      throw new CallhookError('INVALID_ARGUMENT', 'call: callee must be a non-empty string');
    }
    this.#established('call');
    return this.#calls.place(options, this.#userData?.sipLogin);
  }

  /**
   * Answers an incoming call: opens the microphone, answers the server's offer, sends `answer`. Resolves when
   * the answer is sent (the status then becomes ESTABLISHED); rejects, and ends the call, when that fails.
   */
  answer(call: Call, options: AnswerOptions = {}): Promise<void> {
    if (!this.#calls.holds(call)) {
      return Promise.reject(new CallhookError('INVALID_ARGUMENT', 'answer: not a live call of this session'));
    }
    return call._answer(options);
  }

  /**
   * Sends a SIP MESSAGE. Resolves when the far end accepted it (ACCEPTED); rejects with CallhookError
   * MESSAGE_FAILED, whose `info` is the server's reason (`SIP 404 Not Found`, a backend's refusal), when it failed.
   */
  sendMessage(options: SendMessageOptions): Promise<MessageResult> {
    return this.#messages.send(options, () => this.#established('sendMessage'));
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
    if (channel === undefined && !reconnecting) return; // already closed (or failed): nothing more to report
    await channel?.close(1000);
    this.#status.transition('DISCONNECTED');
    this.emit('disconnected', { code: 1000, info, byClient: true, willReconnect: false });
  }

  // ------------------------------------------------------------------------------------------------- connecting

  /** One attempt to connect (./connection-attempt.ts); resolves once the connection is ESTABLISHED. */
  async #establish(reconnected: boolean): Promise<void> {
    const userAgent = typeof navigator === 'undefined' ? undefined : navigator.userAgent;
    const attempt = new ConnectionAttempt({
      url: this.#options.url,
      WebSocket: this.#WebSocket,
      fields: connectionFields(this.#options, userAgent),
      timeoutMs: this.#options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      badFrame: (description) => this.#warn('unknown', `the server sent ${description}`),
      accepted: (channel, userData) => {
        this.#channel = channel;
        this.#status.transition('ESTABLISHED');
        this.#userData = userData;
        this.emit('established', { userData, reconnected });
        // A channel the session has let go of (disconnect()) is heard no more.
        return {
          frame: (frame) => {
            if (this.#channel === channel) this.#frame(frame);
          },
          closed: (code, reason) => {
            if (this.#channel === channel) this.#lost(code, reason);
          },
        };
      },
    });
    this.#abortAttempt = () => attempt.abort();
    try {
      await attempt.done;
    } finally {
      this.#abortAttempt = undefined;
    }
  }

  /** The established channel closed without `disconnect()`. */
  #lost(code: number, reason: string): void {
    this.#channel = undefined;
    const info = `Connection lost (${closeText(code, reason)})`;
    this.#teardown('FAILED', info);
    if (this.#status.current === 'FAILED') return; // the server refused the connection: `failed` has been emitted
    const policy = this.#options.reconnect;
    const willReconnect = policy !== undefined && code !== CLOSE_POLICY;
    this.#status.transition('DISCONNECTED');
    this.emit('disconnected', { code, info, byClient: false, willReconnect });
    if (policy !== undefined && willReconnect) void this.#reconnect(policy, info);
  }

  async #reconnect(policy: ReconnectPolicy, lastInfo: string): Promise<void> {
    let delay = policy.delayMs ?? DEFAULT_RECONNECT_DELAY_MS;
    let info = lastInfo;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      await this.#wait(delay);
      if (this.#closedByClient) return;
      this.#status.transition('PENDING');
      try {
        await this.#establish(true);
        return;
      } catch (err) {
        if (this.#closedByClient) return;
        const error = err as CallhookError;
        if (error.code === 'CONNECT_REFUSED') {
          this.#fail(error.info);
          return;
        }
        this.#status.transition('DISCONNECTED');
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
    this.#status.transition('FAILED');
    this.emit('failed', { info });
  }

  /** Ends the calls, the waiting messages and the registration of a connection that is gone. */
  #teardown(callStatus: 'FINISH' | 'FAILED', info: string): void {
    this.#calls.endAll(callStatus, info);
    this.#messages.abandon(info);
    // UNREGISTERED unless it is already (nothing was reported, or the connection ended twice over).
    if (this.#registration.current !== 'UNREGISTERED') this.#registration.transition('UNREGISTERED');
  }

  /** The channel of the established connection; NOT_CONNECTED naming `what` when there is none. */
  #established(what: string): Channel {
    if (this.#status.current !== 'ESTABLISHED' || this.#channel === undefined) {
      throw new CallhookError('NOT_CONNECTED', `${what}: the session is ${this.#status.current}`);
    }
    return this.#channel;
  }

  // ----------------------------------------------------------------------------------------------- server frames

  #frame(frame: Frame): void {
    const first = frame.data[0];
    switch (frame.message) {
      case 'registered': {
        const event = registrationEvent('REGISTERED', asObject(first), 'registered');
        if (this.#reported(this.#registration, 'REGISTERED', 'registered', event.info)) this.emit('registered', event);
        return;
      }
      case 'fail':
        this.#routeFailure(asFailure(first));
        return;
      case 'notifyMessage':
        this.#notifyMessage(asObject(first), asObject(frame.data[1]));
        return;
      case 'setRemoteSDP':
        this.#calls.remoteSdp(frame.data[0], frame.data[1]);
        return;
      case 'notifyTryingResponse':
      case 'ring':
      case 'talk':
      case 'hold':
      case 'finish':
        this.#calls.status(first);
        return;
      case 'notifyIncomingCall':
        this.#calls.incoming(first);
        return;
      case 'notifyTransferEvent':
        this.#calls.transfer(first);
        return;
      default:
        // getUserData again, and messages of WCS features callhook does not have: nothing to do.
        return;
    }
  }

  /**
   * A `fail`, to whatever it concerns: the connection, the registration, a message by `id`, a call (./session-calls.ts).
   * Anything else is a session warning.
   */
  #routeFailure(failure: ServerFailure): void {
    const { apiMethod, info } = failure;
    if (apiMethod === 'ConnectionStatusEvent') {
      if (this.#reported(this.#status, 'FAILED', apiMethod, info)) this.emit('failed', { info });
      return;
    }
    if (apiMethod === 'RegistrationStatusEvent') {
      if (this.#reported(this.#registration, 'FAILED', apiMethod, info)) this.emit('registrationFailed', registrationEvent('FAILED', failure, info));
      return;
    }
    if (failure.id !== undefined && this.#messages.awaits(failure.id)) {
      const message: ServerMessage = { id: failure.id, status: 'FAILED', info };
      this.emit('messageStatus', messageStatusEvent(message));
      this.#messages.settle(message);
      return;
    }
    if (this.#calls.failure(failure)) return;
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
    this.emit('messageStatus', messageStatusEvent(m));
    this.#messages.settle(m);
  }

  /**
   * Applies a status the server reported, if its table allows that from here; else the report is a warning and
   * changes nothing (the server reports each change once, so a repeated report is news of nothing).
   */
  #reported<S extends string>(status: StatusMachine<S>, next: S, apiMethod: string, info: string): boolean {
    if (!status.allows(next)) {
      this.#warn(apiMethod, `${info} (reported while the ${status.name} is ${status.current}: ignored)`);
      return false;
    }
    status.transition(next);
    return true;
  }

  #warn(apiMethod: string, info: string): void {
    this.emit('warning', { apiMethod, info });
  }
}

function registrationEvent(status: RegistrationStatus, o: Record<string, unknown>, fallbackInfo: string): RegistrationEvent {
  const event: RegistrationEvent = { status, info: typeof o['info'] === 'string' ? o['info'] : fallbackInfo };
  if (typeof o['sipMessageRaw'] === 'string') event.sipMessageRaw = o['sipMessageRaw'];
  return event;
}
