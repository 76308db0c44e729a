/**
 * The non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).
 *
 * State          event                                 action                      next state
 * Trying         (start)                               send request, Timer F, Timer E (unreliable only)
 * Trying         Timer E                               resend, E = min(2*E, T2)
 * Trying         1xx                                   to the TU                    Proceeding
 * Proceeding     Timer E                               resend, E = T2
 * Proceeding     1xx                                   to the TU
 * Trying/Proc.   Timer F (64*T1)                       tell the TU: timeout         Terminated
 * Trying/Proc.   200-699                               to the TU (E, F stop), Timer K  Completed
 * Completed      any response (retransmission)         absorbed
 * Completed      Timer K (T4 UDP, 0 reliable)                                       Terminated
 * any            transport error                       tell the TU                  Terminated
 */
import { SipError } from '../errors.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { outgoingTransactionId } from './matching.ts';
import { Transaction, type TransactionContext } from './transaction.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

export enum NonInviteClientState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteClientState;

const TRANSITIONS: Readonly<Record<NonInviteClientState, readonly NonInviteClientState[]>> = {
  [S.Trying]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Terminated]: [],
};

export class NonInviteClientTransaction extends Transaction<NonInviteClientState> {
  readonly kind = 'non-invite-client' as const;
  readonly request: SipRequest;
  private readonly user: ClientTransactionUser;
  /** The interval Timer E was last started with. */
  private intervalE: number;

  constructor(
    request: SipRequest,
    transport: Transport,
    remote: Endpoint,
    user: ClientTransactionUser,
    context: TransactionContext,
  ) {
    if (request.method === 'INVITE') throw new Error('an INVITE needs an InviteClientTransaction (RFC 3261 §17.1.1)');
    super(outgoingTransactionId(request), transport, remote, S.Trying, context);
    this.request = request;
    this.user = user;
    this.intervalE = this.timers.E;
  }

  /**
   * RFC 3261 §17.1.2.2: "The 'Trying' state is entered when the TU initiates a new client transaction with a
   * request. When entering this state, the client transaction SHOULD set timer F to fire in 64*T1 seconds. The
   * request MUST be passed to the transport layer for transmission. If an unreliable transport is in use, the
   * client transaction MUST set timer E to fire in T1 seconds."
   */
  start(): void {
    this.startTimer('F', this.timers.F, () => this.timerF());
    if (!this.reliable) this.startTimer('E', this.intervalE, () => this.timerE());
    this.send(this.request);
  }

  receiveResponse(response: SipResponse): void {
    switch (this.state) {
      case S.Trying:
      case S.Proceeding:
        // §17.1.2.2: "If a provisional response is received while in the 'Trying' state, the response MUST be passed
        // to the TU, and then the client transaction SHOULD move to the 'Proceeding' state." Same in Proceeding.
        if (response.status < 200) {
          if (this.state === S.Trying) this.stateTransition(S.Proceeding);
          this.user.receiveResponse(response);
          return;
        }
        // "If a final response (status codes 200-699) is received while in the 'Trying' [or 'Proceeding'] state,
        // the response MUST be passed to the TU, and the client transaction MUST transition to the 'Completed'
        // state."
        this.stateTransition(S.Completed);
        this.user.receiveResponse(response);
        return;
      case S.Completed:
        // "The 'Completed' state exists to buffer any additional response retransmissions that may be received."
        return;
      case S.Terminated:
        return;
    }
  }

  /**
   * §17.1.2.2: in Trying, Timer E resends and doubles up to T2; "If Timer E fires while in the 'Proceeding' state,
   * the request MUST be passed to the transport layer for retransmission, and Timer E MUST be reset with a value
   * of T2 seconds."
   */
  private timerE(): void {
    this.send(this.request);
    this.intervalE = this.state === S.Proceeding ? this.timers.t2 : this.timers.backoff(this.intervalE);
    this.startTimer('E', this.intervalE, () => this.timerE());
  }

  /** §17.1.2.2: "If timer F fires while the client transaction is still in the 'Trying' [or 'Proceeding'] state,
   * the client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the 'Terminated'
   * state." */
  private timerF(): void {
    this.user.onTimeout(
      new SipError('SIP_TIMEOUT', `no final response to ${this.request.method} within ${this.timers.F} ms (Timer F)`),
    );
    this.terminate();
  }

  /** §17.1.4: the TU is informed and the transaction goes to Terminated. */
  protected transportFailed(error: SipError): void {
    this.user.onTransportError(error);
    this.terminate();
  }

  protected stateTransition(next: NonInviteClientState): void {
    this.enterState(next, TRANSITIONS);
    switch (next) {
      case S.Completed:
        // §17.1.2.2: "Once the client transaction enters the 'Completed' state, it MUST set Timer K to fire in T4
        // seconds for unreliable transports, and zero seconds for reliable transports."
        this.clearTimer('E');
        this.clearTimer('F');
        this.startTimer('K', this.timers.K(this.reliable), () => this.terminate());
        return;
      case S.Terminated:
        this.user.onTerminated?.();
        return;
      default:
        return;
    }
  }
}
