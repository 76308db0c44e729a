/**
 * What the four transaction state machines of RFC 3261 §17 share: an id (the matching key of ./matching.ts), the
 * transport and peer the transaction talks to, its timers, sending with transport failures turned into
 * SipError SIP_TRANSPORT, and termination. The state machines themselves live one per file beside this one.
 */
import { SipError } from '../errors.ts';
import type { SipMessage, SipResponse } from '../message/message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import type { Clock, TimerHandle } from '../../clock.ts';
import type { TimerValues } from './timers.ts';

/** What a transaction gets from the layer that owns it. */
export interface TransactionContext {
  timers: TimerValues;
  clock: Clock;
  /** Called once when the transaction terminates, so the owner drops it from its tables. */
  released?(transaction: Transaction<string>): void;
}

/** Timer names as in RFC 3261 Table 4 and RFC 6026 §8.4, §8.7; `Trying` is the 200 ms of §17.2.1, `2xx` the
 * retransmission of §13.3.1.4. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying' | '2xx';

/**
 * The state enums of all four kinds share this member, so the base class can tell when a transaction is over.
 * (Each subclass still owns its own enum and transition table.)
 */
const TERMINATED = 'Terminated';

export abstract class Transaction<State extends string> {
  /** The matching key (RFC 3261 §17.1.3 / §17.2.3), unique among live transactions of the same side. */
  readonly id: string;
  readonly transport: Transport;
  /** Where requests (client) or responses (server) go. */
  readonly remote: Endpoint;
  protected readonly timers: TimerValues;
  private readonly context: TransactionContext;
  private currentState: State;
  private readonly running = new Map<TimerName, TimerHandle>();

  protected constructor(id: string, transport: Transport, remote: Endpoint, initial: State, context: TransactionContext) {
    this.id = id;
    this.transport = transport;
    this.remote = remote;
    this.currentState = initial;
    this.context = context;
    this.timers = context.timers;
  }

  get state(): State {
    return this.currentState;
  }

  /** Reliable transports get no retransmissions and zero-length wait timers (RFC 3261 §17, Table 4). */
  get reliable(): boolean {
    return this.transport.reliable;
  }

  /**
   * Ends the transaction now, from any state: timers cleared, nothing more sent or passed up, the TU told that it
   * terminated. Safe to call more than once.
   */
  dispose(): void {
    this.terminate();
  }

  /** To Terminated unless already there (a TU callback may have disposed the transaction). */
  protected terminate(): void {
    if (!this.terminated) this.stateTransition(TERMINATED as State);
  }

  /** The subclass's transition: `enterState` with its own table, then the actions of entering `next`. */
  protected abstract stateTransition(next: State): void;

  /**
   * Moves to `next` if `allowed[current]` lists it, else throws: a transition outside the RFC diagram is a bug in
   * this layer, not a condition a caller could handle. Entering Terminated clears every timer and releases the
   * transaction from its owner.
   */
  protected enterState(next: State, allowed: Readonly<Record<State, readonly State[]>>): void {
    const from = this.currentState;
    if (!allowed[from].includes(next)) {
      throw new Error(`${this.constructor.name} ${this.id}: invalid state transition ${from} -> ${next}`);
    }
    this.currentState = next;
    if (next === TERMINATED) {
      for (const handle of this.running.values()) this.context.clock.clearTimeout(handle);
      this.running.clear();
      this.context.released?.(this);
    }
  }

  protected get terminated(): boolean {
    return this.currentState === TERMINATED;
  }

  /** (Re)starts a timer; a zero duration fires on the next turn of the clock (RFC 3261 Table 4: "0s"). */
  protected startTimer(name: TimerName, ms: number, fire: () => void): void {
    this.clearTimer(name);
    const handle = this.context.clock.setTimeout(() => {
      this.running.delete(name);
      fire();
    }, ms);
    this.running.set(name, handle);
  }

  protected clearTimer(name: TimerName): void {
    const handle = this.running.get(name);
    if (handle === undefined) return;
    this.context.clock.clearTimeout(handle);
    this.running.delete(name);
  }

  /**
   * Passes a message to the transport. A failure arrives later, as SipError SIP_TRANSPORT, at `transportFailed` (RFC 3261
   * §17.1.4; RFC 6026 §8.8 for server transactions), unless the transaction has ended meanwhile.
   */
  protected send(message: SipMessage): void {
    this.transport.send(message, this.remote).then(undefined, (cause: unknown) => {
      if (this.terminated) return;
      const error = cause instanceof SipError && cause.code === 'SIP_TRANSPORT'
        ? cause
        : new SipError('SIP_TRANSPORT', `sending to ${this.remote.address}:${this.remote.port} failed: ${String(cause)}`, { cause });
      this.transportFailed(error);
    });
  }

  protected abstract transportFailed(error: SipError): void;
}

/** A TU passing a status outside 100-699 is a bug (RFC 3261 §7.2, §21), not a condition to handle. */
export function assertResponseStatus(response: SipResponse): void {
  if (!Number.isInteger(response.status) || response.status < 100 || response.status > 699) {
    throw new RangeError(`a response status must be 100-699, got ${response.status}`);
  }
}
