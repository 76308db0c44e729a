/**
 * The one error class of the SDK. Expected failures (the server refused, the network failed, the microphone was
 * denied) reject a promise or are thrown with a `code` to branch on; `info` is the reason in words: the server's
 * own `info` text whenever the server gave one (e.g. the `reason` a backend answered, `SIP 404 Not Found`), else
 * what went wrong on this side.
 */
export type CallhookErrorCode = 
/** The server refused the connection (`fail` with apiMethod ConnectionStatusEvent); `info` is its reason. */
'CONNECT_REFUSED'
/** The WebSocket could not be opened or closed before the session was established. */
 | 'CONNECTION_FAILED'
/** No answer within the time allowed (connect, a message's final status). */
 | 'TIMEOUT'
/** The session is not established (not yet, or no longer). */
 | 'NOT_CONNECTED'
/** The session closed while the operation waited for the server. */
 | 'DISCONNECTED'
/** A bad argument from the application; `info` names it. */
 | 'INVALID_ARGUMENT'
/** The operation does not fit the object's state (answering an outgoing call, DTMF on an ended call). */
 | 'INVALID_STATE'
/** A SIP MESSAGE ended FAILED; `info` is the server's reason, `sipStatus` the SIP code when there was one. */
 | 'MESSAGE_FAILED'
/** getUserMedia or the RTCPeerConnection failed, or WebRTC is not available here. */
 | 'MEDIA_FAILED';
export declare class CallhookError extends Error {
    readonly code: CallhookErrorCode;
    /** The reason: the server's `info` when it sent one. */
    readonly info: string;
    readonly details: {
        apiMethod?: string;
        sipStatus?: number;
        cause?: unknown;
    };
    name: string;
    constructor(code: CallhookErrorCode, 
    /** The reason: the server's `info` when it sent one. */
    info: string, details?: {
        apiMethod?: string;
        sipStatus?: number;
        cause?: unknown;
    });
    /** The `apiMethod` of the server's `fail` frame, when the error came from one. */
    get apiMethod(): string | undefined;
    /** The SIP status code, when the failure came from a SIP response. */
    get sipStatus(): number | undefined;
}
