/**
 * The INVITE server transaction, RFC 3261 §17.2.1 (Figure 7) as corrected by RFC 6026 §7.1, §8.5-§8.8: a 2xx
 * from the TU moves the transaction to Accepted, where retransmissions of the INVITE are absorbed instead of
 * reaching the TU as new requests, until Timer L.
 *
 * Deliberate deviation, kept small and in one place: RFC 3261 §13.3.1.4 makes the UAS core retransmit a 2xx until
 * its ACK arrives, and RFC 6026 §7.1 says "The server transaction MUST NOT generate 2xx retransmissions on its own". This
 * stack has no separate UAS core, so the Accepted state does that core's job: it retransmits the 2xx at T1, 2*T1,
 * ... capped at T2 (on any transport, as §13.3.1.4 requires: a reliable first hop does not make the path
 * reliable) until the ACK for it arrives (matched by the transaction layer through Call-ID, CSeq number and tags,
 * ./matching.ts `ackKey`), and reports `onAckTimeout` when Timer L (64*T1) ends it unacknowledged.
 *
 * State          event                                 action                      next state
 * Proceeding     (INVITE received)                     passed to the TU by the transaction layer
 * Proceeding     200 ms without a response             send 100 Trying
 * Proceeding     1xx from the TU                       send
 * Proceeding     INVITE retransmission                 resend the last 1xx
 * Proceeding     2xx from the TU                       send, Timer L, 2xx timer     Accepted
 * Proceeding     300-699 from the TU                   send, Timer H, Timer G (unreliable only)  Completed
 * Completed      Timer G                               resend, G = min(2*G, T2)
 * Completed      INVITE retransmission                 resend the final response
 * Completed      ACK                                   (G, H stop), Timer I         Confirmed
 * Completed      Timer H (64*T1)                       tell the TU: no ACK          Terminated
 * Confirmed      ACK                                   absorbed
 * Confirmed      Timer I (T4 UDP, 0 reliable)                                       Terminated
 * Accepted       2xx timer (T1, 2*T1 ... T2)           resend the 2xx
 * Accepted       ACK for the 2xx                       to the TU (2xx timer stops)
 * Accepted       INVITE retransmission                 absorbed
 * Accepted       2xx from the TU                       send
 * Accepted       Timer L (64*T1)                       tell the TU if no ACK came   Terminated
 * any            transport error                       tell the TU (RFC 6026 §8.8: state unchanged)
 */
import type { SipError } from '../errors.ts';
import { createResponse } from '../message/builders.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { serverTransactionId } from './matching.ts';
import { TRYING_DELAY_MS } from './timers.ts';
import { assertResponseStatus, Transaction, type TransactionContext } from './transaction.ts';
import type { InviteServerTransactionUser } from './transaction-user.ts';

export enum InviteServerState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteServerState;

const TRANSITIONS: Readonly<Record<InviteServerState, readonly InviteServerState[]>> = {
  [S.Proceeding]: [S.Completed, S.Accepted, S.Terminated],
  [S.Completed]: [S.Confirmed, S.Terminated],
  [S.Confirmed]: [S.Terminated],
  [S.Accepted]: [S.Terminated],
  [S.Terminated]: [],
};

export interface InviteServerContext extends TransactionContext {
  /** The transaction sent a 2xx and waits for its ACK: the owner indexes it by `ackKey(response)`. */
  accepted?(transaction: InviteServerTransaction, response: SipResponse): void;
}

export class InviteServerTransaction extends Transaction<InviteServerState> {
  readonly kind = 'invite-server' as const;
  readonly request: SipRequest;
  /** Set by the TU when it takes the request. */
  user: InviteServerTransactionUser = {};
  private readonly hooks: InviteServerContext;
  /** The most recent provisional response: resent when the INVITE is retransmitted in Proceeding. */
  private provisional: SipResponse | undefined;
  /** The final response (non-2xx in Completed, 2xx in Accepted). */
  private final: SipResponse | undefined;
  /** The interval Timer G or the 2xx retransmission timer was last started with. */
  private interval: number;
  private acknowledged = false;

  /**
   * `remote` is where responses go (RFC 3261 §18.2.2, worked out by the transaction layer). §17.2.1: "When a
   * server transaction is constructed for a request, it enters the 'Proceeding' state. The server transaction MUST
   * generate a 100 (Trying) response unless it knows that the TU will generate a provisional or final response
   * within 200 ms".
   */
  constructor(request: SipRequest, transport: Transport, remote: Endpoint, context: InviteServerContext) {
    if (request.method !== 'INVITE') throw new Error(`a ${request.method} has no INVITE server transaction (RFC 3261 §17.2.1)`);
    super(serverTransactionId(request), transport, remote, S.Proceeding, context);
    this.request = request;
    this.hooks = context;
    this.interval = this.timers.t1;
    this.startTimer('Trying', TRYING_DELAY_MS, () => this.sendTrying());
  }

  /** A retransmitted INVITE or an ACK with this transaction's branch (matched by the transaction layer, §17.2.3). */
  receiveRequest(request: SipRequest): void {
    if (request.method === 'ACK') {
      this.receiveAck(request);
      return;
    }
    switch (this.state) {
      case S.Proceeding:
        // §17.2.1: "If a request retransmission is received while in the 'Proceeding' state, the most recent
        // provisional response that was received from the TU MUST be passed to the transport layer for
        // retransmission."
        if (this.provisional) this.send(this.provisional);
        return;
      case S.Completed:
        // §17.2.1: "while in the 'Completed' state, if a request retransmission is received, the server SHOULD pass
        // the response to the transport for retransmission."
        if (this.final) this.send(this.final);
        return;
      case S.Accepted:
        // RFC 6026 §7.1: retransmissions of the INVITE in Accepted "will be absorbed by the machine without
        // changing its state. These retransmissions are not passed onto the TU."
      case S.Confirmed:
      case S.Terminated:
        return;
    }
  }

  /**
   * An ACK for this transaction: the ACK for the non-2xx final response (same branch, §17.2.1), or the ACK for the
   * 2xx (own branch, found by the transaction layer through `ackKey`).
   */
  receiveAck(ack: SipRequest): void {
    switch (this.state) {
      case S.Completed:
        // §17.2.1: "If an ACK is received while the server transaction is in the 'Completed' state, the server
        // transaction MUST transition to the 'Confirmed' state."
        this.stateTransition(S.Confirmed);
        return;
      case S.Accepted:
        // RFC 6026 §7.1: "Any ACKs received from the network while in the 'Accepted' state MUST be passed directly
        // to the TU and not absorbed."; RFC 3261 §13.3.1.4: "Response
        // retransmissions cease when an ACK request for the response is received."
        this.acknowledged = true;
        this.clearTimer('2xx');
        this.user.onAck?.(ack);
        return;
      case S.Proceeding:
      case S.Confirmed:
      case S.Terminated:
        // Confirmed: "absorb any additional ACK messages that arrive"; elsewhere an ACK has nothing to acknowledge.
        return;
    }
  }

  /**
   * Sends a response from the TU. Status codes outside 100-699 are a bug of the caller (RangeError). After a
   * non-2xx final response further responses are discarded; in Accepted a 2xx is sent again (RFC 6026 §7.1: "Any
   * retransmission of the 2xx response passed from the TU to the transaction while in the 'Accepted' state MUST be
   * passed to the transport layer for transmission").
   */
  respond(response: SipResponse): void {
    assertResponseStatus(response);
    const status = response.status;
    switch (this.state) {
      case S.Proceeding:
        this.clearTimer('Trying');
        this.send(response);
        if (status < 200) {
          // §17.2.1: "The TU passes any number of provisional responses to the server transaction. So long as the
          // server transaction is in the 'Proceeding' state, each of these MUST be passed to the transport layer."
          this.provisional = response;
        } else if (status < 300) {
          // RFC 6026 §8.5: "If, while in the 'Proceeding' state, the TU passes a 2xx response to the server
          // transaction, the server transaction MUST pass this response to the transport layer for transmission
          // [...] The server transaction MUST then transition to the 'Accepted' state."
          this.final = response;
          this.stateTransition(S.Accepted);
        } else {
          // §17.2.1: "While in the 'Proceeding' state, if the TU passes a response with status code from 300 to 699
          // to the server transaction, the response MUST be passed to the transport layer for transmission, and
          // the state machine MUST enter the 'Completed' state."
          this.final = response;
          this.stateTransition(S.Completed);
        }
        return;
      case S.Accepted:
        if (status >= 200 && status < 300) this.send(response);
        return;
      case S.Completed:
      case S.Confirmed:
      case S.Terminated:
        return;
    }
  }

  private sendTrying(): void {
    // Only reached in Proceeding before any response: the timer is cleared by the first response from the TU.
    this.provisional = createResponse(this.request, 100);
    this.send(this.provisional);
  }

  /** §17.2.1: "If timer G fires, the response is passed to the transport layer once more for retransmission, and
   * timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when timer G fires, the response is passed to
   * the transport again for transmission, and timer G is reset with a value that doubles, unless that value
   * exceeds T2, in which case it is reset with the value of T2." */
  private timerG(): void {
    if (this.final) this.send(this.final);
    this.interval = this.timers.backoff(this.interval);
    this.startTimer('G', this.interval, () => this.timerG());
  }

  /** §13.3.1.4: the 2xx "is passed to the transport with an interval that starts at T1 seconds and doubles for
   * each retransmission until it reaches T2 seconds". */
  private retransmit2xx(): void {
    if (this.final) this.send(this.final);
    this.interval = this.timers.backoff(this.interval);
    this.startTimer('2xx', this.interval, () => this.retransmit2xx());
  }

  /** §17.2.1: "If timer H fires while in the 'Completed' state, it implies that the ACK was never received. In
   * this case, the server transaction MUST transition to the 'Terminated' state, and MUST indicate to the TU that a
   * transaction failure has occurred." */
  private timerH(): void {
    this.user.onAckTimeout?.();
    this.terminate();
  }

  /** RFC 6026 §8.7: "If Timer L fires while the INVITE server transaction is in the 'Accepted' state, the
   * transaction MUST transition to the 'Terminated' state." Without an ACK by then, §13.3.1.4 applies. */
  private timerL(): void {
    if (!this.acknowledged) this.user.onAckTimeout?.();
    this.terminate();
  }

  /**
   * RFC 6026 §8.8 (replacing RFC 3261 §17.2.4): "the server transaction SHOULD inform the TU that a failure has
   * occurred, and MUST remain in the current state" (the backup procedures of RFC 3263 before that are the
   * transport's: TcpTransport reconnects towards the Via). The transaction's timers still end it.
   */
  protected transportFailed(error: SipError): void {
    this.user.onTransportError?.(error);
  }

  protected stateTransition(next: InviteServerState): void {
    this.enterState(next, TRANSITIONS);
    switch (next) {
      case S.Completed:
        // §17.2.1: "When the 'Completed' state is entered, timer H MUST be set to fire in 64*T1 seconds for all
        // transports. Timer G is set to fire in T1 seconds for unreliable transports, and not set to fire for
        // reliable transports."
        this.startTimer('H', this.timers.H, () => this.timerH());
        if (!this.reliable) this.startTimer('G', this.timers.G, () => this.timerG());
        return;
      case S.Confirmed:
        // §17.2.1: "The purpose of the 'Confirmed' state is to absorb any additional ACK messages that arrive [...].
        // When this state is entered, timer I is set to fire in T4 seconds for unreliable transports, and zero
        // seconds for reliable transports."
        this.clearTimer('G');
        this.clearTimer('H');
        this.startTimer('I', this.timers.I(this.reliable), () => this.terminate());
        return;
      case S.Accepted:
        // RFC 6026 §8.7: Timer L (64*T1) bounds the Accepted state; the 2xx
        // retransmission of §13.3.1.4 starts at T1 (see the header comment).
        this.startTimer('L', this.timers.L, () => this.timerL());
        this.startTimer('2xx', this.interval, () => this.retransmit2xx());
        if (this.final) this.hooks.accepted?.(this, this.final);
        return;
      case S.Terminated:
        this.user.onTerminated?.();
        return;
      case S.Proceeding:
        return;
    }
  }
}
