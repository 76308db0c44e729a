/**
 * What a transaction tells the layer above it, the transaction user (TU, RFC 3261 §17: the UAC/UAS core). Each
 * callback names the rule that makes the transaction call it.
 */
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { SipError } from '../errors.ts';

export interface ClientTransactionUser {
  /**
   * A response the transaction passes up: every provisional response, the first final response, and for INVITE
   * every 2xx (retransmissions and other forks, RFC 6026 §8.4). Retransmitted non-2xx final responses are absorbed
   * by the transaction (RFC 3261 §17.1.1.2, §17.1.2.2).
   */
  receiveResponse(response: SipResponse): void;
  /**
   * Timer B or F fired without a final response (RFC 3261 §17.1.1.2, §17.1.2.2). RFC 3261 §8.1.3.1: the UAC core
   * "MUST treat this as if it was a 408 (Request Timeout) status code".
   */
  onTimeout(error: SipError): void;
  /**
   * The transport failed to send the request, a retransmission or the ACK (RFC 3261 §17.1.4). RFC 3261 §8.1.3.1:
   * the UAC core "MUST be treated as a 503 (Service Unavailable) status code".
   */
  onTransportError(error: SipError): void;
  /** The transaction reached Terminated and has left the transaction layer's tables. */
  onTerminated?(): void;
}

export interface ServerTransactionUser {
  /**
   * A response could not be sent. The transaction stays in its state (RFC 6026 §8.8), so a response the TU still
   * has to give (after a failed 1xx) can be tried, and its timers end it as usual.
   */
  onTransportError?(error: SipError): void;
  /** The transaction reached Terminated and has left the transaction layer's tables. */
  onTerminated?(): void;
}

export interface InviteServerTransactionUser extends ServerTransactionUser {
  /**
   * The ACK for a 2xx this transaction sent (RFC 3261 §13.3.1.4: it stops the 2xx retransmissions; RFC 6026 §7.1:
   * an ACK received in the Accepted state is passed to the TU). ACKs for non-2xx responses stay inside the
   * transaction (§17.2.1).
   */
  onAck?(ack: SipRequest): void;
  /**
   * No ACK came: Timer H fired after a non-2xx final response (RFC 3261 §17.2.1, "a transaction failure"), or 64*T1
   * of 2xx retransmissions went unanswered (§13.3.1.4: the session SHOULD then be ended with BYE).
   */
  onAckTimeout?(): void;
}
