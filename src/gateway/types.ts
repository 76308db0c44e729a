/**
 * What the gateway exchanges with a client transport (the Janus `transport.h` seam): the client API hands it
 * validated requests and receives a one-way feed of `ClientEvent`s, which it alone turns into WebSocket frames.
 * The gateway knows nothing of frames, sockets or the wire names of messages.
 */
import type { JsonObject } from '../hooks/types.ts';

/** Status values of client-protocol.md. */
export type RegistrationStatus = 'REGISTERED' | 'UNREGISTERED' | 'FAILED';
export type MessageStatus = 'SENT' | 'ACCEPTED' | 'FAILED' | 'RECEIVED';

/** The event (or refused client message) a failure is about: the `apiMethod` of a `fail`. */
export type FailureSubject =
  | 'ConnectionStatusEvent'
  | 'RegistrationStatusEvent'
  | 'MessageStatusEvent'
  | 'ErrorStatusEvent';

export interface Failure {
  apiMethod: FailureSubject;
  info: string;
  /** The message a MessageStatusEvent failure is about. */
  id?: string;
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
  | { type: 'message'; message: JsonObject; notificationResult: JsonObject };

/** The client end of a session, implemented by the client API. */
export interface ClientPort {
  /** Hands one event to the client; false when the client is gone and nothing was sent. */
  deliver(event: ClientEvent): boolean;
  /** Ends the client's connection (after a refused connect); its closing then detaches the session. */
  end(info: string): void;
}

/** Where a client connection comes from and arrives at (for the sessionId). */
export interface ClientEndpoint {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
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
