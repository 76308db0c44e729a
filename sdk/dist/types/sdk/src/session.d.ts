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
import { type ConnectOptions } from './connect-options.ts';
import { Emitter } from './emitter.ts';
import { type MessageResult, type MessageStatusEvent, type SendMessageOptions } from './messages.ts';
import { type ConnectionStatus, type RegistrationStatus, type ServerMessage, type UserData } from './protocol.ts';
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
