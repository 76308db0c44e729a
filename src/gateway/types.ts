/**
 * What the gateway exchanges with a client transport (the Janus `transport.h` seam): the client API hands it
 * validated requests and receives a one-way feed of `ClientEvent`s, which it alone turns into WebSocket frames.
 * The gateway knows nothing of frames, sockets or the wire names of messages.
 */
import type { DtmfType, FailureSubject } from '../client-protocol/vocabulary.ts';
import type { JsonObject } from '../hooks/types.ts';
import type { Sound } from '../media/index.ts';

/** Status values, call messages and `fail` subjects are the client protocol's vocabulary, shared with the SDK. */
export type {
  CallMessage, CallStatus, DtmfType, FailureSubject, MessageStatus, RegistrationStatus,
} from '../client-protocol/vocabulary.ts';

export interface Failure {
  apiMethod: FailureSubject;
  info: string;
  /** The message a MessageStatusEvent failure is about. */
  id?: string;
  /** The call a call failure is about. */
  callId?: string;
  sipMessageRaw?: string;
}

/**
 * What the gateway tells a client, in order. Each carries exactly the fields the client may see (clientExclude
 * and the SIP password already removed).
 */
export type ClientEvent =
  /** The connection is ESTABLISHED: its fields after the connect hook, with sessionId and authToken. */
  | { type: 'established'; userData: JsonObject }
  /** The SIP registration succeeded (first time, or again after a failure): `info`, `sipMessageRaw`. */
  | { type: 'registered'; event: JsonObject }
  | { type: 'failed'; failure: Failure }
  /** A message status: own messages (SENT, ACCEPTED, FAILED, by id) or an incoming one (RECEIVED). */
  | { type: 'message'; message: JsonObject; notificationResult: JsonObject }
  /**
   * callhook's SDP for the browser leg of a call: the answer to the browser's offer (outgoing), or callhook's offer
   * (incoming, always before `incomingCall`).
   */
  | { type: 'remoteSdp'; callId: string; sdp: string }
  /** A call's new status; `call` is the call object with `status` (and `info`, `sipStatus`, `sipMessageRaw`). */
  | { type: 'callStatus'; call: JsonObject }
  /** An incoming call the client may answer (the call object, status PENDING). */
  | { type: 'incomingCall'; call: JsonObject }
  /** Progress of a transfer the client asked for: `{callId, status, info}`. */
  | { type: 'transfer'; event: JsonObject };

/** The client end of a session, implemented by the client API. */
export interface ClientPort {
  /** Hands one event to the client; false when the client is gone and nothing was sent. */
  deliver(event: ClientEvent): boolean;
  /**
   * Ends the client's connection, `info` saying why (a refused connect, `Terminated by the administrator`,
   * `Terminated by API`); its closing then detaches the session.
   */
  end(info: string): void;
}

/** Where a client connection comes from and arrives at (its two socket ends name the session: sessionIdOf). */
export interface ClientEndpoint {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** The client's address as a trusted reverse proxy reported it (config trustedProxies); absent when direct. */
  forwardedFor?: string;
}

/**
 * The `connection` fields as the client sent them, already checked for types by the client API (extra fields
 * are kept: WCS hands every one to the connect hook).
 */
export type ConnectionRequest = JsonObject & { appKey?: string };

/** A client's `sendMessage`, type-checked. */
export interface OutgoingMessageRequest {
  id: string;
  to: string;
  body: string;
  contentType?: string;
  /** Everything else the client sent with it (from, visibleName, isImdnRequired, …): passed to the hook. */
  extra: JsonObject;
}

/**
 * A client's `call`, type-checked. `callee` may be missing when the `call` hook supplies it (OVERWRITE, as
 * click-to-call backends do).
 */
export interface OutgoingCallRequest {
  callId: string;
  callee?: string;
  /** The browser's WebRTC offer; absent for a call without a browser (the REST API's call/startup). */
  sdp?: string;
  /** What callhook itself does with the call's audio (a call without a browser; `record` for any call). */
  audio?: CallAudio;
  /** `inviteParameters`: extra header fields of the INVITE (name → value). */
  inviteParameters?: Record<string, string>;
  /** Everything else the client sent (hasAudio, hasVideo, visibleName, caller, custom, sipSDP, …): for the hook. */
  extra: JsonObject;
}

/** The audio of a call callhook is the endpoint of (docs/rest-api.md "call/startup"). */
export interface CallAudio {
  /** Played towards the far end once the call is ESTABLISHED. */
  play?: Sound;
  /** Play it again from the start while the call lasts. */
  loop?: boolean;
  /** End the call (FINISH) when the sound has played. */
  hangupAfterPlay?: boolean;
  /** Record both directions into `<dataDir>/recordings/<callId>.wav`. */
  record?: boolean;
  /** End the call this long after it was placed (0 or absent: no limit). */
  maxDurationSec?: number;
}

/** A client's `answer` to an incoming call: its WebRTC answer to callhook's offer. */
export interface AnswerRequest {
  callId: string;
  sdp: string;
  extra: JsonObject;
}

/** `hangup`, `hold` (with `holdForTransfer`), `unhold`: the call and what else the client sent. */
export interface CallControlRequest {
  callId: string;
  extra: JsonObject;
}

/** `sendDtmf`: digits 0-9 * # A-D, and how to send them (RFC 4733 events, or SIP INFO). */
export interface DtmfRequest {
  callId: string;
  dtmf: string;
  type: DtmfType;
}

/** `transfer`: blind transfer of the call's far end to `target` (a number or a SIP URI). */
export interface TransferRequest {
  callId: string;
  target: string;
}

/**
 * Who ended a session, and so hung up the calls it still had (the detail record's `hangupSide`): its client (the
 * tab closed, the socket dropped, the pings went unanswered) or callhook (the server stopping, a refusal, a failure).
 */
export type SessionEndedBy = 'client' | 'callhook';
