/**
 * An outgoing call (RFC 3261 §13.2): INVITE with the caller's SDP offer, every provisional response reported
 * (100, 180, 183, with or without SDP; a 1xx with a To tag makes an early dialog, §12.1.2), the first 2xx
 * confirms the dialog and is ACKed by us (§13.2.2.4), a 3xx-6xx ends the call (`rejected`), CANCEL before the answer
 * (§9.1), and everything after that from InviteSession.
 *
 * §13.2.2.4 forking: "If more than one 2xx are received [...] the UAC core MUST generate an ACK [...]. If the UAC
 * does not want to continue with that dialog, then it MUST terminate the dialog by sending a BYE request after
 * sending the ACK." — every 2xx after the first from another fork is ACKed then BYEd; a 2xx that races our CANCEL
 * too, and the call then ends as `cancelled`.
 */
import { DigestClient } from '../auth/digest-client.ts';
import { Dialog, dialogKey, incomingResponseDialogId } from '../dialog/dialog.ts';
import { SipError } from '../errors.ts';
import { newCallId } from '../message/builders.ts';
import { checkExtensionHeader } from '../message/header-names.ts';
import { getCSeq } from '../message/headers.ts';
import type { SipResponse } from '../message/message.ts';
import { messageText } from '../message/serialize.ts';
import type { Uri } from '../message/types.ts';
import { allowHeader } from './allow.ts';
import { describeResponse, type SipAccount } from './account.ts';
import type { ContactBinding } from './contact.ts';
import { errorCause, InviteSession, type LeavingReason } from './invite-session.ts';
import { hopTowards } from './next-hop.ts';
import { OutgoingInvite } from './outgoing-invite.ts';
import { createRequest } from './request.ts';
import { SDP, sdpOf } from './sdp-body.ts';
import type { InviteSessionHost } from './invite-session-host.ts';
import { InviteSessionState, type InviteSessionDelegate } from './invite-session-model.ts';

export interface InviterOptions {
  /** Who calls: From (AOR and display name), digest credentials, and the next hop the INVITE goes to. */
  account: SipAccount;
  /** Who is called: Request-URI and To. */
  target: Uri;
  /** The SDP offer (application/sdp), opaque here. */
  sdp: Buffer;
  /** Our Contact (e.g. the session's registration binding); default: a binding of its own, closed at the end. */
  binding?: ContactBinding;
  /**
   * Extra header fields of the INVITE (e.g. the client's `inviteParameters`); the constructor throws
   * SipError SIP_HEADER for one that `checkExtensionHeader` refuses.
   */
  headers?: readonly { name: string; value: string }[];
  delegate?: InviteSessionDelegate;
}

export class Inviter extends InviteSession {
  private readonly options: InviterOptions;
  private outgoing: OutgoingInvite | undefined;

  constructor(host: InviteSessionHost, options: InviterOptions) {
    // Checked before anything is allocated, so a refused header leaves nothing to clean up.
    for (const h of options.headers ?? []) checkExtensionHeader(h.name, h.value);
    super({
      host,
      callId: newCallId(options.account.aor.host),
      binding: options.binding ?? host.bindContact(() => undefined),
      ownBinding: options.binding === undefined,
      digest: options.account.credentials ? new DigestClient(options.account.credentials) : undefined,
      delegate: options.delegate,
      ownsCallId: true,
    });
    this.options = options;
  }

  /**
   * Sends the INVITE. Resolves once it is handed to its transaction (or the call ended because it could not be:
   * `terminated` with `transport-error`); everything after comes as events. Throws SipError SIP_STATE when called twice.
   */
  async invite(): Promise<void> {
    if (this.state !== InviteSessionState.Initial) throw new SipError('SIP_STATE', `cannot INVITE: the session is ${this.state}`);
    this.stateTransition(InviteSessionState.Establishing);
    const { account, target, sdp } = this.options;
    let destination;
    try {
      destination = await this.host.destination(hopTowards(account.nextHop, target));
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      return this.end((this.state as InviteSessionState) === InviteSessionState.Cancelling ? 'cancelled' : 'transport-error', { info: e.message });
    }
    // Cancelled while the next hop was being resolved: nothing went out, nothing to cancel.
    if ((this.state as InviteSessionState) !== InviteSessionState.Establishing) return this.end('cancelled', { info: 'Cancelled before the INVITE was sent' });
    const request = createRequest({
      method: 'INVITE',
      requestUri: target,
      from: { uri: account.aor, ...(account.displayName !== undefined && { displayName: account.displayName }) },
      to: { uri: target },
      callId: this.callId,
      cseq: 1,
      contact: this.binding.contactUri(destination.transport, target.scheme === 'sips'),
      body: { contentType: SDP, content: sdp },
      headers: [allowHeader(), ...this.sessionTimer.requestHeaders(), ...(this.options.headers ?? [])],
    });
    this.sdp.local = sdp;
    const outgoing = new OutgoingInvite(this.host, request, destination, this.digest, {
      onProvisional: (response) => this.provisional(response),
      onSuccess: (response) => this.success(response),
      onFailure: (response) => {
        const cancelled = this.state === InviteSessionState.Cancelling;
        this.end(cancelled ? 'cancelled' : 'rejected', { info: describeResponse(response), message: response });
      },
      onError: (error) => {
        this.end(this.state === InviteSessionState.Cancelling ? 'cancelled' : errorCause(error), { info: error.message });
      },
      onIntervalTooSmall: (response) => this.sessionTimer.tooSmall(response),
    });
    this.outgoing = outgoing;
    outgoing.start();
  }

  /**
   * CANCEL before the answer (§9.1; sent once a provisional response has come, as the RFC asks). The call ends with
   * the INVITE's final response, normally 487 (`cancelled`). Does nothing once the call is answered or over.
   */
  cancel(): void {
    if (this.state === InviteSessionState.Initial) return this.end('cancelled', { info: 'Cancelled before the INVITE was sent' });
    if (this.state !== InviteSessionState.Establishing) return;
    this.stateTransition(InviteSessionState.Cancelling);
    this.outgoing?.cancel();
  }

  async terminate(): Promise<void> {
    switch (this.state) {
      case InviteSessionState.Initial:
      case InviteSessionState.Establishing:
        return this.cancel();
      case InviteSessionState.Established:
        return this.bye();
      default:
        return;
    }
  }

  /** Disposed: the INVITE transaction is dropped; a programming error: the unanswered INVITE is cancelled (§9.1). */
  protected override leaving(reason: LeavingReason): void {
    if (reason === 'disposed') this.outgoing?.dispose();
    else if (reason === 'failed') this.outgoing?.cancel();
  }

  private provisional(response: SipResponse): void {
    if (this.state !== InviteSessionState.Establishing && this.state !== InviteSessionState.Cancelling) return;
    // §12.1.2: a 101-199 with a To tag creates an early dialog (one per fork).
    const id = response.status > 100 ? incomingResponseDialogId(response) : undefined;
    if (id !== undefined && this.dialogs.earlyDialog(dialogKey(id)) === undefined) {
      this.dialogs.addEarly(Dialog.fromUac(this.outgoing!.request, response));
    }
    const sdp = sdpOf(response);
    this.emit({ type: 'provisional', response, raw: messageText(response), ...(sdp && { sdp }) });
  }

  private success(response: SipResponse): void {
    const invite = this.outgoing!.request;
    const id = incomingResponseDialogId(response);
    if (id === undefined) return; // a 2xx without a To tag cannot be ACKed in a dialog; the far end will give up.
    const key = dialogKey(id);
    const seq = getCSeq(response).seq;
    // A retransmission of a 2xx we have ACKed (ours, or a fork we hung up): the same ACK again.
    if (this.acks.has(key, seq)) return this.acks.resend(key, seq);
    if (this.dialog !== undefined || (this.state !== InviteSessionState.Establishing && this.state !== InviteSessionState.Cancelling)) {
      // Another fork answered too (or the call is over): ACK, then BYE.
      return this.hangUpDialog(Dialog.fromUac(invite, response), invite);
    }
    const dialog = this.dialogs.earlyDialog(key) ?? Dialog.fromUac(invite, response);
    dialog.confirm(response);
    this.dialogs.confirm(dialog);
    this.acks.acknowledge(dialog, invite);
    if (this.state === InviteSessionState.Cancelling) {
      // The 2xx crossed our CANCEL (§9.1 allows it): the call was not wanted any more.
      this.spawn(() => this.sendBye('cancelled', 'Answered after CANCEL; hung up'));
      return;
    }
    const answer = sdpOf(response);
    if (answer !== undefined) this.sdp.remote = answer;
    this.stateTransition(InviteSessionState.Established);
    this.sessionTimer.negotiatedAsUac(response);
    this.emit({ type: 'established', message: response, ...(answer && { sdp: answer }) });
  }
}
