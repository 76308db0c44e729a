/**
 * The calls of one session, by callId (client-made for outgoing calls, server-made for incoming ones). Several may
 * be live at once. Client requests are routed here; one naming no live call of the session gets `fail` with the
 * message as `apiMethod` (client-protocol.md "Errors and bad input").
 */
import type { CallInfo } from '../admin/sessions.ts';
import type { Invitation } from '../sip/ua/index.ts';
import { Call, type CallHost } from './call.ts';
import type {
  AnswerRequest, CallControlRequest, CallMessage, DtmfRequest, OutgoingCallRequest, TransferRequest,
} from './types.ts';

/** RFC 3261 §21.4.18: the session exists but cannot take a call now (its client is gone). */
const TEMPORARILY_UNAVAILABLE = 480;

export class SessionCalls {
  private readonly live = new Map<string, Call>();
  /** Calls that reached their final status but are still closing media or SIP: `endAll` waits for them. */
  private readonly closing = new Set<Promise<void>>();
  private accepting = true;
  private readonly onEnded = (call: Call): void => this.ended(call);

  constructor(private readonly host: CallHost) {}

  place(request: OutgoingCallRequest): void {
    if (this.live.has(request.callId)) return this.host.refuse('call', request.callId, `call: callId ${request.callId} is already in use`);
    if (!this.accepting) return this.host.refuse('call', request.callId, 'call: the session is ending');
    this.track(Call.place(this.host, request, this.onEnded));
  }

  /** A new INVITE for the session's Contact (its registration). */
  receive(invitation: Invitation): void {
    if (!this.accepting) return invitation.reject(TEMPORARILY_UNAVAILABLE);
    this.track(Call.receive(this.host, invitation, this.onEnded));
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

  infos(): CallInfo[] {
    return [...this.live.values()].map((c) => c.info());
  }

  /** The session is going away: no new calls; every call ends with `info`. Resolves once all are closed. */
  async endAll(info: string): Promise<void> {
    this.accepting = false;
    const ending = [...this.live.values()].map((c) => c.disconnect(info));
    await Promise.all([...ending, ...this.closing]);
  }

  private track(call: Call): void {
    // An incoming call may end before it is tracked (refused synchronously): then it is not live.
    if (!call.isEnded) this.live.set(call.callId, call);
  }

  private ended(call: Call): void {
    if (this.live.get(call.callId) === call) this.live.delete(call.callId);
    const closed = call.closed;
    this.closing.add(closed);
    // `closed` never rejects (Call.finish logs what fails while closing): nothing is lost by not awaiting it here.
    void closed.then(() => this.closing.delete(closed));
  }

  private with(message: CallMessage, callId: string, act: (call: Call) => Promise<void>): void {
    const call = this.live.get(callId);
    if (call === undefined) return this.host.refuse(message, callId, `${message}: no call ${callId} in this session`);
    call.contain(() => act(call));
  }
}
