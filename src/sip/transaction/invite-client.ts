/**
 * The INVITE client transaction, RFC 3261 §17.1.1 (Figure 5) as corrected by RFC 6026 §7.2, §8.4: a 2xx
 * moves the transaction to Accepted, where further 2xx (retransmissions, other forks) are still matched and passed
 * to the TU until Timer M, instead of terminating at once and letting them arrive as strays. The ACK for a 2xx is
 * the TU's (§13.2.2.4); the ACK for a non-2xx is built and sent here (§17.1.1.3).
 *
 * State          event                                 action                      next state
 * Calling        (start)                               send INVITE, Timer B, Timer A (unreliable only)
 * Calling        Timer A                               resend INVITE, A = 2*A
 * Calling        Timer B (64*T1)                       tell the TU: timeout         Terminated
 * Calling        1xx                                   to the TU (A, B stop)        Proceeding
 * Proceeding     1xx                                   to the TU
 * Calling/Proc.  2xx                                   to the TU, Timer M           Accepted
 * Calling/Proc.  300-699                               send ACK, to the TU, Timer D Completed
 * Completed      300-699 (retransmission)              resend ACK
 * Completed      Timer D (32 s UDP, 0 reliable)                                     Terminated
 * Accepted       2xx                                   to the TU
 * Accepted       Timer M (64*T1)                                                    Terminated
 * any            transport error                       tell the TU                  Terminated
 */
import { SipError } from '../errors.ts';
import { createAckForNon2xx } from '../message/builders.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { outgoingTransactionId } from './matching.ts';
import { Transaction, type TransactionContext } from './transaction.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

export enum InviteClientState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteClientState;

const TRANSITIONS: Readonly<Record<InviteClientState, readonly InviteClientState[]>> = {
  [S.Calling]: [S.Proceeding, S.Completed, S.Accepted, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Accepted, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Accepted]: [S.Terminated],
  [S.Terminated]: [],
};

export class InviteClientTransaction extends Transaction<InviteClientState> {
  readonly kind = 'invite-client' as const;
  readonly request: SipRequest;
  private readonly user: ClientTransactionUser;
  /** The interval Timer A was last started with. */
  private intervalA: number;
  /** The ACK for the non-2xx final response, resent for each retransmission of that response (§17.1.1.2). */
  private ack: SipRequest | undefined;

  constructor(
    request: SipRequest,
    transport: Transport,
    remote: Endpoint,
    user: ClientTransactionUser,
    context: TransactionContext,
  ) {
    if (request.method !== 'INVITE') throw new Error(`a ${request.method} needs a NonInviteClientTransaction (RFC 3261 §17.1.2)`);
    super(outgoingTransactionId(request), transport, remote, S.Calling, context);
    this.request = request;
    this.user = user;
    this.intervalA = this.timers.A;
  }

  /**
   * RFC 3261 §17.1.1.2: "The initial state, 'calling', MUST be entered when the TU initiates a new client
   * transaction with an INVITE request. The client transaction MUST pass the request to the transport layer for
   * transmission. If an unreliable transport is being used, the client transaction MUST start timer A with a value
   * of T1. [...] For any transport, the client transaction MUST start timer B with a value of 64*T1 seconds."
   */
  start(): void {
    this.startTimer('B', this.timers.B, () => this.timerB());
    if (!this.reliable) this.startTimer('A', this.intervalA, () => this.timerA());
    this.send(this.request);
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case S.Calling:
      case S.Proceeding:
        if (status < 200) {
          // §17.1.1.2: "If the client transaction receives a provisional response while in the 'Calling' state, it
          // transitions to the 'Proceeding' state. [...] Furthermore, the provisional response MUST be passed to the
          // TU. Any further provisional responses MUST be passed up to the TU while in the 'Proceeding' state."
          if (this.state === S.Calling) this.stateTransition(S.Proceeding);
          this.user.receiveResponse(response);
        } else if (status < 300) {
          // RFC 6026 §8.4: "When a 2xx response is received while in either the 'Calling' or 'Proceeding' states,
          // the client transaction MUST transition to the 'Accepted' state [...]. The 2xx response MUST be passed up
          // to the TU."
          this.stateTransition(S.Accepted);
          this.user.receiveResponse(response);
        } else {
          // §17.1.1.2: "When in either the 'Calling' or 'Proceeding' states, reception of a response with status
          // code from 300-699 MUST cause the client transaction to transition to 'Completed'. The client transaction
          // MUST pass the received response up to the TU, and the client transaction MUST generate an ACK request,
          // even if the transport is reliable."
          this.ack = createAckForNon2xx(this.request, response);
          this.stateTransition(S.Completed);
          this.send(this.ack);
          this.user.receiveResponse(response);
        }
        return;
      case S.Completed:
        // §17.1.1.2: "Any retransmissions of the final response that are received while in the 'Completed' state
        // MUST cause the ACK to be re-passed to the transport layer for retransmission, but the newly received
        // response MUST NOT be passed up to the TU."
        if (status >= 300 && this.ack) this.send(this.ack);
        return;
      case S.Accepted:
        // RFC 6026 §8.4: "Any 2xx responses that match this client transaction and that are received while in the
        // 'Accepted' state MUST be passed up to the TU."
        if (status >= 200 && status < 300) this.user.receiveResponse(response);
        return;
      case S.Terminated:
        return;
    }
  }

  /** §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request by passing it to the
   * transport layer, and MUST reset the timer with a value of 2*T1." (and so on, doubling each time) */
  private timerA(): void {
    this.send(this.request);
    this.intervalA *= 2;
    this.startTimer('A', this.intervalA, () => this.timerA());
  }

  /** §17.1.1.2: "If the client transaction is still in the 'Calling' state when timer B fires, the client
   * transaction SHOULD inform the TU that a timeout has occurred." Timer B runs only in Calling. */
  private timerB(): void {
    this.user.onTimeout(new SipError('SIP_TIMEOUT', `no response to INVITE within ${this.timers.B} ms (Timer B)`));
    this.terminate();
  }

  /** §17.1.4: the TU is informed and the transaction goes to Terminated. */
  protected transportFailed(error: SipError): void {
    this.user.onTransportError(error);
    this.terminate();
  }

  protected stateTransition(next: InviteClientState): void {
    this.enterState(next, TRANSITIONS);
    switch (next) {
      case S.Proceeding:
        // §17.1.1.2: no retransmissions in Proceeding; Timer B only concerns Calling.
        this.clearTimer('A');
        this.clearTimer('B');
        return;
      case S.Completed:
        // §17.1.1.2: "The client transaction SHOULD start timer D when it enters the 'Completed' state, with a value
        // of at least 32 seconds for unreliable transports, and a value of zero seconds for reliable transports."
        this.clearTimer('A');
        this.clearTimer('B');
        this.startTimer('D', this.timers.D(this.reliable), () => this.terminate());
        return;
      case S.Accepted:
        // RFC 6026 §8.4: Timer M (64*T1) bounds the wait for 2xx retransmissions and 2xx from other forks.
        this.clearTimer('A');
        this.clearTimer('B');
        this.startTimer('M', this.timers.M, () => this.terminate());
        return;
      case S.Terminated:
        this.user.onTerminated?.();
        return;
      case S.Calling:
        return;
    }
  }
}
