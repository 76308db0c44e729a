/**
 * The vocabulary of the client protocol (docs/client-protocol.md, the WCS 5 protocol of the Flashphoner Web SDK
 * 2.0), defined once for both ends: the server's client API and gateway import it, and so does the browser SDK
 * (sdk/src), which esbuild bundles with it. Hence the rules of this module: types and constants only, no imports
 * at all (not even node:), nothing that needs a runtime beyond ES2022. It sits below every layer of src/.
 */

// ---------------------------------------------------------------------------------------------------- framing

/** One frame, either way: a JSON text frame `{"message": <name>, "data": [...]}`. */
export interface Frame {
  message: string;
  data: unknown[];
}

/** A frame as text. The server sends `[]` when there is no argument; SDK 2.0 sends `[null]` (its callers say so). */
export function encodeFrame(message: ClientMessageName | ServerMessageName, data: readonly unknown[] = []): string {
  return JSON.stringify({ message, data });
}

// -------------------------------------------------------------------------------------------- message names

/** What a client sends (docs/client-protocol.md "Connecting", "Messages", "Keep-alive", "Calls"). */
export type ClientMessageName =
  | 'connection'
  | 'sendMessage'
  | 'notificationResult'
  | 'ping'
  | 'pong'
  | CallMessage;

/** The client messages about one call, each of which names it by `callId`: a `fail` naming one is about that call. */
export const CALL_MESSAGES = ['call', 'answer', 'hangup', 'hold', 'unhold', 'sendDtmf', 'transfer'] as const;
export type CallMessage = (typeof CALL_MESSAGES)[number];

/** What the server sends. */
export type ServerMessageName =
  | 'getUserData'
  | 'registered'
  | 'fail'
  | 'notifyMessage'
  | 'setRemoteSDP'
  | 'notifyIncomingCall'
  | 'notifyTransferEvent'
  | 'ping'
  | CallStatusMessage;

/**
 * The frame each call status travels in (docs/client-protocol.md "The call object and the status frames"). Only
 * routing: SDK 2.0 reads the status from the call object itself, and ignores SDK 1.x's `busy` and
 * `sessionProgress`.
 */
export const CALL_STATUS_MESSAGE = {
  PENDING: 'ring',
  TRYING: 'notifyTryingResponse',
  RING: 'ring',
  RING_MEDIA: 'ring',
  SESSION_PROGRESS: 'ring',
  ESTABLISHED: 'talk',
  HOLD: 'hold',
  BUSY: 'finish',
  FINISH: 'finish',
  FAILED: 'finish',
} as const satisfies Readonly<Record<CallStatus, string>>;
export type CallStatusMessage = (typeof CALL_STATUS_MESSAGE)[CallStatus];

/** The event (or refused client message) a `fail` is about: its `apiMethod`. */
export type FailureSubject =
  | 'ConnectionStatusEvent'
  | 'RegistrationStatusEvent'
  | 'MessageStatusEvent'
  | 'CallStatusEvent'
  | 'TransferStatusEvent'
  | 'ErrorStatusEvent'
  /** A call message refused as such (an unknown callId, a request the call's state does not allow). */
  | CallMessage;

// ---------------------------------------------------------------------------------------------- status values

/** A connection's status as the SDK shows it; the wire has ESTABLISHED (`getUserData`), DISCONNECTED, FAILED. */
export type ConnectionStatus = 'PENDING' | 'ESTABLISHED' | 'DISCONNECTED' | 'FAILED';

/** docs/client-protocol.md "Registration status": `registered`, `fail` RegistrationStatusEvent, and UNREGISTERED. */
export type RegistrationStatus = 'UNREGISTERED' | 'REGISTERED' | 'FAILED';

export const CALL_STATUSES = [
  'PENDING',
  'TRYING',
  'RING',
  'RING_MEDIA',
  'SESSION_PROGRESS',
  'ESTABLISHED',
  'HOLD',
  'BUSY',
  'FINISH',
  'FAILED',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** FINISH, BUSY and FAILED end a call: its media is released on both ends. */
export const FINAL_CALL_STATUSES: readonly CallStatus[] = ['FINISH', 'BUSY', 'FAILED'];

export function isFinalCallStatus(status: CallStatus): boolean {
  return FINAL_CALL_STATUSES.includes(status);
}

/** A SIP MESSAGE: own ones SENT, then ACCEPTED or FAILED; incoming ones RECEIVED. */
export type MessageStatus = 'SENT' | 'ACCEPTED' | 'FAILED' | 'RECEIVED';

/** REFER progress (`notifyTransferEvent`): PENDING (REFER sent), ACCEPTED (202), TRYING (NOTIFY 1xx), COMPLETED, FAILED. */
export type TransferStatus = 'PENDING' | 'ACCEPTED' | 'TRYING' | 'COMPLETED' | 'FAILED';

/** How `sendDtmf` reaches the SIP side: RFC 4733 events in RTP (the default), or SIP INFO. */
export const DTMF_TYPES = ['RFC2833', 'INFO', 'INFO_RELAY'] as const;
export type DtmfType = (typeof DTMF_TYPES)[number];
