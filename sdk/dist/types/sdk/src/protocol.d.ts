/**
 * The wire protocol the SDK speaks (callhook's docs/client-protocol.md, which is the WCS 5 protocol of the
 * Flashphoner Web SDK 2.0): every frame both ways is a JSON text frame `{"message": <name>, "data": [...]}`.
 * The vocabulary (status values, message names, the frame) is the server's own module, imported here so that both
 * ends spell it the same way; this module adds the shapes of the objects the server sends and reads them leniently
 * out of server frames.
 */
import { type CallMessage, type CallStatus, type Frame, type MessageStatus } from '../../src/client-protocol/vocabulary.ts';
export { CALL_STATUSES, DTMF_TYPES, encodeFrame, FINAL_CALL_STATUSES, isFinalCallStatus, type CallMessage, type CallStatus, type ClientMessageName, type ConnectionStatus, type DtmfType, type Frame, type MessageStatus, type RegistrationStatus, type TransferStatus, } from '../../src/client-protocol/vocabulary.ts';
export type JsonValue = string | number | boolean | null | JsonValue[] | {
    [key: string]: JsonValue;
};
/**
 * `getUserData`: the connection fields after the server's connect hook (a backend may have replaced or hidden
 * any of them), plus what the server adds. Never carries `sipPassword`.
 */
export interface UserData {
    status: 'ESTABLISHED';
    /** `/<client ip>:<client port>/<server ip>:<server port>`: the id the backend sees in every hook. */
    sessionId: string;
    authToken?: string;
    appKey?: string;
    sipLogin?: string;
    sipDomain?: string;
    custom?: JsonValue;
    [field: string]: unknown;
}
/** The call object the server sends in every call frame (docs/client-protocol.md "The call object and the status frames"). */
export interface ServerCall {
    callId: string;
    status: CallStatus;
    incoming?: boolean;
    caller?: string;
    callee?: string;
    visibleName?: string;
    hasAudio?: boolean;
    hasVideo?: boolean;
    mediaProvider?: string;
    /** Why the status changed: `SIP 404 Not Found`, `Normal call clearing`, a backend's reason, … */
    info?: string;
    /** The SIP status code behind the status. */
    sipStatus?: number;
    sipMessageRaw?: string;
    custom?: JsonValue;
    [field: string]: unknown;
}
/** A SIP MESSAGE as the server reports it in `notifyMessage`. */
export interface ServerMessage {
    id: string;
    from?: string;
    to?: string;
    body?: string;
    contentType?: string;
    status: MessageStatus;
    info?: string;
    sipStatus?: number;
    /** The display name of the sender (incoming messages). */
    visibleName?: string;
    sipMessageRaw?: string;
    [field: string]: unknown;
}
/** `fail` data[0]: a refusal or failure, always with the server's reason in `info`. */
export interface ServerFailure {
    status: 'FAILED';
    info: string;
    /** The event (ConnectionStatusEvent, RegistrationStatusEvent, …) or the client message that was refused. */
    apiMethod: string;
    callId?: string;
    /** The message a MessageStatusEvent failure is about. */
    id?: string;
    sipMessageRaw?: string;
    [field: string]: unknown;
}
/** A server frame, or undefined for text that is not a frame (the caller reports it). */
export declare function decodeFrame(text: string): Frame | undefined;
export declare function asObject(value: unknown): Record<string, unknown>;
/** `fail` data[0], with an apiMethod and an info whatever the server sent. */
export declare function asFailure(value: unknown): ServerFailure;
/** The call object of a call frame, or undefined when it names no call or no known status. */
export declare function asCall(value: unknown): ServerCall | undefined;
/** Whether a `fail` names a client message about one call (then it is about that call). */
export declare function isCallMessage(apiMethod: string): apiMethod is CallMessage;
