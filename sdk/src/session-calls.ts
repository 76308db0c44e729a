/**
 * A session's calls (docs/client-protocol.md "Calls"): the live ones by callId, the offers of incoming calls not yet
 * announced, and the routing of every call frame and call `fail` to its call. A call leaves when it reaches a
 * final status; all of them end when the connection goes.
 */
import { Call, type CallHost, type CallOptions, type TransferEvent } from './call.ts';
import type { MediaOptions } from './media.ts';
import { asCall, asObject, isCallMessage, type ClientMessageName, type ServerCall, type ServerFailure, type TransferStatus } from './protocol.ts';
import { newId } from './ids.ts';

/** Offers (setRemoteSDP) kept for incoming calls not yet announced; older ones are dropped beyond this. */
const MAX_PENDING_OFFERS = 16;

export interface SessionCallsHost {
  readonly media: MediaOptions;
  /** Sends a frame; false when the session's socket is not open. */
  send(message: ClientMessageName, arg: object): boolean;
  /** A frame about calls that concerns none the session can use. */
  warn(apiMethod: string, info: string): void;
  /** An incoming call the application may answer. */
  incoming(call: Call): void;
}

export class SessionCalls {
  readonly #calls = new Map<string, Call>();
  readonly #offers = new Map<string, string>();
  readonly #callHost: CallHost;

  constructor(private readonly host: SessionCallsHost) {
    this.#callHost = {
      media: host.media,
      send: (message, arg) => host.send(message, arg),
      ended: (call) => {
        if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
      },
    };
  }

  /** The calls that have not ended. */
  get all(): readonly Call[] {
    return [...this.#calls.values()];
  }

  /** Whether `call` is a live call of this session. */
  holds(call: Call): boolean {
    return this.#calls.get(call?.id) === call;
  }

  /** An outgoing call: made here, placed in the background (microphone, offer, `call`). */
  place(options: CallOptions, caller: string | undefined): Call {
    const data: ServerCall = { callId: newId(), status: 'PENDING', incoming: false, callee: options.callee };
    if (caller !== undefined) data.caller = caller;
    const call = new Call(this.#callHost, data);
    this.#calls.set(call.id, call);
    void call._place(options, caller);
    return call;
  }

  /** `notifyTryingResponse`, `ring`, `talk`, `hold`, `finish`: the status in the call object is the truth. */
  status(data: unknown): void {
    const call = asCall(data);
    if (call !== undefined) this.#calls.get(call.callId)?._serverStatus(call);
  }

  /** `setRemoteSDP`: the answer of an outgoing call, or the offer of an incoming one (before it is announced). */
  remoteSdp(callId: unknown, sdp: unknown): void {
    if (typeof callId !== 'string' || typeof sdp !== 'string') return;
    const call = this.#calls.get(callId);
    if (call !== undefined) {
      call._remoteSdp(sdp);
      return;
    }
    this.#offers.delete(callId);
    this.#offers.set(callId, sdp);
    for (const oldest of this.#offers.keys()) {
      if (this.#offers.size <= MAX_PENDING_OFFERS) break;
      this.#offers.delete(oldest);
    }
  }

  /** `notifyIncomingCall`, with the offer that came before it. */
  incoming(value: unknown): void {
    const data = asCall(value);
    if (data === undefined) return;
    if (this.#calls.has(data.callId)) {
      this.host.warn('notifyIncomingCall', `a second notifyIncomingCall for call ${data.callId} was ignored`);
      return;
    }
    const offer = this.#offers.get(data.callId);
    this.#offers.delete(data.callId);
    const call = new Call(this.#callHost, { ...data, incoming: true }, offer);
    this.#calls.set(call.id, call);
    this.host.incoming(call);
  }

  /** `notifyTransferEvent` `[{callId, status, info}]`. */
  transfer(value: unknown): void {
    const o = asObject(value);
    const status = o['status'];
    if (typeof o['callId'] !== 'string' || typeof status !== 'string') return;
    const event: TransferEvent = { status: status as TransferStatus };
    if (typeof o['info'] === 'string') event.info = o['info'];
    this.#calls.get(o['callId'])?._transfer(event);
  }

  /**
   * A `fail` about a call, by its `callId`; a refused `call` without one (a frame the server could not read) goes
   * to the oldest call still waiting for its first answer, since the server answers frames in order. False when
   * the failure is about no call of this session.
   */
  failure(failure: ServerFailure): boolean {
    const { apiMethod } = failure;
    const call =
      failure.callId !== undefined
        ? this.#calls.get(failure.callId)
        : apiMethod === 'call'
          ? [...this.#calls.values()].find((c) => c._awaitingReply)
          : undefined;
    if (call === undefined || !(isCallMessage(apiMethod) || apiMethod === 'CallStatusEvent' || apiMethod === 'TransferStatusEvent')) {
      return false;
    }
    call._fail(failure);
    return true;
  }

  /** The connection is gone: every call ends here with `status` and `info`, and pending offers are dropped. */
  endAll(status: 'FINISH' | 'FAILED', info: string): void {
    for (const call of [...this.#calls.values()]) call._end(status, info);
    this.#calls.clear();
    this.#offers.clear();
  }
}
