/**
 * Re-INVITEs in an established dialog (RFC 3261 §14), both ways, for one INVITE session: ours with its glare
 * back-off (§14.1), and the far end's answered with the application's SDP (§14.2); and the far end's UPDATE
 * (RFC 3311), a session refresh with or without an offer, answered the same way in its 200. At most one INVITE
 * transaction is in progress on the dialog at a time, either way.
 *
 * - Glare: the far end's re-INVITE while ours is in progress gets 491; ours answered 491 is re-tried after the §14.1
 *   delay (2.1-4 s when we own the Call-ID, else 0-2 s), at most MAX_GLARE_RETRIES times.
 * - A far end that keeps our re-INVITE at 1xx would block every later one (§14.1): it is CANCELled after Timer B.
 * - A re-offer byte-identical to the last one gets our last SDP back without asking the application (RFC 3264 §8:
 *   an unchanged offer; RFC 4028 session refreshes). A re-INVITE without SDP gets our current SDP as the offer in
 *   the 200; the answer comes in the ACK as `remote-answer`.
 * - The application's refusal of an offer (an expected failure) is a 488 with a Warning (§21.4.26, §20.43); any
 *   other failure of its offer handler is a programming error: 500 (§21.5.1), and the session ends.
 */
import { randomInt } from 'node:crypto';
import type { TimerGroup } from '../../clock.ts';
import type { DigestClient } from '../auth/digest-client.ts';
import type { Dialog } from '../dialog/dialog.ts';
import { isExpectedFailure, SipError, SipParseError } from '../errors.ts';
import { getCSeq } from '../message/headers.ts';
import { quote } from '../message/chars.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import { formatUri } from '../message/uri.ts';
import type { Destination, InviteServerTransaction } from '../transaction/index.ts';
import { describeResponse } from './account.ts';
import type { AckCache } from './ack-cache.ts';
import { allowHeader } from './allow.ts';
import type { ContactBinding, IncomingRequest } from './contact.ts';
import type { InDialogRequests } from './in-dialog.ts';
import { OutgoingInvite } from './outgoing-invite.ts';
import { contentType, SDP, sdpOf, type SdpExchange } from './sdp-body.ts';
import type { InviteSessionHost } from './invite-session-host.ts';
import { InviteSessionState, type InviteSessionDelegate, type InviteSessionEvent } from './invite-session-model.ts';
import { decideAsUas, minSeHeader, uasResponseHeaders, type SessionTimer, type UasDecision } from './session-timer.ts';

/** §14.1: after a 491, re-try a re-INVITE at most this many times before reporting the 491. */
const MAX_GLARE_RETRIES = 3;

/** What the re-INVITE handling needs of its session. */
export interface ReinviteOwner {
  readonly host: InviteSessionHost;
  readonly digest: DigestClient | undefined;
  /** §14.1: the owner of the Call-ID waits 2.1-4 s after a 491, the other side 0-2 s. */
  readonly ownsCallId: boolean;
  readonly binding: ContactBinding;
  readonly state: InviteSessionState;
  /** The session's dialog (confirmed once the session is established). */
  readonly dialog: Dialog | undefined;
  readonly delegate: InviteSessionDelegate;
  readonly sdp: SdpExchange;
  readonly requests: InDialogRequests;
  readonly acks: AckCache;
  /** The session's timers: cleared when it ends. */
  readonly timers: TimerGroup;
  /** RFC 4028: every re-INVITE either way negotiates the session interval again and restarts it. */
  readonly sessionTimer: SessionTimer;
  /** §12.2.1.2: an in-dialog request got 481/408 or nothing; the dialog is over. */
  dialogLost(info: string, response?: SipResponse): void;
  /** Our 2xx to the far end's re-INVITE got no ACK (§13.3.1.4). */
  ackTimedOut(): void;
  emit(event: InviteSessionEvent): void;
  /** A programming error: logged, and the session ends. */
  failed(error: unknown): void;
}

interface PendingIncoming {
  incoming: IncomingRequest;
  transaction: InviteServerTransaction;
}

/** Our answer to the far end's offer, or how the request is refused. */
type Answered = { body: Buffer } | { refusal: { status: number; headers: { name: string; value: string }[] } };

export class Reinvites {
  /** The caller of `send`, from the call until its promise settles (491 back-off included). */
  private waiter: { resolve(response: SipResponse): void; reject(error: unknown): void } | undefined;
  /** Our re-INVITE transaction, while it has no final response (§14.2: the far end's INVITE then gets 491). */
  private outgoing: OutgoingInvite | undefined;
  /** The far end's re-INVITE until we answered it finally. */
  private incoming: PendingIncoming | undefined;
  /** The far end's UPDATE while the application answers its offer (RFC 3311 §5.2: another offer meanwhile gets 500). */
  private updating = false;

  constructor(private readonly owner: ReinviteOwner) {}

  /** Our re-INVITE with `sdp` as the offer; resolves with its final response (see InviteSession.reinvite). */
  send(sdp: Buffer): Promise<SipResponse> {
    const state = this.owner.state;
    if (state !== InviteSessionState.Established || this.owner.dialog === undefined) {
      return Promise.reject(new SipError('SIP_STATE', `cannot re-INVITE: the session is ${state}`));
    }
    if (this.waiter !== undefined || this.incoming !== undefined) {
      return Promise.reject(new SipError('SIP_STATE', 'cannot re-INVITE: another INVITE transaction is in progress (RFC 3261 §14.1)'));
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.launch(sdp, 0);
    });
  }

  /** §14.2: a re-INVITE from the far end, in `dialog`. */
  async receive(incoming: IncomingRequest, transaction: InviteServerTransaction, dialog: Dialog): Promise<void> {
    const owner = this.owner;
    const request = incoming.message;
    // §14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress
    // MUST return a 491 (Request Pending) response to the received INVITE."
    if (this.outgoing !== undefined) return incoming.respond(491);
    // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a lower
    // CSeq sequence number on the same dialog MUST return a 500 (Server Internal Error) response to the second
    // INVITE and MUST include a Retry-After header field with a randomly chosen value of between 0 and 10 seconds."
    // The first INVITE's ACK not being in yet counts the same.
    if (this.incoming !== undefined || this.updating || owner.state === InviteSessionState.Answered) {
      return incoming.respond(500, undefined, { headers: [retryAfter()] });
    }
    if (owner.state !== InviteSessionState.Established) return incoming.respond(481);
    const timer = this.timerOf(incoming);
    if (timer === undefined) return;
    const pending: PendingIncoming = { incoming, transaction };
    this.incoming = pending;
    owner.host.dialogs.addCancelTarget(transaction, () => this.finishIncoming(487));
    dialog.refreshTarget(request);
    const offer = sdpOf(request);
    const answered = await this.answerTo(offer, incoming);
    // Cancelled, ended, or answered meanwhile.
    if (this.incoming !== pending) return;
    if ('refusal' in answered) return this.finishIncoming(answered.refusal.status, answered.refusal);
    const body = answered.body;
    transaction.user = {
      onAck: (ack) => {
        const answer = sdpOf(ack);
        if (offer === undefined && answer !== undefined) {
          owner.sdp.remote = answer;
          owner.emit({ type: 'remote-answer', sdp: answer, ack });
        }
      },
      onAckTimeout: () => {
        if (owner.state === InviteSessionState.Established) owner.ackTimedOut();
      },
    };
    owner.sdp.local = body;
    if (offer !== undefined) owner.sdp.remote = offer;
    this.finishIncoming(200, {
      headers: [
        { name: 'Contact', value: `<${formatUri(owner.binding.contactUri(incoming.received.transport))}>` }, allowHeader(), contentType(SDP),
        ...(timer.kind === 'timer' ? uasResponseHeaders(timer.expires) : []),
      ],
      body,
    });
    owner.sessionTimer.negotiatedAsUas(timer);
  }

  /** The session ended: our re-INVITE is abandoned (its caller told why), the far end's gets 487 (§15.1.2). */
  end(reason: string): void {
    this.outgoing?.dispose();
    this.outgoing = undefined;
    this.settle({ error: new SipError('SIP_STATE', `re-INVITE abandoned: the session ended (${reason})`) });
    this.finishIncoming(487);
  }

  /**
   * RFC 3311: the far end's UPDATE in the confirmed dialog. Peers send it as a session refresh (RFC 4028 §10) without
   * an offer, or with one (a new address, hold); it is answered at once in the 200, no ACK follows. It refreshes the
   * target (§5.2) and negotiates the session interval as a re-INVITE does (RFC 4028 §9).
   */
  async receiveUpdate(incoming: IncomingRequest, dialog: Dialog): Promise<void> {
    const owner = this.owner;
    const request = incoming.message;
    const offer = sdpOf(request);
    if (owner.state === InviteSessionState.Answered || (offer !== undefined && (this.incoming !== undefined || this.updating))) {
      // RFC 3311 §5.2: "if an UPDATE is received that contains an offer, and the UAS has received an offer [...] to
      // which it has not yet generated an answer, the UAS MUST reject the UPDATE with a 500 response, and MUST
      // include a Retry-After header field". Before the ACK of our 2xx the INVITE's exchange is not over either.
      return incoming.respond(500, undefined, { headers: [retryAfter()] });
    }
    if (owner.state !== InviteSessionState.Established) return incoming.respond(481);
    // §5.2: "If an UPDATE is received that contains an offer, and the UAS has generated an offer [...] to which it
    // has not yet received an answer, the UAS MUST reject the UPDATE with a 491 response."
    if (offer !== undefined && this.outgoing !== undefined) return incoming.respond(491);
    const timer = this.timerOf(incoming);
    if (timer === undefined) return;
    dialog.refreshTarget(request);
    let answered: Answered;
    this.updating = true;
    try {
      answered = await this.answerTo(offer, incoming);
    } finally {
      this.updating = false;
    }
    if (owner.state !== InviteSessionState.Established) return incoming.respond(481);
    if ('refusal' in answered) return incoming.respond(answered.refusal.status, undefined, answered.refusal);
    if (offer !== undefined) {
      owner.sdp.local = answered.body;
      owner.sdp.remote = offer;
    }
    incoming.respond(200, undefined, {
      headers: [
        { name: 'Contact', value: `<${formatUri(owner.binding.contactUri(incoming.received.transport))}>` }, allowHeader(),
        ...(offer === undefined ? [] : [contentType(SDP)]),
        ...(timer.kind === 'timer' ? uasResponseHeaders(timer.expires) : []),
      ],
      ...(offer !== undefined && { body: answered.body }),
    });
    owner.sessionTimer.negotiatedAsUas(timer);
  }

  /**
   * RFC 4028 §9 for the far end's re-INVITE or UPDATE: the session timer it asks for, or undefined once it has been
   * answered 400 (a malformed Session-Expires) or 422 (below our Min-SE; the session goes on as it was).
   */
  private timerOf(incoming: IncomingRequest): UasDecision | undefined {
    let timer: UasDecision;
    try {
      timer = decideAsUas(incoming.message, this.owner.host.sessionTimerSettings);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      incoming.respond(400, e.reason);
      return undefined;
    }
    if (timer.kind !== 'too-small') return timer;
    incoming.respond(422, undefined, { headers: [minSeHeader(timer.minSeS)] });
    return undefined;
  }

  /**
   * Our SDP for the far end's re-INVITE or UPDATE: without an offer our current one; an offer byte-identical to the
   * last (a refresh) gets our last answer; any other goes to the application. Its refusal (an expected failure) is
   * a 488 with a Warning (§21.4.26, §20.43), its other failures a 500 (§21.5.1: "The server encountered an
   * unexpected condition"), then thrown on: a programming error ends the session.
   */
  private async answerTo(offer: Buffer | undefined, incoming: IncomingRequest): Promise<Answered> {
    const { sdp, delegate, binding } = this.owner;
    let body: Buffer | undefined;
    try {
      if (offer === undefined) body = sdp.local;
      else if (sdp.remote !== undefined && sdp.local !== undefined && offer.equals(sdp.remote)) body = sdp.local;
      else body = await delegate.onOffer?.(offer, incoming.message);
    } catch (e) {
      if (!isExpectedFailure(e)) {
        incoming.respond(500);
        throw e;
      }
      const agent = binding.contactUri(incoming.received.transport);
      return { refusal: { status: 488, headers: [warning(`${agent.host}${agent.port === undefined ? '' : `:${agent.port}`}`, e.message)] } };
    }
    return body === undefined ? { refusal: { status: 488, headers: [] } } : { body };
  }

  /** One attempt, run unawaited: a programming error on the way rejects the caller and ends the session. */
  private launch(sdp: Buffer, attempt: number): void {
    this.sendAttempt(sdp, attempt).catch((e: unknown) => {
      this.settle({ error: e });
      this.owner.failed(e);
    });
  }

  private async sendAttempt(sdp: Buffer, attempt: number): Promise<void> {
    const owner = this.owner;
    const dialog = owner.dialog;
    if (dialog === undefined || owner.state !== InviteSessionState.Established) {
      return this.settle({ error: new SipError('SIP_STATE', `re-INVITE abandoned: the session is ${owner.state}`) });
    }
    let destination: Destination;
    try {
      destination = await owner.requests.destination(dialog);
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      this.settle({ error: e });
      owner.dialogLost(e.message);
      return;
    }
    const request = dialog.createRequest('INVITE', {
      contact: owner.binding.contactUri(destination.transport),
      body: { contentType: SDP, content: sdp },
      headers: [allowHeader(), ...owner.sessionTimer.requestHeaders()],
    });
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      owner.timers.cancel(guard);
      this.outgoing = undefined;
      dialog.localSeq = Math.max(dialog.localSeq ?? 0, getCSeq(invite.request).seq);
      return true;
    };
    const invite = new OutgoingInvite(owner.host, request, destination, owner.digest, {
      onProvisional: () => undefined,
      onSuccess: (response) => {
        // §13.2.2.4 for every 2xx (the ACK is kept for retransmissions); §12.2: the 2xx refreshes the target.
        const first = settle();
        if (first) dialog.refreshTarget(response);
        owner.acks.acknowledge(dialog, invite.request);
        if (!first) return;
        owner.sdp.local = sdp;
        const answer = sdpOf(response);
        if (answer !== undefined) owner.sdp.remote = answer;
        owner.sessionTimer.negotiatedAsUac(response);
        this.settle({ response });
      },
      onFailure: (response) => {
        if (!settle()) return;
        if (response.status === 491 && attempt < MAX_GLARE_RETRIES && owner.state === InviteSessionState.Established) {
          // §14.1: "the UAC SHOULD [...] start a timer with a value T chosen as follows" and re-try when it fires.
          // Meanwhile ours is not in progress: the far end's re-INVITE is taken (§14.2), and ours waits for it.
          this.retryLater(sdp, attempt + 1);
          return;
        }
        this.settle({ response });
        if (response.status === 481 || response.status === 408) owner.dialogLost(describeResponse(response), response);
      },
      onError: (error) => {
        if (!settle()) return;
        this.settle({ error });
        owner.dialogLost(error.message);
      },
      onIntervalTooSmall: (response) => owner.sessionTimer.tooSmall(response),
    });
    this.outgoing = invite;
    invite.start();
    // A far end that keeps the re-INVITE at 1xx would block every later one (§14.1): CANCEL it after Timer B's time.
    const guard = owner.timers.schedule(owner.host.transactions.timers.B, () => invite.cancel());
  }

  private retryLater(sdp: Buffer, attempt: number): void {
    this.owner.timers.schedule(this.glareDelayMs(), () => {
      if (this.incoming !== undefined && attempt < MAX_GLARE_RETRIES) return this.retryLater(sdp, attempt + 1);
      this.launch(sdp, attempt);
    });
  }

  /**
   * §14.1: "If the UAC is the owner of the Call-ID of the dialog ID (meaning it generated the value), T has a
   * randomly chosen value between 2.1 and 4 seconds in units of 10 ms. If the UAC is not the owner of the Call-ID
   * of the dialog ID, T has a randomly chosen value of between 0 and 2 seconds in units of 10 ms."
   */
  private glareDelayMs(): number {
    return this.owner.ownsCallId ? randomInt(210, 401) * 10 : randomInt(0, 201) * 10;
  }

  private settle(outcome: { response: SipResponse } | { error: unknown }): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) return;
    if ('response' in outcome) waiter.resolve(outcome.response);
    else waiter.reject(outcome.error);
  }

  private finishIncoming(status: number, options?: { headers: { name: string; value: string }[]; body?: Buffer }): void {
    const pending = this.incoming;
    if (pending === undefined) return;
    this.incoming = undefined;
    this.owner.host.dialogs.removeCancelTarget(pending.transaction);
    pending.incoming.respond(status, undefined, options);
  }
}

/**
 * RFC 3261 §14.2 and RFC 3311 §5.2: the 500 to a request that crossed another one carries a Retry-After of "a
 * randomly chosen value of between 0 and 10 seconds".
 */
function retryAfter(): { name: string; value: string } {
  return { name: 'Retry-After', value: String(randomInt(0, 11)) };
}

/**
 * RFC 3261 §20.43: `Warning: 399 <agent> "<text>"` — 399 "Miscellaneous warning: The warning text can include
 * arbitrary information to be presented to a human user or logged"; the agent is the host:port of our Contact.
 */
function warning(agent: string, text: string): { name: string; value: string } {
  return { name: 'Warning', value: `399 ${agent} ${quote(text)}` };
}
