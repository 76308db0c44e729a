/**
 * An INVITE session (RFC 3261 §13-§15) on top of its dialog: what outgoing (./inviter.ts) and incoming
 * (./invitation.ts) calls share once a dialog exists — BYE both ways, INFO for DTMF (RFC 6086), events, timers,
 * routing of in-dialog requests — and the parts it is made of: requests in the dialog (./in-dialog.ts), re-INVITEs
 * both ways with glare handling (./reinvite.ts), blind transfer with REFER and its NOTIFYs (./transfer.ts), the ACKs
 * of 2xx responses (./ack-cache.ts). SDP bodies are opaque Buffers: what they say (hold, codecs) is the media
 * library's business.
 * The session reaches the UA core only through ./invite-session-host.ts; its vocabulary is ./invite-session-model.ts.
 *
 * States (one guard, `stateTransition`):
 *   Initial → Establishing | Terminated                 outgoing: INVITE being sent; incoming: 1xx sent / decided
 *   Establishing → Cancelling | Answered | Established | Terminated
 *   Cancelling → Terminating | Terminated                outgoing: CANCEL wanted; a racing 2xx is ACKed then BYEd
 *   Answered → Established | Terminating | Terminated    incoming: 2xx sent, waiting for its ACK
 *   Established → Terminating | Terminated
 *   Terminating → Terminated                             our BYE is out
 *   Terminated: final (one `terminated` event, every timer cleared, dialogs unregistered)
 *
 * Failures: an expected SIP failure (a SipError) is answered or reported as the RFC says where it happens;
 * anything else thrown in the session's unawaited work or its application's handlers is a programming error, which
 * ends this session alone (`failed`).
 *
 * Decisions written down:
 * - REFER received in a dialog is answered 501 (we only send REFER, we do not carry out transfers asked of us).
 * - The far end's UPDATE (RFC 3311, in our Allow) is answered in the confirmed dialog, with or without an offer
 *   (./reinvite.ts); we send none.
 * - RFC 4028 session timers (./session-timer.ts): negotiated in the INVITE and every re-INVITE or UPDATE either
 *   way; as refresher we re-INVITE with our current SDP (every peer takes a re-INVITE; RFC 4028 §7.1 allows either),
 *   and a session that expires unrefreshed is ended with BYE (`session-expired`).
 */
import { TimerGroup } from '../../clock.ts';
import type { DigestClient } from '../auth/digest-client.ts';
import type { Dialog } from '../dialog/dialog.ts';
import { SipError } from '../errors.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import { messageText } from '../message/serialize.ts';
import type { Uri } from '../message/types.ts';
import type { InviteServerTransaction, ServerTransaction } from '../transaction/index.ts';
import { AckCache } from './ack-cache.ts';
import { allowHeader } from './allow.ts';
import type { ContactBinding, IncomingRequest } from './contact.ts';
import type { DialogUser, LiveSession } from './dialog-router.ts';
import { InDialogRequests, type InDialogOwner } from './in-dialog.ts';
import { DEFAULT_DTMF_DURATION_MS, readInfo, sendDtmfInfo, validateDtmf } from './info.ts';
import { isReferEvent } from './refer.ts';
import { Reinvites, type ReinviteOwner } from './reinvite.ts';
import { SdpExchange } from './sdp-body.ts';
import { InviteSessionDialogs } from './invite-session-dialogs.ts';
import type { InviteSessionHost } from './invite-session-host.ts';
import { InviteSessionState, type InviteSessionDelegate, type InviteSessionEndCause, type InviteSessionEvent } from './invite-session-model.ts';
import { Transfer, type TransferOwner } from './transfer.ts';
import { SessionTimer } from './session-timer.ts';

const S = InviteSessionState;

const TRANSITIONS: Readonly<Record<InviteSessionState, readonly InviteSessionState[]>> = {
  [S.Initial]: [S.Establishing, S.Terminated],
  [S.Establishing]: [S.Cancelling, S.Answered, S.Established, S.Terminated],
  [S.Cancelling]: [S.Terminating, S.Terminated],
  [S.Answered]: [S.Established, S.Terminating, S.Terminated],
  [S.Established]: [S.Terminating, S.Terminated],
  [S.Terminating]: [S.Terminated],
  [S.Terminated]: [],
};

const NORMAL_CLEARING = 'Normal call clearing';
/** The `info` of an `internal-error` end: the client learns that we failed; the log has the details. */
const INTERNAL_ERROR = 'Internal error in the SIP session (see the server log)';

/** Why a session ends before its INVITE was answered the usual way (see `leaving`). */
export type LeavingReason = 'disposed' | 'remote-bye' | 'failed';

export interface InviteSessionInit {
  host: InviteSessionHost;
  callId: string;
  binding: ContactBinding;
  /** Close the binding when the session ends (it was made for this session alone). */
  ownBinding: boolean;
  digest: DigestClient | undefined;
  delegate: InviteSessionDelegate | undefined;
  /** §14.1: the owner of the Call-ID waits 2.1-4 s after a 491, the other side 0-2 s. */
  ownsCallId: boolean;
}

export abstract class InviteSession implements DialogUser, LiveSession {
  delegate: InviteSessionDelegate;
  readonly callId: string;
  protected readonly host: InviteSessionHost;
  protected readonly digest: DigestClient | undefined;
  protected readonly binding: ContactBinding;
  protected readonly dialogs: InviteSessionDialogs;
  protected readonly sdp = new SdpExchange();
  /** Incoming: a BYE asked for before the ACK of our 2xx, sent when it arrives (§15), and why. */
  protected pendingBye: { cause: InviteSessionEndCause; info: string } | undefined;
  /** ACKs we sent for 2xx, resent for each retransmission of that 2xx (§13.2.2.4). */
  protected readonly acks: AckCache;
  protected readonly requests: InDialogRequests;
  /** RFC 4028: started by the 2xx of the INVITE, restarted by every re-INVITE's. */
  protected readonly sessionTimer: SessionTimer;
  private stateValue = S.Initial;
  private readonly ownBinding: boolean;
  /** Every timer of the session and its parts (glare, re-INVITE guard, REFER expiry): cleared at the end. */
  private readonly timers: TimerGroup;
  private readonly parts: ReinviteOwner & InDialogOwner & TransferOwner;
  private readonly reinvites: Reinvites;
  private transfer: Transfer | undefined;

  protected constructor(init: InviteSessionInit) {
    this.host = init.host;
    this.callId = init.callId;
    this.binding = init.binding;
    this.ownBinding = init.ownBinding;
    this.digest = init.digest;
    this.delegate = init.delegate ?? {};
    this.dialogs = new InviteSessionDialogs(init.host.dialogs, this);
    this.timers = new TimerGroup(init.host.clock, { unref: true, failed: (e) => this.failed(e) });
    this.parts = this.partsOwner(init.ownsCallId);
    this.requests = new InDialogRequests(this.parts);
    this.acks = new AckCache(this.host, (dialog) => this.requests.destination(dialog), (e) => this.failed(e));
    this.reinvites = new Reinvites(this.parts);
    this.sessionTimer = new SessionTimer(init.host.sessionTimerSettings, {
      timers: this.timers,
      refresh: () => this.spawn(() => this.refreshSession()),
      expire: () => this.spawn(() => this.expireSession()),
    });
    this.host.dialogs.track(this);
  }

  get state(): InviteSessionState {
    return this.stateValue;
  }

  /** The dialog of the call: confirmed, or (incoming) early after a 1xx with our tag. */
  protected get dialog(): Dialog | undefined {
    return this.dialogs.current;
  }

  /** The SDP we last sent (offer or answer). */
  get localSdp(): Buffer | undefined {
    return this.sdp.local;
  }

  /** The SDP we last received. */
  get remoteSdp(): Buffer | undefined {
    return this.sdp.remote;
  }

  /** Whichever way the call stands: CANCEL, reject, or BYE. Never throws for a state; resolves when done. */
  abstract terminate(): Promise<void>;

  /**
   * BYE (§15.1.1). On an incoming call whose 2xx is not yet ACKed the BYE waits for the ACK (§15: "The callee's UA
   * MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its 2xx response or until the server
   * transaction times out"). The session ends whatever the answer — §15.1.1: "If the response for the BYE is a 481
   * (Call/Transaction Does Not Exist) or a 408 (Request Timeout) or no response at all is received for the BYE
   * [...], the UAC MUST consider the session and the dialog terminated." Media may stop as soon as this is called.
   * Throws SipError SIP_STATE before the call is answered (use cancel/reject).
   */
  async bye(): Promise<void> {
    if (this.stateValue === S.Answered) {
      this.pendingBye = { cause: 'local-bye', info: NORMAL_CLEARING };
      return;
    }
    if (this.stateValue !== S.Established) throw new SipError('SIP_STATE', `cannot send BYE: the session is ${this.stateValue}`);
    await this.sendBye('local-bye');
  }

  /**
   * Re-INVITE with a new SDP offer (§14.1: hold with a=sendonly, unhold with a=sendrecv, ...). Resolves with the
   * final response: a 2xx carries the answer (the ACK has been sent); any other status leaves the session as it was
   * (§14.1), except 481/408, which end it (§12.2.1.2). A 491 (glare) is re-tried after the §14.1 delay, up to 3
   * times. Rejects with SipError SIP_STATE when not established or while another INVITE is in progress either way (§14.1),
   * SipError SIP_TIMEOUT or SIP_TRANSPORT (the session then ends).
   */
  reinvite(sdp: Buffer): Promise<SipResponse> {
    return this.reinvites.send(sdp);
  }

  /** INFO (RFC 6086) with any body; resolves with the final response. Rejects like `reinvite`. */
  async sendInfo(contentType: string, body: Buffer): Promise<SipResponse> {
    this.assertEstablished('INFO');
    return this.requests.send('INFO', { body: { contentType, content: body } });
  }

  /**
   * DTMF as INFO `application/dtmf-relay` (`Signal=5\r\nDuration=160\r\n`), one INFO per digit, each after the
   * previous one's response. Resolves with the last response; stops at the first non-2xx. Throws SipError SIP_DTMF
   * for digits outside 0-9 * # A-D.
   */
  async sendDtmf(digits: string, durationMs: number = DEFAULT_DTMF_DURATION_MS): Promise<SipResponse> {
    const checked = validateDtmf(digits, durationMs);
    this.assertEstablished('INFO');
    return sendDtmfInfo((type, body) => this.sendInfo(type, body), checked, durationMs);
  }

  /**
   * Blind transfer (RFC 3515) with `Refer-To: <target>` and `Referred-By` (our identity, or `referredBy`); progress
   * comes as `transfer` events (./transfer.ts). The call itself is left as it is (ending it after COMPLETED is the
   * caller's choice). Rejects with SipError SIP_STATE when not established or while a transfer is in progress.
   */
  async refer(target: Uri, referredBy?: Uri): Promise<void> {
    this.assertEstablished('REFER');
    if (this.transfer !== undefined) throw new SipError('SIP_STATE', 'cannot REFER: a transfer is already in progress');
    const transfer = new Transfer(this.parts);
    this.transfer = transfer;
    await transfer.refer(target, referredBy ?? this.dialog!.local.uri);
  }

  /**
   * Ends the session here without signalling (no BYE, no CANCEL): for shutdown. An incoming call not yet answered
   * still gets a final 480, or its INVITE transaction would wait for one forever.
   */
  dispose(): void {
    if (this.stateValue === S.Terminated) return;
    this.leaving('disposed');
    this.end('disposed', { info: 'Session disposed' });
  }

  // --- DialogUser: what the UA core routes to this session ------------------------------------------------------

  receiveRequest(incoming: IncomingRequest, transaction: ServerTransaction): void {
    const request = incoming.message;
    const dialog = this.dialogs.byRequest(request);
    if (dialog === undefined || this.stateValue === S.Terminated) return incoming.respond(481);
    // §12.2.2: requests out of order get 500.
    const outOfOrder = dialog.receiveRequest(request);
    if (outOfOrder !== undefined) return incoming.respond(outOfOrder);
    switch (request.method) {
      case 'BYE':
        // §15.1.2: "the UAS MUST still respond to any pending requests received for that dialog. It is RECOMMENDED
        // that a 487 (Request Terminated) response be generated to those pending requests."
        incoming.respond(200);
        this.leaving('remote-bye');
        return this.end('remote-bye', { info: NORMAL_CLEARING, message: request });
      case 'INVITE':
        return this.spawn(() => this.reinvites.receive(incoming, transaction as InviteServerTransaction, dialog));
      case 'UPDATE':
        return this.spawn(() => this.reinvites.receiveUpdate(incoming, dialog));
      case 'INFO':
        incoming.respond(200);
        return this.emit({ type: 'info', ...readInfo(request) });
      case 'NOTIFY':
        // RFC 3515 §2.4.5 / RFC 6665 §4.1.3: a NOTIFY of our REFER's implicit subscription; anything else gets 481.
        if (this.transfer === undefined || !isReferEvent(request.headers.get('Event'))) return incoming.respond(481);
        incoming.respond(200);
        return this.transfer.notified(request);
      case 'OPTIONS':
        return incoming.respond(200, undefined, { headers: [allowHeader()] });
      default:
        // REFER, PRACK and the rest: see the header comment.
        return incoming.respond(501);
    }
  }

  receiveStrayAck(_ack: SipRequest): void {
    // A retransmitted ACK, or one after Timer L: the 2xx it acknowledges is no longer retransmitted; nothing to do.
  }

  receiveStrayResponse(response: SipResponse): void {
    this.acks.receiveStray(response);
  }

  // --- for Inviter and Invitation -------------------------------------------------------------------------------

  /**
   * The session is about to end without its usual signalling, for `reason`: what the subclass still owes its
   * INVITE. Incoming and unanswered: its final response (480 disposed, 487 after the caller's BYE, 500 on a
   * programming error); outgoing: the INVITE transaction dropped (disposed) or cancelled (failed).
   */
  protected abstract leaving(reason: LeavingReason): void;

  protected stateTransition(next: InviteSessionState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) {
      throw new Error(`session state ${this.stateValue} → ${next} is not allowed`);
    }
    this.stateValue = next;
  }

  /** Tells the application; an exception from its handler is a programming error of this session's (`failed`). */
  protected emit(event: InviteSessionEvent): void {
    try {
      this.delegate.onEvent?.(event);
    } catch (e) {
      this.failed(e);
    }
  }

  /** Work nobody awaits (a BYE, a re-INVITE, ...): a programming error in it is contained to this session. */
  protected spawn(work: () => Promise<void>): void {
    work().catch((e: unknown) => this.failed(e));
  }

  /**
   * A programming error in this session's work or its application's handlers: logged with its stack, and this
   * session alone ends (`internal-error`) — BYE on a confirmed dialog (after the ACK of our 2xx, §15), the
   * subclass's final response or CANCEL before the answer, nothing more once our BYE is out or the session is over.
   */
  protected failed(error: unknown): void {
    this.host.log.error({ err: error, callId: this.callId, state: this.stateValue }, 'INVITE session failed on a programming error; its dialog ends');
    switch (this.stateValue) {
      case S.Terminated:
        return;
      case S.Answered:
        this.pendingBye = { cause: 'internal-error', info: INTERNAL_ERROR };
        return;
      case S.Established:
        this.requests.byeUnwatched(this.dialog!);
        break;
      case S.Terminating:
        break;
      default:
        this.leaving('failed');
    }
    this.end('internal-error', { info: INTERNAL_ERROR });
  }

  /** Sends BYE in the session's dialog and ends the session when it is answered, or not: §15.1.1. */
  protected async sendBye(cause: InviteSessionEndCause, info: string = NORMAL_CLEARING): Promise<void> {
    if (this.stateValue !== S.Terminating) this.stateTransition(S.Terminating);
    let response: SipResponse | undefined;
    try {
      response = await this.requests.send('BYE');
    } catch (e) {
      // No answer or no route: the session is over all the same.
      if (!(e instanceof SipError)) throw e;
    }
    this.end(cause, { info, ...(response && { message: response }) });
  }

  /** §13.2.2.4: a 2xx we do not want (another fork, or one that raced our CANCEL) is ACKed, then BYEd. */
  protected hangUpDialog(dialog: Dialog, invite: SipRequest): void {
    this.acks.acknowledge(dialog, invite);
    this.requests.byeUnwatched(dialog);
  }

  /** Ends the session: state Terminated, timers cleared, dialogs released, one `terminated` event. */
  protected end(
    cause: InviteSessionEndCause,
    detail: { info: string; message?: SipMessage; status?: number },
  ): void {
    if (this.stateValue === S.Terminated) return;
    this.stateTransition(S.Terminated);
    this.timers.clear();
    this.dialogs.release();
    this.reinvites.end(cause);
    // `acks` stays: a 2xx retransmitted after the end (our ACK was lost) is still answered with its ACK.
    this.host.dialogs.untrack(this);
    if (this.ownBinding) this.binding.close();
    this.transfer?.callEnded();
    const message = detail.message;
    const status = detail.status ?? (message?.kind === 'response' ? message.status : undefined);
    this.emit({
      type: 'terminated',
      cause,
      info: detail.info,
      ...(status !== undefined && { status }),
      ...(message && { message, raw: messageText(message) }),
    });
  }

  // --- internals -------------------------------------------------------------------------------------------------

  /** What the session's parts (in-dialog requests, re-INVITEs, a transfer) read and call of it. */
  private partsOwner(ownsCallId: boolean): ReinviteOwner & InDialogOwner & TransferOwner {
    // The accessors read this session's fields as they are at the time.
    const session = this;
    return {
      host: this.host,
      digest: this.digest,
      binding: this.binding,
      ownsCallId,
      sdp: this.sdp,
      timers: this.timers,
      get sessionTimer() {
        return session.sessionTimer;
      },
      get state() {
        return session.stateValue;
      },
      get dialog() {
        return session.dialog;
      },
      get delegate() {
        return session.delegate;
      },
      get requests() {
        return session.requests;
      },
      get acks() {
        return session.acks;
      },
      dialogLost: (info, response) => this.dialogLost(info, response),
      ackTimedOut: () => this.spawn(() => this.sendBye('ack-timeout', 'No ACK for our 2xx to a re-INVITE (RFC 3261 §13.3.1.4)')),
      emit: (event) => this.emit(event),
      failed: (error) => this.failed(error),
      sendRefer: (headers) => this.requests.send('REFER', { contact: true, headers }),
      ended: (transfer) => {
        if (this.transfer === transfer) this.transfer = undefined;
      },
    };
  }

  /**
   * RFC 4028 §10: the refresh, a re-INVITE with the SDP we last sent (an unchanged offer, RFC 3264 §8); its 2xx
   * restarts the timer (./reinvite.ts). Another INVITE in progress refreshes the session when it succeeds; a refresh
   * that fails leaves the expiry to end the call, and one that times out or meets 481 ends it at once (§12.2.1.2).
   */
  private async refreshSession(): Promise<void> {
    const sdp = this.sdp.local;
    if (this.stateValue !== S.Established || sdp === undefined) return;
    try {
      await this.reinvites.send(sdp);
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      this.host.log.info({ callId: this.callId, reason: e.message }, 'session refresh not sent (RFC 4028)');
    }
  }

  /** RFC 4028 §10: no refresh before the expiry: BYE (after the ACK of our 2xx, as any BYE, §15). */
  private async expireSession(): Promise<void> {
    const info = 'Session expired without a refresh (RFC 4028 §10)';
    if (this.stateValue === S.Answered) this.pendingBye = { cause: 'session-expired', info };
    else if (this.stateValue === S.Established) await this.sendBye('session-expired', info);
  }

  private assertEstablished(method: string): void {
    if (this.stateValue !== S.Established || this.dialog === undefined) {
      throw new SipError('SIP_STATE', `cannot send ${method}: the session is ${this.stateValue}`);
    }
  }

  /**
   * §12.2.1.2: a request in the dialog got 481/408 or no response: the dialog is over. A BYE goes out on the way
   * unless the far end said the dialog is gone (481).
   */
  private dialogLost(info: string, response?: SipResponse): void {
    if (this.stateValue === S.Terminated || this.stateValue === S.Terminating) return;
    if (response?.status !== 481 && this.dialog !== undefined && this.stateValue === S.Established) this.requests.byeUnwatched(this.dialog);
    this.end('dialog-gone', { info, ...(response && { message: response }) });
  }
}

/** A timeout error is a 408 for §8.1.3.1; anything else the transport's (503). */
export function errorCause(error: SipError): 'timeout' | 'transport-error' {
  return error.code === 'SIP_TIMEOUT' ? 'timeout' : 'transport-error';
}
