/**
 * The non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8).
 *
 * State          event                                 action                      next state
 * Trying         (request received)                    passed to the TU by the transaction layer
 * Trying         request retransmission                discarded
 * Trying         1xx from the TU                       send                         Proceeding
 * Proceeding     1xx from the TU                       send
 * Proceeding     request retransmission                resend the last 1xx
 * Trying/Proc.   200-699 from the TU                   send, Timer J                Completed
 * Completed      request retransmission                resend the final response
 * Completed      response from the TU                  discarded
 * Completed      Timer J (64*T1 UDP, 0 reliable)                                    Terminated
 * any            transport error                       tell the TU (RFC 6026 §8.8: state unchanged)
 */
import type { SipError } from '../errors.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { serverTransactionId } from './matching.ts';
import { assertResponseStatus, Transaction, type TransactionContext } from './transaction.ts';
import type { ServerTransactionUser } from './transaction-user.ts';

export enum NonInviteServerState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteServerState;

const TRANSITIONS: Readonly<Record<NonInviteServerState, readonly NonInviteServerState[]>> = {
  [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Terminated]: [],
};

export class NonInviteServerTransaction extends Transaction<NonInviteServerState> {
  readonly kind = 'non-invite-server' as const;
  readonly request: SipRequest;
  /** Set by the TU when it takes the request; it is told of transport failures and termination. */
  user: ServerTransactionUser = {};
  /** The last response sent: resent when the request is retransmitted in Proceeding and Completed. */
  private lastResponse: SipResponse | undefined;

  /** `remote` is where responses go (RFC 3261 §18.2.2, worked out by the transaction layer). */
  constructor(request: SipRequest, transport: Transport, remote: Endpoint, context: TransactionContext) {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new Error(`a ${request.method} has no non-INVITE server transaction (RFC 3261 §17.2.2)`);
    }
    super(serverTransactionId(request), transport, remote, S.Trying, context);
    this.request = request;
  }

  /** A retransmission of the request (the transaction layer matched it to this transaction, §17.2.3). */
  receiveRequest(_retransmission: SipRequest): void {
    switch (this.state) {
      case S.Trying:
        // §17.2.2: "While in the 'Trying' state, [...] any further request retransmissions are discarded."
        return;
      case S.Proceeding:
      case S.Completed:
        // §17.2.2: "If a retransmission of the request is received while in the 'Proceeding' state, the most
        // recently sent provisional response MUST be passed to the transport layer for retransmission." and
        // "While in the 'Completed' state, the server transaction MUST pass the final response to the transport
        // layer for retransmission whenever a retransmission of the request is received."
        if (this.lastResponse) this.send(this.lastResponse);
        return;
      case S.Terminated:
        return;
    }
  }

  /**
   * Sends a response from the TU. Status codes outside 100-699 are a bug of the caller (RangeError). After the
   * final response, further responses are discarded (§17.2.2: "Any other final responses passed by the TU to the
   * server transaction MUST be discarded while in the 'Completed' state"), as they are once the transaction ended.
   */
  respond(response: SipResponse): void {
    assertResponseStatus(response);
    switch (this.state) {
      case S.Trying:
      case S.Proceeding:
        this.lastResponse = response;
        if (response.status < 200) {
          // §17.2.2: "While in the 'Trying' state, if the TU passes a provisional response to the server
          // transaction, the server transaction MUST enter the 'Proceeding' state."
          if (this.state === S.Trying) this.stateTransition(S.Proceeding);
          this.send(response);
        } else {
          // "If the TU passes a final response (status codes 200-699) to the server while in the 'Trying' [or
          // 'Proceeding'] state, the transaction MUST enter the 'Completed' state, and the response MUST be passed
          // to the transport layer for transmission."
          this.send(response);
          this.stateTransition(S.Completed);
        }
        return;
      case S.Completed:
      case S.Terminated:
        return;
    }
  }

  /**
   * RFC 6026 §8.8 (replacing RFC 3261 §17.2.4): "the server transaction SHOULD inform the TU that a failure has
   * occurred, and MUST remain in the current state" (the backup procedures of RFC 3263 before that are the
   * transport's: TcpTransport reconnects towards the Via). The transaction's timers still end it.
   */
  protected transportFailed(error: SipError): void {
    this.user.onTransportError?.(error);
  }

  protected stateTransition(next: NonInviteServerState): void {
    this.enterState(next, TRANSITIONS);
    switch (next) {
      case S.Completed:
        // §17.2.2: "When the server transaction enters the 'Completed' state, it MUST set Timer J to fire in 64*T1
        // seconds for unreliable transports, and zero seconds for reliable transports."
        this.startTimer('J', this.timers.J(this.reliable), () => this.terminate());
        return;
      case S.Terminated:
        this.user.onTerminated?.();
        return;
      default:
        return;
    }
  }
}
