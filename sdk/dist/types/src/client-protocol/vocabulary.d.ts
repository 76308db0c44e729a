/**
 * The vocabulary of the client protocol (docs/client-protocol.md, the WCS 5 protocol of the Flashphoner Web SDK
 * 2.0), defined once for both ends: the server's client API and gateway import it, and so does the browser SDK
 * (sdk/src), which esbuild bundles with it. Hence the rules of this module: types and constants only, no imports
 * at all (not even node:), nothing that needs a runtime beyond ES2022. It sits below every layer of src/.
 */
/** One frame, either way: a JSON text frame `{"message": <name>, "data": [...]}`. */
export interface Frame {
    message: string;
    data: unknown[];
}
/** A frame as text. The server sends `[]` when there is no argument; SDK 2.0 sends `[null]` (its callers say so). */
export declare function encodeFrame(message: ClientMessageName | ServerMessageName, data?: readonly unknown[]): string;
/** What a client sends (docs/client-protocol.md "Connecting", "Messages", "Keep-alive", "Calls"). */
export type ClientMessageName = 'connection' | 'sendMessage' | 'notificationResult' | 'ping' | 'pong' | CallMessage;
/** The client messages about one call, each of which names it by `callId`: a `fail` naming one is about that call. */
export declare const CALL_MESSAGES: readonly ["call", "answer", "hangup", "hold", "unhold", "sendDtmf", "transfer"];
export type CallMessage = (typeof CALL_MESSAGES)[number];
/** What the server sends. */
export type ServerMessageName = 'getUserData' | 'registered' | 'fail' | 'notifyMessage' | 'setRemoteSDP' | 'notifyIncomingCall' | 'notifyTransferEvent' | 'ping' | CallStatusMessage;
/**
 * The frame each call status travels in (docs/client-protocol.md "The call object and the status frames"). Only
 * routing: SDK 2.0 reads the status from the call object itself, and ignores SDK 1.x's `busy` and
 * `sessionProgress`.
 */
export declare const CALL_STATUS_MESSAGE: {
    readonly PENDING: "ring";
    readonly TRYING: "notifyTryingResponse";
    readonly RING: "ring";
    readonly RING_MEDIA: "ring";
    readonly SESSION_PROGRESS: "ring";
    readonly ESTABLISHED: "talk";
    readonly HOLD: "hold";
    readonly BUSY: "finish";
    readonly FINISH: "finish";
    readonly FAILED: "finish";
};
export type CallStatusMessage = (typeof CALL_STATUS_MESSAGE)[CallStatus];
/** The event (or refused client message) a `fail` is about: its `apiMethod`. */
export type FailureSubject = 'ConnectionStatusEvent' | 'RegistrationStatusEvent' | 'MessageStatusEvent' | 'CallStatusEvent' | 'TransferStatusEvent' | 'ErrorStatusEvent'
/** A call message refused as such (an unknown callId, a request the call's state does not allow). */
 | CallMessage;
/** A connection's status as the SDK shows it; the wire has ESTABLISHED (`getUserData`), DISCONNECTED, FAILED. */
export type ConnectionStatus = 'PENDING' | 'ESTABLISHED' | 'DISCONNECTED' | 'FAILED';
/** docs/client-protocol.md "Registration status": `registered`, `fail` RegistrationStatusEvent, and UNREGISTERED. */
export type RegistrationStatus = 'UNREGISTERED' | 'REGISTERED' | 'FAILED';
export declare const CALL_STATUSES: readonly ["PENDING", "TRYING", "RING", "RING_MEDIA", "SESSION_PROGRESS", "ESTABLISHED", "HOLD", "BUSY", "FINISH", "FAILED"];
export type CallStatus = (typeof CALL_STATUSES)[number];
/** FINISH, BUSY and FAILED end a call: its media is released on both ends. */
export declare const FINAL_CALL_STATUSES: readonly CallStatus[];
export declare function isFinalCallStatus(status: CallStatus): boolean;
/** A SIP MESSAGE: own ones SENT, then ACCEPTED or FAILED; incoming ones RECEIVED. */
export type MessageStatus = 'SENT' | 'ACCEPTED' | 'FAILED' | 'RECEIVED';
/** REFER progress (`notifyTransferEvent`): PENDING (REFER sent), ACCEPTED (202), TRYING (NOTIFY 1xx), COMPLETED, FAILED. */
export type TransferStatus = 'PENDING' | 'ACCEPTED' | 'TRYING' | 'COMPLETED' | 'FAILED';
/** How `sendDtmf` reaches the SIP side: RFC 4733 events in RTP (the default), or SIP INFO. */
export declare const DTMF_TYPES: readonly ["RFC2833", "INFO", "INFO_RELAY"];
export type DtmfType = (typeof DTMF_TYPES)[number];
