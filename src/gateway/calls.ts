/**
 * The calls of one session, by callId (client-made for outgoing calls, server-made for incoming ones). Several may
 * be live at once. Client requests are routed here; one naming no live call of the session gets `fail` with the
 * message as `apiMethod` (docs/client-protocol.md "Bad input").
 *
 * A new call must be admitted by the call limits (./call-limits.ts): a `call` past one gets `fail` naming the limit
 * and `finish` FAILED with the same info (so the SDK lets go of it), an incoming INVITE past one gets 486. Either
 * way, as for a call refused because its session is ending, a detail record says so (./call-record.ts).
 */
import { randomUUID } from 'node:crypto';
import type { CallInfo } from './info.ts';
import { RepeatedWarnings } from '../log.ts';
import type { Invitation } from '../sip/ua/index.ts';
import type { Call, CallHost } from './call.ts';
import { callRecordEvent, recordRefusedCall, type Refusal } from './call-record.ts';
import { IncomingCall, partyName } from './incoming-call.ts';
import { OutgoingCall } from './outgoing-call.ts';
import type { CallLimits } from './call-limits.ts';
import type {
  AnswerRequest, CallControlRequest, CallMessage, DtmfRequest, OutgoingCallRequest, SessionEndedBy, TransferRequest,
} from './types.ts';

/** RFC 3261 §21.4.18: the session exists but cannot take a call now (its client is gone). */
const TEMPORARILY_UNAVAILABLE = 480;
/** RFC 3261 §21.4.24: the callee is reachable but takes no more calls (a call limit). */
const BUSY_HERE = 486;
/** Why a call of a session that is going away is refused. */
const SESSION_ENDING = 'the session is ending';

/**
 * A registered session may live for days without a call, so what only calls need is made with the first one: an
 * empty Map or Set costs some 150–180 bytes of heap, and there are thousands of sessions (docs/benchmarks.md).
 */
export class SessionCalls {
  /** Made at the first call. */
  private live: Map<string, Call> | undefined;
  /** Calls that reached their final status but are still closing media or SIP: `endAll` waits for them. */
  private closing: Set<Promise<void>> | undefined;
  private accepting = true;
  /** Calls refused by a limit: a client that keeps trying is logged once per limit, then counted. Made at the first. */
  private refusals: RepeatedWarnings | undefined;

  /** `address`: the client's IP address, which the per-IP call limits count by. */
  constructor(
    private readonly host: CallHost,
    private readonly limits: CallLimits,
    private readonly address: string,
  ) {}

  /** A client's `call` (or the REST API's call/startup): the call, or undefined when it was refused at once. */
  place(request: OutgoingCallRequest): OutgoingCall | undefined {
    this.host.timeline.fromClient('call', request.callId);
    if (this.live?.has(request.callId)) return void this.host.refuse('call', request.callId, `call: callId ${request.callId} is already in use`);
    if (!this.accepting) {
      this.recordRefused(request.callId, 'outgoing', this.host.sipLogin ?? '', request.callee ?? '', { info: SESSION_ENDING, sipStatus: null, sipCallId: null });
      return void this.host.refuse('call', request.callId, `call: ${SESSION_ENDING}`);
    }
    const exceeded = this.limits.admit(this.address, this.live?.size ?? 0, true);
    if (exceeded !== undefined) return void this.refuseOverLimit(request, `call: ${exceeded}`);
    const call = OutgoingCall.place(this.host, request, (c) => this.ended(c));
    this.track(call);
    return call;
  }

  /** The live call `callId`, if the session has it. */
  get(callId: string): Call | undefined {
    return this.live?.get(callId);
  }

  /** A new INVITE for the session's Contact (its registration). */
  receive(invitation: Invitation): void {
    this.host.timeline.trackSip(invitation.callId);
    if (!this.accepting) return this.refuseIncoming(invitation, TEMPORARILY_UNAVAILABLE, SESSION_ENDING);
    const exceeded = this.limits.admit(this.address, this.live?.size ?? 0, false);
    if (exceeded !== undefined) {
      this.warnings().warn(exceeded, { exceeded, address: this.address }, 'incoming call refused with 486: a call limit');
      return this.refuseIncoming(invitation, BUSY_HERE, exceeded);
    }
    this.track(IncomingCall.receive(this.host, invitation, (c) => this.ended(c)));
  }

  answer(request: AnswerRequest): void {
    this.with('answer', request.callId, (c) => c.answer(request));
  }

  hangup(request: CallControlRequest): void {
    this.with('hangup', request.callId, (c) => c.hangup(request));
  }

  hold(request: CallControlRequest, on: boolean): void {
    this.with(on ? 'hold' : 'unhold', request.callId, (c) => c.hold(request, on));
  }

  sendDtmf(request: DtmfRequest): void {
    this.with('sendDtmf', request.callId, (c) => c.sendDtmf(request));
  }

  transfer(request: TransferRequest): void {
    this.with('transfer', request.callId, (c) => c.transfer(request));
  }

  /** Ends the call `callId` with `info` (the admin API's terminate); false when this session has no such call. */
  terminate(callId: string, info: string): boolean {
    const call = this.live?.get(callId);
    if (call === undefined) return false;
    call.contain(() => call.disconnect(info, 'callhook'));
    return true;
  }

  infos(): CallInfo[] {
    return [...(this.live?.values() ?? [])].map((c) => c.info());
  }

  /** The session is going away (`by` its client or callhook): no new calls; every call ends with `info`. Resolves once all are closed. */
  async endAll(info: string, by: SessionEndedBy): Promise<void> {
    this.accepting = false;
    this.refusals?.flush();
    const ending = [...(this.live?.values() ?? [])].map((c) => c.disconnect(info, by));
    await Promise.all([...ending, ...(this.closing ?? [])]);
  }

  private track(call: Call): void {
    // An incoming call may end before it is tracked (refused synchronously): then it is not live.
    if (!call.isEnded) (this.live ??= new Map()).set(call.callId, call);
  }

  /**
   * A `call` over a limit never starts: `fail` naming the limit (and ErrorStatusEvent to the backend, as for any
   * refused call message), then `finish` FAILED with the same info, without which the SDK would wait for the call.
   */
  private refuseOverLimit(request: OutgoingCallRequest, info: string): void {
    this.warnings().warn(info, { info, address: this.address }, 'call refused: a call limit');
    this.recordRefused(request.callId, 'outgoing', this.host.sipLogin ?? '', request.callee ?? '', { info, sipStatus: null, sipCallId: null });
    this.host.refuse('call', request.callId, info);
    const call = { callId: request.callId, incoming: false, ...(request.callee !== undefined && { callee: request.callee }) };
    this.host.deliver({ type: 'callStatus', call: { ...call, status: 'FAILED', info } });
  }

  /** An INVITE refused before its call starts (`status`, RFC 3261 §21): answered, and recorded with `info`. */
  private refuseIncoming(invitation: Invitation, status: number, info: string): void {
    invitation.reject(status);
    this.recordRefused(randomUUID(), 'incoming', partyName(invitation.caller), partyName(invitation.callee), {
      info, sipStatus: status, sipCallId: invitation.callId,
    });
  }

  /** The detail record of a call refused before it started, pushed as CallDetailRecord like any other. */
  private recordRefused(callId: string, direction: 'incoming' | 'outgoing', caller: string, callee: string, refusal: Refusal): void {
    const { host } = this;
    const context = host.hookContext();
    const start = { callId, sessionId: host.sessionId, appKey: context.appKey, direction, caller, callee, startedAt: Date.now() };
    const record = recordRefusedCall(host.callRecords, host.log.child({ callId }), start, refusal);
    if (record !== undefined) host.hooks.emit('CallDetailRecord', callRecordEvent(record), context);
  }

  private ended(call: Call): void {
    this.limits.release(this.address);
    if (this.live?.get(call.callId) === call) this.live.delete(call.callId);
    const closed = call.closed;
    const closing = (this.closing ??= new Set());
    closing.add(closed);
    // `closed` never rejects (Call.finish logs what fails while closing): nothing is lost by not awaiting it here.
    void closed.then(() => closing.delete(closed));
  }

  private warnings(): RepeatedWarnings {
    return (this.refusals ??= new RepeatedWarnings(this.host.log));
  }

  private with(message: CallMessage, callId: string, act: (call: Call) => Promise<void>): void {
    this.host.timeline.fromClient(message, callId);
    const call = this.live?.get(callId);
    if (call === undefined) return this.host.refuse(message, callId, `${message}: no call ${callId} in this session`);
    call.contain(() => act(call));
  }
}
