/**
 * A call that arrives as an INVITE for the session's Contact (docs/client-protocol.md "Incoming call"):
 *
 *   INVITE → `OnCallEvent` hook (refused: 403) → our WebRTC offer (remoteSdp) → incomingCall → 180, RING →
 *   client `answer` → `answer` hook → 200 with our RTP answer (or offer, for an INVITE without SDP) → ACK →
 *   ESTABLISHED
 *
 * The OnCallEvent answer's `record: true` records the call (./call.ts recordTo), as the `call` answer does for an
 * outgoing one.
 *
 * Phases screening → alerting → answering → established (./call-phase.ts); the rest of the call's life is
 * ./call.ts. Until the INVITE has its final response, ending the call answers it with the status its cause calls
 * for (RFC 3261 §21).
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../hooks/types.ts';
import { isCodecPolicy, MediaError } from '../media/index.ts';
import { SipError } from '../sip/errors.ts';
import { formatUri } from '../sip/message/uri.ts';
import { isSipUri, type NameAddr } from '../sip/message/types.ts';
import { InviteSessionState, type Invitation } from '../sip/ua/index.ts';
import { Call, TEMPORARILY_UNAVAILABLE, type CallEndedListener, type CallHost } from './call.ts';
import { mediaFailureInfo } from './call-status.ts';
import { MEDIA_PROVIDER, pickCallObject, sipMessageRaw, withoutContext } from './views.ts';
import type { AnswerRequest } from './types.ts';

/** RFC 3261 §21.4.3 / §21.4.26 / §21.6.2: what an unanswered incoming call is refused with, by cause. */
const FORBIDDEN = 403;
const NOT_ACCEPTABLE_HERE = 488;
const DECLINE = 603;

/** `alice` for `sip:alice@example.com`: how WCS names the parties of an incoming call; the whole URI otherwise. */
export function partyName(party: NameAddr): string {
  if (!isSipUri(party.uri) || party.uri.user === undefined) return formatUri(party.uri);
  try {
    return decodeURIComponent(party.uri.user);
  } catch {
    return party.uri.user; // a stray % that escapes nothing: shown as received
  }
}

export class IncomingCall extends Call {
  private constructor(
    host: CallHost,
    onEnded: CallEndedListener,
    init: { callId: string; object: JsonObject },
    private readonly invitation: Invitation,
  ) {
    super(host, onEnded, { ...init, incoming: true, phase: 'screening' });
    this.sip = invitation;
  }

  /** A new INVITE to the session's Contact. The delegate is set before this returns, as the UA requires. */
  static receive(host: CallHost, invitation: Invitation, onEnded: CallEndedListener): Call {
    const callId = randomUUID();
    const object: JsonObject = {
      callId,
      incoming: true,
      caller: partyName(invitation.caller),
      // A registrar forwards to the registered Contact, and a PBX may address that Contact in To as well as in the
      // Request-URI (Asterisk does): its user is callhook's own random one. Whom the call is for is the session's
      // identity; where it was addressed stays available as sipRequestUri.
      callee: host.sipLogin ?? partyName(invitation.callee),
      sipRequestUri: formatUri(invitation.request.uri),
      visibleName: invitation.caller.displayName ?? partyName(invitation.caller),
      hasAudio: true,
      hasVideo: false,
      mediaProvider: MEDIA_PROVIDER,
    };
    const call = new IncomingCall(host, onEnded, { callId, object }, invitation);
    invitation.delegate = call.delegate();
    call.contain(() => call.start());
    return call;
  }

  /** The client answers with its WebRTC answer to our offer. */
  override async answer(request: AnswerRequest): Promise<void> {
    if (this.phase !== 'alerting' || !this.unanswered()) return this.refuse('answer', `answer: the call is ${this.describeState()}`);
    this.transition('answering');
    const invitation = this.invitation;
    const decision = await this.decide('answer', { ...request.extra, ...this.object, status: this.statusValue, sdp: request.sdp });
    if (!decision.ok && decision.refuse) {
      // docs/hooks.md, direct × FAIL: the answer does not happen. The SDK has left the ringing state for good, so
      // the call cannot be answered later: it is declined.
      this.fail('CallStatusEvent', decision.info);
      return this.finish('FAILED', { info: decision.info }, DECLINE);
    }
    try {
      await this.media.acceptBrowserAnswer(request.sdp);
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) }, NOT_ACCEPTABLE_HERE);
      throw e;
    }
    try {
      await this.media.openSipSide();
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) }, TEMPORARILY_UNAVAILABLE);
      throw e;
    }
    try {
      // RFC 3261 §13.2.1: an INVITE without SDP gets our offer in the 200; the answer comes in the ACK.
      invitation.accept(invitation.offer !== undefined ? this.media.answerSipOffer(invitation.offer) : this.media.sipOffer());
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) }, NOT_ACCEPTABLE_HERE);
      // The caller cancelled while our media was being set up: the call has ended already.
      if (e instanceof SipError && e.code === 'SIP_STATE' && this.isEnded) return;
      throw e;
    }
  }

  protected override unanswered(): boolean {
    const state = this.invitation.state;
    return state === InviteSessionState.Initial || state === InviteSessionState.Establishing;
  }

  protected override endSip(rejectWith: number): Promise<void> | undefined {
    if (!this.unanswered()) return super.endSip(rejectWith);
    this.invitation.reject(rejectWith);
    return undefined;
  }

  private async start(): Promise<void> {
    const invitation = this.invitation;
    try {
      // The law comes from the SIP offer (the browser then gets only that one).
      this.media.chooseLaw(invitation.offer);
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) }, NOT_ACCEPTABLE_HERE);
      throw e;
    }
    const decision = await this.decide('OnCallEvent', { ...this.object, status: 'PENDING', sipMessageRaw: sipMessageRaw(invitation.received.raw) });
    if (!decision.ok && decision.refuse) {
      // docs/hooks.md, incoming × FAIL: the SIP request is refused with 403, `fail` to the client.
      this.fail('CallStatusEvent', decision.info);
      return this.finish('FAILED', { info: decision.info }, FORBIDDEN);
    }
    const fields = withoutContext(decision.body);
    this.object = pickCallObject({ ...fields, callId: this.callId, incoming: true });
    if (isCodecPolicy(fields['codecPolicy'])) this.media.useCodecPolicy(fields['codecPolicy']);
    // The backend's answer alone can record the call: nothing of the hook's request comes from the client.
    if (fields['record'] === true) this.recordTo();
    let offer: string;
    try {
      offer = await this.media.offerToBrowser();
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) }, TEMPORARILY_UNAVAILABLE);
      throw e;
    }
    // SDK 2.0 keeps the offer only for a call it does not know yet, and answer() needs it: offer first.
    this.host.deliver({ type: 'remoteSdp', callId: this.callId, sdp: offer });
    if (!this.host.deliver({ type: 'incomingCall', call: { ...this.object, status: 'PENDING' } })) {
      return this.finish('FAILED', { info: 'The client is gone' }, TEMPORARILY_UNAVAILABLE);
    }
    this.transition('alerting');
    invitation.ring();
    this.report('RING', { info: 'SIP 180 Ringing', sipStatus: 180 });
  }
}
