/**
 * An INVITE session (RFC 3261 §13-§15) on top of its dialog: what outgoing (./inviter.ts) and incoming
 * (./invitation.ts) calls share once a dialog exists — BYE both ways, re-INVITE both ways (§14) with glare handling,
 * INFO for DTMF (RFC 6086), blind transfer with REFER and its NOTIFYs (RFC 3515), stray 2xx/ACK handling, events,
 * timers. SDP bodies are opaque Buffers: what they say (hold, codecs) is the media library's business.
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
 * Decisions written down:
 * - UPDATE and REFER received in a dialog are answered 501 (UPDATE is not in our Allow, so RFC 3311 peers do not
 *   send it; we only send REFER, we do not carry out transfers asked of us).
 * - RFC 4028 session timers are tolerated, not negotiated: we never send `Supported: timer`, so a compliant peer
 *   that wants a timer is the refresher itself (RFC 4028 §9: refresher=uas/uac on its side) and its refreshing
 *   re-INVITEs are answered here; a re-offer byte-identical to the last one gets our last SDP back without asking
 *   the application (RFC 3264 §8: an unchanged offer). A request that *requires* `timer` gets 420 from the core.
 * - A re-INVITE without SDP gets our current SDP as the offer in the 200; the answer arrives in the ACK and is
 *   reported as a `remote-answer` event.
 * - In-dialog requests follow the dialog's route set and remote target (§12.2.1.1), not the account's outbound
 *   proxy: without Record-Route a proxy asked for no further part in the dialog.
 */
import { randomInt } from 'node:crypto';
import type { DigestClient } from '../auth/digest-client.ts';
import { Dialog, dialogKey, incomingRequestDialogId, incomingResponseDialogId } from '../dialog/dialog.ts';
import { SipError } from '../errors.ts';
import { newBranch } from '../message/builders.ts';
import { getCSeq } from '../message/headers.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import { messageText } from '../message/serialize.ts';
import { isSipUri, type Uri } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';
import type { Destination, InviteServerTransaction, ServerTransaction } from '../transaction/index.ts';
import type { Transport } from '../transport/transport.ts';
import { describeResponse } from './account.ts';
import { allowHeader } from './allow.ts';
import type { DialogUser, LiveSession } from './dialog-router.ts';
import { DTMF_RELAY, dtmfRelayBody, parseDtmfInfo, validateDtmf, DEFAULT_DTMF_DURATION_MS, type DtmfDigit } from './info.ts';
import type { NextHop, SipTransportName } from './next-hop.ts';
import { OutgoingInvite } from './outgoing-invite.ts';
import {
  isReferEvent, parseSipfrag, parseSubscriptionState, sipfragTransferStatus, TransferStatus,
} from './refer.ts';
import type { ContactBinding, IncomingRequest, UserAgent } from './user-agent.ts';

export enum SessionState {
  Initial = 'Initial',
  Establishing = 'Establishing',
  Cancelling = 'Cancelling',
  Answered = 'Answered',
  Established = 'Established',
  Terminating = 'Terminating',
  Terminated = 'Terminated',
}

const S = SessionState;

const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  [S.Initial]: [S.Establishing, S.Terminated],
  [S.Establishing]: [S.Cancelling, S.Answered, S.Established, S.Terminated],
  [S.Cancelling]: [S.Terminating, S.Terminated],
  [S.Answered]: [S.Established, S.Terminating, S.Terminated],
  [S.Established]: [S.Terminating, S.Terminated],
  [S.Terminating]: [S.Terminated],
  [S.Terminated]: [],
};

/** Why a session ended. */
export type SessionEndCause =
  /** Outgoing: the far end answered 3xx-6xx (`status`, `info` = `SIP 486 Busy Here`). */
  | 'rejected'
  /** Outgoing: we cancelled before the answer (487, or no final response 64*T1 after CANCEL). */
  | 'cancelled'
  /** Incoming: the caller sent CANCEL before we answered; we answered 487. */
  | 'remote-cancel'
  /** Incoming: we answered 3xx-6xx (`reject`). */
  | 'declined'
  | 'local-bye'
  | 'remote-bye'
  /** Incoming: our 2xx (to the INVITE or a re-INVITE) got no ACK within 64*T1 (§13.3.1.4); a BYE was sent. */
  | 'ack-timeout'
  /** An in-dialog request got 481/408 or no response (§12.2.1.2). */
  | 'dialog-gone'
  /** Outgoing: no final response to the INVITE (Timer B; a 408 for §8.1.3.1). */
  | 'timeout'
  /** The request could not be sent (no route, connection refused; a 503 for §8.1.3.1). */
  | 'transport-error'
  /** `dispose()` ended it locally. */
  | 'disposed';

/** How a session tells its application what happened. Every event is emitted after the state changed. */
export type SessionEvent =
  /** Outgoing: a provisional response (100, 180, 183 ...), with its SDP when it carried one (early media). */
  | { type: 'provisional'; response: SipResponse; raw: string; sdp?: Buffer }
  /**
   * The session is up. Outgoing: the first 2xx (`sdp` = the answer). Incoming: the ACK for our 2xx (`sdp` = the
   * answer when the INVITE had no offer and ours went in the 200).
   */
  | { type: 'established'; message: SipResponse | SipRequest; sdp?: Buffer }
  /** A re-INVITE without SDP got our SDP as offer in the 200; this is the far end's answer from the ACK. */
  | { type: 'remote-answer'; sdp: Buffer; ack: SipRequest }
  /** An INFO arrived (answered 200); `dtmf` when it was application/dtmf-relay or application/dtmf. */
  | { type: 'info'; request: SipRequest; contentType?: string; body: Buffer; dtmf?: DtmfDigit }
  /** Progress of a transfer we asked for with `refer`. */
  | { type: 'transfer'; status: TransferStatus; info: string; message?: SipMessage }
  | {
      type: 'terminated';
      cause: SessionEndCause;
      /** `SIP 486 Busy Here`, `Normal call clearing`, or what went wrong without a response. */
      info: string;
      /** The SIP status that ended it, when a response did (the final response, the 487 ...). */
      status?: number;
      /** The message that ended it (final response, BYE, CANCEL), and its text for `sipMessageRaw`. */
      message?: SipMessage;
      raw?: string;
    };

export interface SessionDelegate {
  onEvent?(event: SessionEvent): void;
  /**
   * The far end re-INVITEd with a new SDP offer (hold, new media address ...): resolve with the SDP answer. A
   * rejection, or no `onOffer`, answers 488 Not Acceptable Here and the session goes on as before (§14.2).
   */
  onOffer?(offer: Buffer, request: SipRequest): Promise<Buffer> | Buffer;
}

const SDP = 'application/sdp';
/** §14.1: after a 491, re-try a re-INVITE at most this many times before reporting the 491. */
const MAX_GLARE_RETRIES = 3;
/** RFC 3515 has the notifier choose the subscription's duration; this is assumed when a NOTIFY names none. */
const DEFAULT_REFER_EXPIRES_S = 60;
/** Slack on top of the subscription's expiry before a transfer without a final NOTIFY is called failed. */
const REFER_EXPIRY_SLACK_MS = 5_000;
const NORMAL_CLEARING = 'Normal call clearing';

interface PendingAck {
  ack: SipRequest;
  destination: Destination;
}

interface Transfer {
  /** A NOTIFY reported progress: a later 2xx to the REFER is no news. */
  notified: boolean;
  /** A final status (COMPLETED / FAILED) has been reported. */
  final: boolean;
  timer?: NodeJS.Timeout;
}

export interface InviteSessionInit {
  ua: UserAgent;
  callId: string;
  binding: ContactBinding;
  /** Close the binding when the session ends (it was made for this session alone). */
  ownBinding: boolean;
  digest: DigestClient | undefined;
  delegate: SessionDelegate | undefined;
  /** §14.1: the owner of the Call-ID waits 2.1-4 s after a 491, the other side 0-2 s. */
  ownsCallId: boolean;
}

export abstract class InviteSession implements DialogUser, LiveSession {
  delegate: SessionDelegate;
  readonly callId: string;
  protected readonly ua: UserAgent;
  protected readonly digest: DigestClient | undefined;
  protected readonly binding: ContactBinding;
  /** The dialog of the call: confirmed, or (incoming) early after a 1xx with our tag. */
  protected dialog: Dialog | undefined;
  /** Outgoing: early dialogs by key, one per forked 1xx with a To tag (§12.1.2). */
  protected readonly earlyDialogs = new Map<string, Dialog>();
  /** The SDP we last sent (offer or answer) and the one we last received. */
  localSdp: Buffer | undefined;
  remoteSdp: Buffer | undefined;
  private stateValue = S.Initial;
  private readonly ownBinding: boolean;
  private readonly ownsCallId: boolean;
  private readonly registered = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** ACKs we sent for 2xx, by dialog key and CSeq: resent for each retransmission of that 2xx (§13.2.2.4). */
  private readonly acks = new Map<string, Promise<PendingAck | undefined>>();
  /** The caller of `reinvite`, from the call until its promise settles (491 back-off included). */
  private reinviteWaiter: { resolve(response: SipResponse): void; reject(error: unknown): void } | undefined;
  /** Our re-INVITE transaction, while it has no final response (§14.2: the far end's INVITE then gets 491). */
  private outgoingReinvite: OutgoingInvite | undefined;
  /** The far end's re-INVITE until we answered it finally. */
  private incomingReinvite: { incoming: IncomingRequest; transaction: InviteServerTransaction } | undefined;
  private transfer: Transfer | undefined;
  /** Incoming: hangup asked for before the ACK of our 2xx; the BYE goes when it arrives (§15). */
  protected byeAfterAck = false;

  protected constructor(init: InviteSessionInit) {
    this.ua = init.ua;
    this.callId = init.callId;
    this.binding = init.binding;
    this.ownBinding = init.ownBinding;
    this.digest = init.digest;
    this.delegate = init.delegate ?? {};
    this.ownsCallId = init.ownsCallId;
    this.ua.dialogs.track(this);
  }

  get state(): SessionState {
    return this.stateValue;
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
      this.byeAfterAck = true;
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
   * SipError SIP_TIMEOUT or SipError SIP_TRANSPORT (the session then ends).
   */
  reinvite(sdp: Buffer): Promise<SipResponse> {
    if (this.stateValue !== S.Established || this.dialog === undefined) {
      return Promise.reject(new SipError('SIP_STATE', `cannot re-INVITE: the session is ${this.stateValue}`));
    }
    if (this.reinviteWaiter !== undefined || this.incomingReinvite !== undefined) {
      return Promise.reject(new SipError('SIP_STATE', 'cannot re-INVITE: another INVITE transaction is in progress (RFC 3261 §14.1)'));
    }
    return new Promise((resolve, reject) => {
      this.reinviteWaiter = { resolve, reject };
      void this.sendReinvite(sdp, 0);
    });
  }

  /** INFO (RFC 6086) with any body; resolves with the final response. Rejects like `reinvite`. */
  async sendInfo(contentType: string, body: Buffer): Promise<SipResponse> {
    this.assertEstablished('INFO');
    return this.sendInDialog('INFO', { body: { contentType, content: body } });
  }

  /**
   * DTMF as INFO `application/dtmf-relay` (`Signal=5\r\nDuration=160\r\n`), one INFO per digit, each after the
   * previous one's response. Resolves with the last response; stops at the first non-2xx. Throws SipError SIP_DTMF
   * for digits outside 0-9 * # A-D.
   */
  async sendDtmf(digits: string, durationMs: number = DEFAULT_DTMF_DURATION_MS): Promise<SipResponse> {
    const checked = validateDtmf(digits, durationMs);
    this.assertEstablished('INFO');
    let response: SipResponse | undefined;
    for (const digit of checked) {
      response = await this.sendInfo(DTMF_RELAY, dtmfRelayBody(digit, durationMs));
      if (response.status >= 300) break;
    }
    return response!;
  }

  /**
   * Blind transfer (RFC 3515): REFER with `Refer-To: <target>` and `Referred-By` (our identity, or `referredBy`).
   * Progress comes as `transfer` events: PENDING now, ACCEPTED on the 2xx, then TRYING / COMPLETED / FAILED from the
   * NOTIFYs' sipfrag; the subscription's end (`Subscription-State: terminated`) or expiry without a final report is
   * FAILED. The call itself is left as it is (ending it after COMPLETED is the caller's choice). Rejects with
   * SipError SIP_STATE when not established or while a transfer is in progress.
   */
  async refer(target: Uri, referredBy?: Uri): Promise<void> {
    this.assertEstablished('REFER');
    if (this.transfer !== undefined) throw new SipError('SIP_STATE', 'cannot REFER: a transfer is already in progress');
    const transfer: Transfer = { notified: false, final: false };
    this.transfer = transfer;
    this.emit({ type: 'transfer', status: TransferStatus.Pending, info: `REFER to ${formatUri(target)}` });
    const by = referredBy ?? this.dialog!.local.uri;
    let response: SipResponse;
    try {
      response = await this.sendInDialog('REFER', {
        contact: true,
        headers: [
          { name: 'Refer-To', value: `<${formatUri(target)}>` },
          { name: 'Referred-By', value: `<${formatUri(by)}>` },
        ],
      });
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      this.finishTransfer(transfer, TransferStatus.Failed, e.message);
      return;
    }
    if (this.transfer !== transfer || transfer.final) return;
    if (response.status >= 300) {
      this.finishTransfer(transfer, TransferStatus.Failed, describeResponse(response), response);
      return;
    }
    if (!transfer.notified) {
      this.emit({ type: 'transfer', status: TransferStatus.Accepted, info: describeResponse(response), message: response });
    }
    // RFC 3515 §2.4.4: the REFER "creates an implicit subscription"; without news it ends at its expiry.
    if (transfer.timer === undefined) this.armTransferTimer(transfer, DEFAULT_REFER_EXPIRES_S);
  }

  /**
   * Ends the session here without signalling (no BYE, no CANCEL): for shutdown. An incoming call not yet answered
   * still gets a final 480, or its INVITE transaction would wait for one forever.
   */
  dispose(): void {
    if (this.stateValue === S.Terminated) return;
    this.disposing();
    this.end('disposed', { info: 'Session disposed' });
  }

  // --- DialogUser: what the UA core routes to this session ------------------------------------------------------

  receiveRequest(incoming: IncomingRequest, transaction: ServerTransaction): void {
    const request = incoming.message;
    const dialog = this.dialogByRequest(request);
    if (dialog === undefined || this.stateValue === S.Terminated) return incoming.respond(481);
    // §12.2.2: requests out of order get 500.
    const outOfOrder = dialog.receiveRequest(request);
    if (outOfOrder !== undefined) return incoming.respond(outOfOrder);
    switch (request.method) {
      case 'BYE':
        return this.receiveBye(incoming);
      case 'INVITE':
        return void this.receiveReinvite(incoming, transaction as InviteServerTransaction, dialog);
      case 'INFO':
        return this.receiveInfo(incoming);
      case 'NOTIFY':
        return this.receiveNotify(incoming);
      case 'OPTIONS':
        return incoming.respond(200, undefined, { headers: [allowHeader()] });
      default:
        // UPDATE, REFER, PRACK and the rest: see the header comment.
        return incoming.respond(501);
    }
  }

  receiveStrayAck(_ack: SipRequest): void {
    // A retransmitted ACK, or one after Timer L: the 2xx it acknowledges is no longer retransmitted; nothing to do.
  }

  receiveStrayResponse(response: SipResponse): void {
    // §13.2.2.4: a retransmitted 2xx to an INVITE after its transaction ended gets the same ACK again.
    if (response.status < 200 || response.status >= 300) return;
    const cseq = getCSeq(response);
    if (cseq.method !== 'INVITE') return;
    const id = incomingResponseDialogId(response);
    if (id !== undefined) this.resendAck(dialogKey(id), cseq.seq);
  }

  // --- for Inviter and Invitation -------------------------------------------------------------------------------

  /** Incoming: an unanswered INVITE is answered 480 before `dispose` ends the session. */
  protected disposing(): void {}

  /** Incoming: the far end's BYE on an early dialog also ends its INVITE (487). */
  protected remoteByeBeforeAnswer(): void {}

  protected stateTransition(next: SessionState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) {
      throw new Error(`session state ${this.stateValue} → ${next} is not allowed`);
    }
    this.stateValue = next;
  }

  protected emit(event: SessionEvent): void {
    this.delegate.onEvent?.(event);
  }

  /** Makes requests with this dialog's id reach this session. */
  protected registerDialog(dialog: Dialog): void {
    this.registered.add(dialog.key);
    this.ua.dialogs.addDialog(dialog.key, this);
  }

  protected unregisterDialog(dialog: Dialog): void {
    this.registered.delete(dialog.key);
    this.ua.dialogs.removeDialog(dialog.key, this);
  }

  protected contactFor(transport: Transport): Uri {
    return this.binding.contactUri(transport);
  }

  /** Where requests of `dialog` go: its first route or remote target, resolved (RFC 3263). */
  protected async dialogDestination(dialog: Dialog): Promise<Destination> {
    return this.ua.destination(uriNextHop(dialog.nextHopUri()));
  }

  /**
   * §13.2.2.4: builds and sends the ACK for a 2xx to `invite` in `dialog` — straight to the transport, with its own
   * branch — and keeps it for the 2xx's retransmissions.
   */
  protected acknowledge(dialog: Dialog, invite: SipRequest, body?: Buffer): void {
    const key = ackKey(dialog.key, getCSeq(invite).seq);
    if (this.acks.has(key)) return this.resendAck(dialog.key, getCSeq(invite).seq);
    const pending = (async (): Promise<PendingAck | undefined> => {
      try {
        const destination = await this.dialogDestination(dialog);
        const ack = dialog.createAck(invite, body && { contentType: SDP, content: body });
        this.ua.transports.addVia(ack, destination.transport, newBranch());
        await destination.transport.send(ack, destination.remote);
        return { ack, destination };
      } catch (e) {
        // No ACK can reach the far end: it will give up on its 2xx (§13.3.1.4) and BYE; nothing better to do here.
        if (e instanceof SipError) return undefined;
        throw e;
      }
    })();
    this.acks.set(key, pending);
  }

  protected hasAcknowledged(dialogKeyValue: string, seq: number): boolean {
    return this.acks.has(ackKey(dialogKeyValue, seq));
  }

  protected resendAck(dialogKeyValue: string, seq: number): void {
    void this.acks.get(ackKey(dialogKeyValue, seq))?.then((sent) => {
      sent?.destination.transport.send(sent.ack, sent.destination.remote).catch(() => undefined);
    });
  }

  /** Sends BYE in the session's dialog and ends the session when it is answered, or not: §15.1.1. */
  protected async sendBye(cause: SessionEndCause, info: string = NORMAL_CLEARING): Promise<void> {
    if (this.stateValue !== S.Terminating) this.stateTransition(S.Terminating);
    let response: SipResponse | undefined;
    try {
      response = await this.sendInDialog('BYE', {});
    } catch (e) {
      // No answer or no route: the session is over all the same.
      if (!(e instanceof SipError)) throw e;
    }
    this.end(cause, { info, ...(response && { message: response }) });
  }

  /** §13.2.2.4: a 2xx we do not want (another fork, or one that raced our CANCEL) is ACKed, then BYEd. */
  protected hangUpDialog(dialog: Dialog, invite: SipRequest): void {
    this.acknowledge(dialog, invite);
    void (async () => {
      try {
        const destination = await this.dialogDestination(dialog);
        const bye = dialog.createRequest('BYE');
        await this.ua.send(bye, destination, this.digest);
      } catch (e) {
        if (!(e instanceof SipError)) throw e;
      }
      dialog.terminate();
    })();
  }

  /** Ends the session: state Terminated, timers cleared, dialogs released, one `terminated` event. */
  protected end(
    cause: SessionEndCause,
    detail: { info: string; message?: SipMessage; status?: number },
  ): void {
    if (this.stateValue === S.Terminated) return;
    this.stateTransition(S.Terminated);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const key of this.registered) this.ua.dialogs.removeDialog(key, this);
    this.registered.clear();
    this.dialog?.terminate();
    for (const d of this.earlyDialogs.values()) d.terminate();
    this.earlyDialogs.clear();
    this.outgoingReinvite?.dispose();
    this.outgoingReinvite = undefined;
    this.settleReinvite({ error: new SipError('SIP_STATE', `re-INVITE abandoned: the session ended (${cause})`) });
    if (this.incomingReinvite !== undefined) this.finishIncomingReinvite(487);
    // `acks` stays: a 2xx retransmitted after the end (our ACK was lost) is still answered with its ACK.
    this.ua.dialogs.untrack(this);
    if (this.ownBinding) this.binding.close();
    const transfer = this.transfer;
    if (transfer !== undefined && !transfer.final) {
      this.finishTransfer(transfer, TransferStatus.Failed, 'Call ended before the transfer completed');
    }
    this.transfer = undefined;
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

  protected schedule(ms: number, fire: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fire();
    }, ms);
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  protected cancelTimer(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** The §12.2.1.1 request in the session's dialog, sent with digest answered; 481/408/timeouts end the dialog. */
  protected async sendInDialog(
    method: string,
    options: { body?: { contentType: string; content: Buffer }; headers?: { name: string; value: string }[]; contact?: boolean },
  ): Promise<SipResponse> {
    const dialog = this.dialog;
    if (dialog === undefined) throw new SipError('SIP_STATE', `cannot send ${method}: no dialog`);
    const destination = await this.dialogDestination(dialog).catch((e: unknown) => {
      if (e instanceof SipError && method !== 'BYE') this.dialogLost(e.message);
      throw e;
    });
    const request = dialog.createRequest(method, {
      ...(options.body && { body: options.body }),
      ...(options.headers && { headers: options.headers }),
      ...(options.contact && { contact: this.contactFor(destination.transport) }),
    });
    let response: SipResponse;
    try {
      response = await this.ua.send(request, destination, this.digest);
    } catch (e) {
      if (e instanceof SipError && method !== 'BYE') this.dialogLost(e.message);
      throw e;
    } finally {
      // Digest rounds raised the CSeq on the way (§8.1.3.5); the dialog's counter follows.
      dialog.localSeq = Math.max(dialog.localSeq ?? 0, getCSeq(request).seq);
    }
    if ((response.status === 481 || response.status === 408) && method !== 'BYE') {
      this.dialogLost(describeResponse(response), response);
    }
    return response;
  }

  // --- internals -------------------------------------------------------------------------------------------------

  private assertEstablished(method: string): void {
    if (this.stateValue !== S.Established || this.dialog === undefined) {
      throw new SipError('SIP_STATE', `cannot send ${method}: the session is ${this.stateValue}`);
    }
  }

  private dialogByRequest(request: SipRequest): Dialog | undefined {
    const id = incomingRequestDialogId(request);
    const key = id === undefined ? undefined : dialogKey(id);
    if (key === undefined || !this.registered.has(key)) return undefined;
    return this.dialog?.key === key ? this.dialog : this.earlyDialogs.get(key);
  }

  /**
   * §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction Does Not Exist) or a 408
   * (Request Timeout), the UAC SHOULD terminate the dialog. A UAC SHOULD also terminate a dialog if no response at
   * all is received for the request". A BYE goes out on the way unless the far end said the dialog is gone (481).
   */
  private dialogLost(info: string, response?: SipResponse): void {
    if (this.stateValue === S.Terminated || this.stateValue === S.Terminating) return;
    if (response?.status !== 481 && this.dialog !== undefined && this.stateValue === S.Established) {
      const dialog = this.dialog;
      void this.dialogDestination(dialog)
        .then((destination) => this.ua.send(dialog.createRequest('BYE'), destination, this.digest))
        .catch(() => undefined);
    }
    this.end('dialog-gone', { info, ...(response && { message: response }) });
  }

  private async sendReinvite(sdp: Buffer, attempt: number): Promise<void> {
    const dialog = this.dialog;
    if (dialog === undefined || this.stateValue !== S.Established) {
      return this.settleReinvite({ error: new SipError('SIP_STATE', `re-INVITE abandoned: the session is ${this.stateValue}`) });
    }
    let destination: Destination;
    try {
      destination = await this.dialogDestination(dialog);
    } catch (e) {
      this.settleReinvite({ error: e });
      if (e instanceof SipError) this.dialogLost(e.message);
      return;
    }
    const request = dialog.createRequest('INVITE', {
      contact: this.contactFor(destination.transport),
      body: { contentType: SDP, content: sdp },
      headers: [allowHeader()],
    });
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.cancelTimer(guard);
      this.outgoingReinvite = undefined;
      dialog.localSeq = Math.max(dialog.localSeq ?? 0, getCSeq(invite.request).seq);
      return true;
    };
    const invite = new OutgoingInvite(this.ua, request, destination, this.digest, {
      onProvisional: () => undefined,
      onSuccess: (response) => {
        // §13.2.2.4 for every 2xx (the ACK is kept for retransmissions); §12.2: the 2xx refreshes the target.
        const first = settle();
        if (first) dialog.refreshTarget(response);
        this.acknowledge(dialog, invite.request);
        if (!first) return;
        this.localSdp = sdp;
        const answer = sdpOf(response);
        if (answer !== undefined) this.remoteSdp = answer;
        this.settleReinvite({ response });
      },
      onFailure: (response) => {
        if (!settle()) return;
        if (response.status === 491 && attempt < MAX_GLARE_RETRIES && this.stateValue === S.Established) {
          // §14.1: "the UAC SHOULD [...] start a timer with a value T chosen as follows" and re-try when it fires.
          // Meanwhile ours is not in progress: the far end's re-INVITE is taken (§14.2), and ours waits for it.
          this.retryReinviteLater(sdp, attempt + 1);
          return;
        }
        this.settleReinvite({ response });
        if (response.status === 481 || response.status === 408) this.dialogLost(describeResponse(response), response);
      },
      onError: (error) => {
        if (!settle()) return;
        this.settleReinvite({ error });
        this.dialogLost(error.message);
      },
    });
    this.outgoingReinvite = invite;
    invite.start();
    // A far end that keeps the re-INVITE at 1xx would block every later one (§14.1): CANCEL it after Timer B's time.
    const guard = this.schedule(this.ua.transactions.timers.B, () => invite.cancel());
  }

  private retryReinviteLater(sdp: Buffer, attempt: number): void {
    this.schedule(this.glareDelayMs(), () => {
      if (this.incomingReinvite !== undefined && attempt < MAX_GLARE_RETRIES) return this.retryReinviteLater(sdp, attempt + 1);
      void this.sendReinvite(sdp, attempt);
    });
  }

  private settleReinvite(outcome: { response: SipResponse } | { error: unknown }): void {
    const waiter = this.reinviteWaiter;
    this.reinviteWaiter = undefined;
    if (waiter === undefined) return;
    if ('response' in outcome) waiter.resolve(outcome.response);
    else waiter.reject(outcome.error);
  }

  /**
   * §14.1: "If the UAC is the owner of the Call-ID of the dialog ID (meaning it generated the value), T has a
   * randomly chosen value between 2.1 and 4 seconds in units of 10 ms. If the UAC is not the owner of the Call-ID
   * of the dialog ID, T has a randomly chosen value of between 0 and 2 seconds in units of 10 ms."
   */
  private glareDelayMs(): number {
    return this.ownsCallId ? randomInt(210, 401) * 10 : randomInt(0, 201) * 10;
  }

  /** §14.2: a re-INVITE from the far end. */
  private async receiveReinvite(incoming: IncomingRequest, transaction: InviteServerTransaction, dialog: Dialog): Promise<void> {
    const request = incoming.message;
    // §14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress
    // MUST return a 491 (Request Pending) response to the received INVITE."
    if (this.outgoingReinvite !== undefined) return incoming.respond(491);
    // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a lower
    // CSeq sequence number on the same dialog MUST return a 500 (Server Internal Error) response to the second
    // INVITE and MUST include a Retry-After header field with a randomly chosen value of between 0 and 10 seconds."
    // The first INVITE's ACK not being in yet counts the same.
    if (this.incomingReinvite !== undefined || this.stateValue === S.Answered) {
      return incoming.respond(500, undefined, { headers: [{ name: 'Retry-After', value: String(randomInt(0, 11)) }] });
    }
    if (this.stateValue !== S.Established) return incoming.respond(481);
    this.incomingReinvite = { incoming, transaction };
    this.ua.dialogs.addCancelTarget(transaction, () => this.finishIncomingReinvite(487));
    dialog.refreshTarget(request);
    const offer = sdpOf(request);
    let body: Buffer | undefined;
    if (offer === undefined) {
      body = this.localSdp;
    } else if (this.remoteSdp !== undefined && this.localSdp !== undefined && offer.equals(this.remoteSdp)) {
      body = this.localSdp;
    } else if (this.delegate.onOffer !== undefined) {
      try {
        body = await this.delegate.onOffer(offer, request);
      } catch {
        body = undefined;
      }
    }
    // Cancelled, ended, or answered meanwhile.
    if (this.incomingReinvite?.incoming !== incoming) return;
    if (body === undefined) return this.finishIncomingReinvite(488);
    transaction.user = {
      onAck: (ack) => {
        const answer = sdpOf(ack);
        if (offer === undefined && answer !== undefined) {
          this.remoteSdp = answer;
          this.emit({ type: 'remote-answer', sdp: answer, ack });
        }
      },
      onAckTimeout: () => {
        if (this.stateValue === S.Established) void this.sendBye('ack-timeout', 'No ACK for our 2xx to a re-INVITE (RFC 3261 §13.3.1.4)');
      },
    };
    this.localSdp = body;
    if (offer !== undefined) this.remoteSdp = offer;
    this.finishIncomingReinvite(200, {
      headers: [{ name: 'Contact', value: `<${formatUri(this.contactFor(incoming.received.transport))}>` }, allowHeader(), contentType(SDP)],
      body,
    });
  }

  private finishIncomingReinvite(status: number, options?: { headers: { name: string; value: string }[]; body: Buffer }): void {
    const pending = this.incomingReinvite;
    if (pending === undefined) return;
    this.incomingReinvite = undefined;
    this.ua.dialogs.removeCancelTarget(pending.transaction);
    pending.incoming.respond(status, undefined, options);
  }

  /** §15.1.2: "the UAS MUST still respond to any pending requests received for that dialog. It is RECOMMENDED that
   * a 487 (Request Terminated) response be generated to those pending requests." */
  private receiveBye(incoming: IncomingRequest): void {
    incoming.respond(200);
    this.remoteByeBeforeAnswer();
    this.end('remote-bye', { info: NORMAL_CLEARING, message: incoming.message });
  }

  private receiveInfo(incoming: IncomingRequest): void {
    const request = incoming.message;
    incoming.respond(200);
    const type = request.headers.get('Content-Type');
    const dtmf = parseDtmfInfo(type, request.body);
    this.emit({
      type: 'info',
      request,
      body: request.body,
      ...(type !== undefined && { contentType: type }),
      ...(dtmf && { dtmf }),
    });
  }

  /** RFC 3515 §2.4.5 / RFC 6665 §4.1.3: a NOTIFY of our REFER's implicit subscription; anything else gets 481. */
  private receiveNotify(incoming: IncomingRequest): void {
    const request = incoming.message;
    const transfer = this.transfer;
    if (transfer === undefined || !isReferEvent(request.headers.get('Event'))) return incoming.respond(481);
    incoming.respond(200);
    transfer.notified = true;
    const fragment = parseSipfrag(request.body);
    if (fragment !== undefined && !transfer.final) {
      const status = sipfragTransferStatus(fragment.status);
      const info = describeResponse(fragment);
      if (status === TransferStatus.Trying) this.emit({ type: 'transfer', status, info, message: request });
      else this.finishTransfer(transfer, status, info, request);
    }
    const subscription = parseSubscriptionState(request.headers.get('Subscription-State'));
    if (subscription?.state === 'terminated') {
      if (!transfer.final) this.finishTransfer(transfer, TransferStatus.Failed, 'Transfer subscription ended without a final response', request);
      this.cancelTimer(transfer.timer);
      if (this.transfer === transfer) this.transfer = undefined;
    } else {
      this.armTransferTimer(transfer, subscription?.expires ?? DEFAULT_REFER_EXPIRES_S);
    }
  }

  private armTransferTimer(transfer: Transfer, expiresS: number): void {
    this.cancelTimer(transfer.timer);
    transfer.timer = this.schedule(expiresS * 1000 + REFER_EXPIRY_SLACK_MS, () => {
      transfer.timer = undefined;
      if (!transfer.final) this.finishTransfer(transfer, TransferStatus.Failed, 'Transfer subscription expired without a final response');
      if (this.transfer === transfer) this.transfer = undefined;
    });
  }

  /** Reports COMPLETED or FAILED once; the subscription may go on until its NOTIFY with `terminated`. */
  private finishTransfer(transfer: Transfer, status: TransferStatus, info: string, message?: SipMessage): void {
    if (transfer.final) return;
    transfer.final = true;
    if (status === TransferStatus.Failed && !transfer.notified) {
      // Refused or never acknowledged: no subscription to wait for.
      this.cancelTimer(transfer.timer);
      if (this.transfer === transfer) this.transfer = undefined;
    }
    this.emit({ type: 'transfer', status, info, ...(message && { message }) });
  }
}

/** The SDP body of a message, when its Content-Type is application/sdp and it has one. */
export function sdpOf(message: SipMessage): Buffer | undefined {
  const type = message.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return type === SDP && message.body.length > 0 ? message.body : undefined;
}

export function contentType(type: string): { name: string; value: string } {
  return { name: 'Content-Type', value: type };
}

/**
 * RFC 3263 §4.1 for a URI of a dialog: its host and port, and the transport its `transport` parameter names (UDP
 * when none, TLS for sips). A tel: or other non-SIP URI cannot be a next hop: SipError SIP_TRANSPORT.
 */
export function uriNextHop(uri: Uri): NextHop {
  if (!isSipUri(uri)) throw new SipError('SIP_TRANSPORT', `cannot send to a ${uri.scheme}: URI (${formatUri(uri)})`);
  const param = uri.params.get('transport')?.toUpperCase();
  const transport: SipTransportName = uri.scheme === 'sips' ? 'TLS' : param === 'TCP' || param === 'TLS' ? param : 'UDP';
  return { host: uri.host, transport, ...(uri.port !== undefined && { port: uri.port }) };
}

function ackKey(dialogKeyValue: string, seq: number): string {
  return `${dialogKeyValue}\n${seq}`;
}

/** A timeout error is a 408 for §8.1.3.1; anything else the transport's (503). */
export function errorCause(error: SipError): 'timeout' | 'transport-error' {
  return error.code === 'SIP_TIMEOUT' ? 'timeout' : 'transport-error';
}
