/**
 * A connection to callhook: `connect()` opens the WebSocket, sends `connection`, and resolves with the Session
 * once the server answers `getUserData` (its connect hook approved); it rejects with the server's reason when the
 * server answers `fail` instead. The session then routes every server frame to its event, call or message.
 *
 * Status: PENDING → ESTABLISHED → DISCONNECTED | FAILED. With a reconnect policy an unexpected close goes
 * DISCONNECTED → PENDING → ESTABLISHED again (a new server session: calls do not survive it, SIP registration is
 * redone by the server as the connection asks).
 */
import { Call, type AnswerOptions, type CallOptions, type Warning } from './call.ts';
import { type WebSocketConstructor } from './channel.ts';
import { type SipOptions } from './connection-fields.ts';
import { Emitter } from './emitter.ts';
import type { MediaOptions } from './media.ts';
import { type ConnectionStatus, type JsonValue, type MessageStatus, type RegistrationStatus, type ServerMessage, type UserData } from './protocol.ts';
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
/** Connects to callhook; resolves once the server has accepted the connection (`getUserData`). */
export declare function connect(options: ConnectOptions): Promise<Session>;
export declare class Session extends Emitter<SessionEvents> {
    #private;
    private constructor();
    get url(): string;
    get status(): ConnectionStatus;
    get registration(): RegistrationStatus;
    /** The server's `getUserData` of the current connection. */
    get userData(): UserData | undefined;
    /** The id the backend sees in every hook of this connection. */
    get sessionId(): string | undefined;
    /** The calls that have not ended. */
    get calls(): readonly Call[];
    /**
     * Places a call. Returns at once; the microphone, the offer and the `call` frame follow, and the call's `status`
     * events tell the rest (a failure ends it with FAILED and the reason in `info`).
     */
    call(options: CallOptions): Call;
    /**
     * Answers an incoming call: opens the microphone, answers the server's offer, sends `answer`. Resolves when
     * the answer is sent (the status then becomes ESTABLISHED); rejects, and ends the call, when that fails.
     */
    answer(call: Call, options?: AnswerOptions): Promise<void>;
    /**
     * Sends a SIP MESSAGE. Resolves when the far end accepted it (ACCEPTED); rejects with CallhookError
     * MESSAGE_FAILED, whose `info` is the server's reason (`SIP 404 Not Found`, a backend's refusal), when it failed.
     */
    sendMessage(options: SendMessageOptions): Promise<MessageResult>;
    /**
     * Closes the connection: the server ends every call, unregisters and tells the backend. Calls end here with
     * FINISH, messages still waiting reject with DISCONNECTED. Stops reconnecting. Safe to call twice.
     */
    disconnect(): Promise<void>;
}
