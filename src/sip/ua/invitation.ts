/**
 * An incoming call (RFC 3261 §13.3): a new INVITE to one of our contacts, handed to that contact's `onInvite`. The
 * application decides: `ring` (180) or `progress` (183 with early-media SDP), then `accept` (200 with SDP, which the
 * INVITE server transaction retransmits until the ACK, §13.3.1.4) or `reject` (486, 603, 403, ...). A CANCEL from
 * the caller before that is answered 200, the INVITE 487 (§9.2), and the call ends as `remote-cancel`.
 *
 * An INVITE without SDP (§13.2.1: the offer is then ours, in the 200, and the answer comes in the ACK) is accepted
 * the same way: `accept(offer)`, and the `established` event carries the ACK's answer.
 * No ACK within 64*T1 of the 200: §13.3.1.4 "the UAS core considers the session to be terminated [...] and SHOULD
 * generate a BYE request" — sent, and the call ends as `ack-timeout`.
 */
import { Dialog, DialogState } from '../dialog/dialog.ts';
import { SipError } from '../errors.ts';
import { newTag, reasonPhrase } from '../message/builders.ts';
import { getCallId, getFrom, getTo } from '../message/headers.ts';
import type { SipRequest } from '../message/message.ts';
import type { NameAddr } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';
import type { InviteServerTransaction } from '../transaction/index.ts';
import type { Received } from '../transport/transport.ts';
import { allowHeader } from './allow.ts';
import { describeResponse } from './account.ts';
import type { ContactBinding, IncomingRequest } from './contact.ts';
import { InviteSession, type LeavingReason } from './invite-session.ts';
import { contentType, SDP, sdpOf } from './sdp-body.ts';
import type { InviteSessionHost } from './invite-session-host.ts';
import { InviteSessionState } from './invite-session-model.ts';
import { decideAsUas, uasResponseHeaders } from './session-timer.ts';

/** Ringing (180) or early media (183 with SDP). */
export type ProvisionalStatus = 180 | 183;

/** RFC 3261 §21.4.18 480 Temporarily Unavailable, §21.4.25 487 Request Terminated, §21.5.1 500 Server Internal Error. */
const LEAVING_STATUS: Readonly<Record<LeavingReason, number>> = { disposed: 480, 'remote-bye': 487, failed: 500 };

export class Invitation extends InviteSession {
  /** The INVITE as received, and its bytes (`sipMessageRaw`). */
  readonly request: SipRequest;
  readonly received: Received;
  /** The SDP offer of the INVITE; undefined for an INVITE without SDP (the offer is then ours, in `accept`). */
  readonly offer: Buffer | undefined;
  /** From and To of the INVITE: the caller and whom they called. */
  readonly caller: NameAddr;
  readonly callee: NameAddr;
  /** §8.2.6.2 / §12.1.1: one To tag for every response that carries one, so they all name one dialog. */
  private readonly localTag = newTag();
  private readonly incoming: IncomingRequest;
  private readonly transaction: InviteServerTransaction;

  /** Made by the UserAgent for a new INVITE (throws SipParseError for broken From/To/Call-ID). */
  constructor(host: InviteSessionHost, incoming: IncomingRequest, transaction: InviteServerTransaction, binding: ContactBinding) {
    const request = incoming.message;
    const caller = getFrom(request);
    const callee = getTo(request);
    super({
      host,
      callId: getCallId(request),
      binding,
      ownBinding: false,
      digest: undefined,
      delegate: undefined,
      ownsCallId: false,
    });
    this.request = request;
    this.received = incoming.received;
    this.incoming = incoming;
    this.transaction = transaction;
    this.caller = caller;
    this.callee = callee;
    this.offer = sdpOf(request);
    if (this.offer !== undefined) this.sdp.remote = this.offer;
    host.dialogs.addCancelTarget(transaction, (cancel) => this.cancelled(cancel));
    transaction.user = {
      onAck: (ack) => this.acknowledged(ack),
      onAckTimeout: () => this.ackTimedOut(),
    };
  }

  /** 180 Ringing (or 183 Session Progress with `sdp` for early media). Throws SipError SIP_STATE once answered. */
  ring(sdp?: Buffer): void {
    this.provisional(sdp === undefined ? 180 : 183, sdp);
  }

  /** 183 Session Progress with an early-media SDP answer. */
  progress(sdp: Buffer): void {
    this.provisional(183, sdp);
  }

  /**
   * 200 OK with `sdp` (the answer to the INVITE's offer, or our offer when it had none). The dialog is confirmed
   * (§12.1.1); the session is Answered until the ACK arrives. Throws SipError SIP_STATE once answered, rejected or over.
   */
  accept(sdp: Buffer): void {
    this.assertUnanswered('accept');
    const dialog = this.ensureDialog(DialogState.Confirmed);
    dialog.confirm();
    this.sdp.local = sdp;
    if (this.state === InviteSessionState.Initial) this.stateTransition(InviteSessionState.Establishing);
    this.stateTransition(InviteSessionState.Answered);
    this.host.dialogs.removeCancelTarget(this.transaction);
    // RFC 4028 §9: the UA core has refused an interval below our Min-SE (422) before this call existed.
    const timer = decideAsUas(this.request, this.host.sessionTimerSettings);
    this.respond(200, { sdp, dialog: true, headers: timer.kind === 'timer' ? uasResponseHeaders(timer.expires) : [] });
    this.sessionTimer.negotiatedAsUas(timer);
  }

  /** A final 3xx-6xx (486 Busy Here by default; 603 Decline, 403 Forbidden, 480 ...). Ends the call (`declined`). */
  reject(status = 486, reason?: string): void {
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new RangeError(`a rejection needs a 3xx-6xx status, got ${status}`);
    this.assertUnanswered('reject');
    this.host.dialogs.removeCancelTarget(this.transaction);
    const response = this.respond(status, { dialog: false, ...(reason !== undefined && { reason }) });
    this.end('declined', { info: describeResponse({ status, reason: response.reason }), status });
  }

  /** Unanswered: reject with 486; answered: BYE (after the ACK, §15); otherwise nothing. */
  async terminate(): Promise<void> {
    switch (this.state) {
      case InviteSessionState.Initial:
      case InviteSessionState.Establishing:
        return this.reject(486);
      case InviteSessionState.Answered:
      case InviteSessionState.Established:
        return this.bye();
      default:
        return;
    }
  }

  /**
   * An INVITE not yet answered finally gets its final response: 480 when disposed (or its transaction would wait
   * forever), 487 after a BYE on our early dialog (the caller may send one, §15), 500 on a programming error.
   */
  protected override leaving(reason: LeavingReason): void {
    if (this.state !== InviteSessionState.Initial && this.state !== InviteSessionState.Establishing) return;
    this.host.dialogs.removeCancelTarget(this.transaction);
    this.respond(LEAVING_STATUS[reason], { dialog: false });
  }

  private provisional(status: ProvisionalStatus, sdp?: Buffer): void {
    this.assertUnanswered('send a provisional response');
    this.ensureDialog(DialogState.Early);
    if (this.state === InviteSessionState.Initial) this.stateTransition(InviteSessionState.Establishing);
    this.respond(status, { dialog: true, ...(sdp && { sdp }) });
  }

  /** §9.2: "the UAS [...] SHOULD then respond to the INVITE with a 487 (Request Terminated)". */
  private cancelled(cancel: SipRequest): void {
    if (this.state !== InviteSessionState.Initial && this.state !== InviteSessionState.Establishing) return;
    this.host.dialogs.removeCancelTarget(this.transaction);
    this.respond(487, { dialog: false });
    this.end('remote-cancel', { info: 'Cancelled by the caller', message: cancel });
  }

  private acknowledged(ack: SipRequest): void {
    if (this.state !== InviteSessionState.Answered) return;
    this.stateTransition(InviteSessionState.Established);
    const answer = this.offer === undefined ? sdpOf(ack) : undefined;
    if (answer !== undefined) this.sdp.remote = answer;
    this.emit({ type: 'established', message: ack, ...(answer && { sdp: answer }) });
    const bye = this.pendingBye;
    if (bye !== undefined && (this.state as InviteSessionState) === InviteSessionState.Established) this.spawn(() => this.sendBye(bye.cause, bye.info));
  }

  private ackTimedOut(): void {
    if (this.state !== InviteSessionState.Answered) return;
    this.spawn(() => this.sendBye('ack-timeout', 'No ACK for our 2xx (RFC 3261 §13.3.1.4)'));
  }

  /** The early dialog made by the first 1xx with our tag, or (on a direct 200) the confirmed one. */
  private ensureDialog(state: DialogState.Early | DialogState.Confirmed): Dialog {
    if (this.dialog === undefined) this.dialogs.adopt(Dialog.fromUas(this.request, this.localTag, state));
    return this.dialog!;
  }

  /**
   * A response to the INVITE. One that makes or confirms the dialog carries our Contact and the request's
   * Record-Route (§12.1.1: "the UAS MUST copy all Record-Route header field values from the request into the
   * response [...] and MUST maintain the order of those values") and our Allow.
   */
  private respond(
    status: number,
    o: { dialog: boolean; sdp?: Buffer; reason?: string; headers?: readonly { name: string; value: string }[] },
  ): { reason: string } {
    const headers: { name: string; value: string }[] = [...(o.headers ?? [])];
    if (o.dialog) {
      for (const rr of this.request.headers.getAll('Record-Route')) headers.push({ name: 'Record-Route', value: rr });
      headers.push({ name: 'Contact', value: `<${formatUri(this.binding.contactUri(this.received.transport, this.request.uri.scheme === 'sips'))}>` });
      headers.push(allowHeader());
    }
    if (o.sdp !== undefined) headers.push(contentType(SDP));
    const reason = o.reason ?? reasonPhrase(status);
    this.incoming.respond(status, reason, { toTag: this.localTag, headers, ...(o.sdp && { body: o.sdp }) });
    return { reason };
  }

  private assertUnanswered(what: string): void {
    if (this.state !== InviteSessionState.Initial && this.state !== InviteSessionState.Establishing) {
      throw new SipError('SIP_STATE', `cannot ${what}: the call is ${this.state}`);
    }
  }
}
