/**
 * The wire protocol the SDK speaks (callhook's docs/client-protocol.md, which is the WCS 5 protocol of the
 * Flashphoner Web SDK 2.0): every frame both ways is a JSON text frame `{"message": <name>, "data": [...]}`.
 * This module holds the status values, the shapes of the objects the server sends, and the framing.
 */

/** Connection status (client-protocol.md "Status values"); PENDING until `getUserData` arrives. */
export type ConnectionStatus = 'PENDING' | 'ESTABLISHED' | 'DISCONNECTED' | 'FAILED';
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

/** FINISH, BUSY and FAILED end a call: its media is released and it leaves `session.calls`. */
export const FINAL_CALL_STATUSES: readonly CallStatus[] = ['FINISH', 'BUSY', 'FAILED'];

export function isFinalCallStatus(status: CallStatus): boolean {
  return FINAL_CALL_STATUSES.includes(status);
}

export type MessageStatus = 'SENT' | 'ACCEPTED' | 'FAILED' | 'RECEIVED';
/** REFER progress (notifyTransferEvent). */
export type TransferStatus = 'PENDING' | 'ACCEPTED' | 'TRYING' | 'COMPLETED' | 'FAILED';
/** How DTMF is sent on the SIP side: RFC 4733 events in RTP (default), or SIP INFO. */
export type DtmfType = 'RFC2833' | 'INFO' | 'INFO_RELAY';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

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

/** The call object the server sends in every call frame (client-protocol.md "The call object"). */
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

/** One frame. */
export interface Frame {
  message: string;
  data: unknown[];
}

/** Client frames are sent like SDK 2.0 sends them: one argument in `data`, `[null]` when there is none. */
export function encodeFrame(message: string, arg: unknown = null): string {
  return JSON.stringify({ message, data: [arg] });
}

/** A server frame, or undefined for text that is not a frame (the caller reports it). */
export function decodeFrame(text: string): Frame | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { message, data } = parsed as { message?: unknown; data?: unknown };
  if (typeof message !== 'string') return undefined;
  return { message, data: Array.isArray(data) ? data : [] };
}

/** The client messages about one call: a `fail` naming one of them is about that call. */
export const CALL_MESSAGES: ReadonlySet<string> = new Set(['call', 'answer', 'hangup', 'hold', 'unhold', 'sendDtmf', 'transfer']);
