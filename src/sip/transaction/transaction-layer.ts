/**
 * The transaction layer (RFC 3261 §17): owns every live transaction, matches what the transport layer receives to
 * them (§17.1.3, §17.2.3), creates server transactions for new requests and hands them to the core, and starts
 * client transactions for the core's requests.
 *
 *   core (registration, MESSAGE, OPTIONS, ...)                      TransactionCore.onRequest / sendRequest / request
 *        |                                                          ^
 *   TransactionLayer: clients (by branch+method), servers (by branch+sent-by+method), accepted INVITEs (by ackKey)
 *        |                                                          ^
 *   Transport.send                                                  receive(Received)
 */
import { systemClock, type Clock } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { SipParseError } from '../errors.ts';
import { topVia } from '../message/headers.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { TransportLayer } from '../transport/transport-layer.ts';
import type { Endpoint, Received, Transport } from '../transport/transport.ts';
import { InviteClientTransaction } from './invite-client.ts';
import { InviteServerTransaction, type InviteServerContext } from './invite-server.ts';
import { ackKey, responseTransactionId, serverTransactionId } from './matching.ts';
import { NonInviteClientTransaction } from './non-invite-client.ts';
import { NonInviteServerTransaction } from './non-invite-server.ts';
import { TimerValues, type TimerSettings } from './timers.ts';
import type { Transaction } from './transaction.ts';
import type { ClientTransactionUser } from './transaction-user.ts';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** Where a client transaction sends its request: the transport and next hop chosen by the caller (RFC 3263). */
export interface Destination {
  transport: Transport;
  remote: Endpoint;
}

/** What the layer passes up that belongs to no transaction yet. */
export interface TransactionCore {
  /**
   * A new request (any method but ACK) for which a server transaction was just created; the TU answers through
   * `transaction.respond()`. A CANCEL gets a transaction of its own (§9.2); `findInviteForCancel` finds the INVITE
   * it targets. Retransmissions of the request are absorbed by the transaction and never arrive here again.
   */
  onRequest(transaction: ServerTransaction, received: Received): void;
  /** An ACK that matches no transaction: the ACK for a 2xx this layer did not send (§17.2.3, §13.2.2.4). */
  onStrayAck?(received: Received): void;
  /**
   * A response that matches no client transaction (§17.1.3): RFC 3261 §18.1.2 passes it to the core; for a UAC
   * these are 2xx retransmissions to an INVITE whose transaction has ended, which the core ACKs again (§13.2.2.4).
   */
  onStrayResponse?(received: Received): void;
}

/** What the layer needs from the transport layer below: every received message, and where responses go (§18.2.2). */
export type TransportLayerPort = Pick<TransportLayer, 'onMessage' | 'responseDestination'>;

export interface TransactionLayerOptions {
  /** The layer registers itself as the transport layer's message handler. */
  transportLayer: TransportLayerPort;
  core: TransactionCore;
  /** T1, T2, T4 (defaults 500, 4000, 5000 ms; config `sipT1Ms`, `sipT2Ms`, `sipT4Ms`). */
  timers?: Partial<TimerSettings>;
  clock?: Clock;
  logger?: Logger;
}

export interface RequestOptions {
  /** Each provisional response, in order. */
  onProvisional?(response: SipResponse): void;
}

export class TransactionLayer {
  private readonly core: TransactionCore;
  private readonly transportLayer: TransportLayerPort;
  private readonly log: Logger | undefined;
  private readonly context: InviteServerContext;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** INVITE server transactions in Accepted, by the `ackKey` of their 2xx, and the reverse for clean-up. */
  private readonly accepted = new Map<string, InviteServerTransaction>();
  private readonly acceptedKeys = new Map<InviteServerTransaction, string>();

  constructor(options: TransactionLayerOptions) {
    this.core = options.core;
    this.transportLayer = options.transportLayer;
    this.log = options.logger;
    this.context = {
      timers: new TimerValues(options.timers),
      clock: options.clock ?? systemClock,
      released: (tx) => this.release(tx),
      accepted: (tx, response) => {
        const key = ackKey(response);
        this.accepted.set(key, tx);
        this.acceptedKeys.set(tx, key);
      },
    };
    this.transportLayer.onMessage((received) => this.receive(received));
  }

  /** Live transactions, client and server. */
  get size(): number {
    return this.clients.size + this.servers.size;
  }

  /** The timer values in use (T1, T2, T4 and what derives from them). */
  get timers(): TimerValues {
    return this.context.timers;
  }

  /**
   * Everything the transport layer receives comes here. A message the matching rules cannot read (a bad CSeq,
   * From, ...) is dropped: the transport layer has answered unparseable requests with 400 before this point.
   */
  private receive(received: Received): void {
    const message = received.message;
    if (message.kind === 'response') this.receiveResponse(received, message);
    else this.receiveRequest(received, message);
  }

  /**
   * Starts a client transaction for `request` (RFC 3261 §17.1). The caller has put the top Via with a fresh branch
   * (§8.1.1.7); the layer checks it is an RFC 3261 branch that no live transaction uses, and throws otherwise (a bug
   * of the caller). Over an unreliable transport the transaction retransmits the request itself.
   */
  sendRequest(request: SipRequest, destination: Destination, user: ClientTransactionUser): ClientTransaction {
    const { transport, remote } = destination;
    const tx = request.method === 'INVITE'
      ? new InviteClientTransaction(request, transport, remote, user, this.context)
      : new NonInviteClientTransaction(request, transport, remote, user, this.context);
    if (this.clients.has(tx.id)) {
      throw new Error(`a ${request.method} with branch ${topVia(request).params.get('branch')} is already under way; every request needs a fresh branch (RFC 3261 §8.1.1.7)`);
    }
    this.clients.set(tx.id, tx);
    tx.start();
    return tx;
  }

  /**
   * `sendRequest` as a promise of the final response, whatever its status (a 401 or 407 is for the caller to
   * answer). Rejects with SipError SIP_TIMEOUT (Timer B/F; a 408 for RFC 3261 §8.1.3.1) or SipError SIP_TRANSPORT (a 503
   * for §8.1.3.1). For an INVITE only the first final response is reported: a UAC that must see every forked 2xx
   * uses `sendRequest` with its own ClientTransactionUser.
   */
  request(request: SipRequest, destination: Destination, options: RequestOptions = {}): Promise<SipResponse> {
    return new Promise((resolve, reject) => {
      this.sendRequest(request, destination, {
        receiveResponse: (response) => {
          if (response.status < 200) options.onProvisional?.(response);
          else resolve(response);
        },
        onTimeout: reject,
        onTransportError: reject,
      });
    });
  }

  /**
   * RFC 3261 §9.2: the INVITE server transaction a CANCEL targets — matched like a request to a server transaction
   * (§17.2.3), but with the method INVITE. Undefined when there is none (the TU then answers the CANCEL with 481).
   */
  findInviteForCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    const tx = this.servers.get(serverTransactionId(cancel, 'INVITE'));
    return tx?.kind === 'invite-server' ? tx : undefined;
  }

  /** Ends every transaction (no more retransmissions or timers); the layer stays usable. */
  close(): void {
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.dispose();
  }

  private receiveResponse(received: Received, response: SipResponse): void {
    const id = this.readIds(received, () => responseTransactionId(response));
    if (id === null) return;
    const tx = id === undefined ? undefined : this.clients.get(id);
    if (tx) tx.receiveResponse(response);
    else this.core.onStrayResponse?.(received);
  }

  private receiveRequest(received: Received, request: SipRequest): void {
    const id = this.readIds(received, () => serverTransactionId(request));
    if (id === null) return;
    const existing = this.servers.get(id);
    if (existing) {
      // §17.2.3: a retransmission, or the ACK for a non-2xx final response.
      existing.receiveRequest(request);
      return;
    }
    if (request.method === 'ACK') {
      const key = this.readIds(received, () => ackKey(request));
      if (key === null) return;
      const invite = this.accepted.get(key);
      if (invite) invite.receiveAck(request);
      else this.core.onStrayAck?.(received);
      return;
    }
    const transport = received.transport;
    const remote = this.transportLayer.responseDestination(received);
    const tx = request.method === 'INVITE'
      ? new InviteServerTransaction(request, transport, remote, this.context)
      : new NonInviteServerTransaction(request, transport, remote, this.context);
    this.servers.set(tx.id, tx);
    this.core.onRequest(tx, received);
  }

  /** Runs a matching-key computation; null (and a log line) when the message lacks what matching needs. */
  private readIds<T>(received: Received, compute: () => T): T | null {
    try {
      return compute();
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.log?.debug({ remote: received.remote, reason: e.reason }, 'message dropped: cannot be matched to a transaction');
      return null;
    }
  }

  private release(tx: Transaction<string>): void {
    if (this.clients.get(tx.id) === tx) this.clients.delete(tx.id);
    if (this.servers.get(tx.id) === tx) this.servers.delete(tx.id);
    const key = this.acceptedKeys.get(tx as InviteServerTransaction);
    if (key !== undefined) {
      this.acceptedKeys.delete(tx as InviteServerTransaction);
      if (this.accepted.get(key) === tx) this.accepted.delete(key);
    }
  }
}
