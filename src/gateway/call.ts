/**
 * One call between a session's browser and the SIP side: the place where the SIP INVITE session, the media legs
 * (../media) and the hooks meet (client-protocol.md, rest-hooks.md).
 *
 *   outgoing  client `call` → `call` hook (may OVERWRITE callee) → WebRTC answer → setRemoteSDP → INVITE with our
 *             RTP offer → TRYING / RING / RING_MEDIA / SESSION_PROGRESS → ESTABLISHED
 *   incoming  INVITE → `OnCallEvent` hook (refused: 403) → setRemoteSDP (our WebRTC offer) → notifyIncomingCall →
 *             180, RING → client `answer` → `answer` hook → 200 with our RTP answer → ACK → ESTABLISHED
 *   in call   hold / unhold (re-INVITE sendonly / sendrecv → HOLD / ESTABLISHED), the far end's re-INVITEs (its
 *             hold shows as HOLD too), DTMF (RFC 4733 through the bridge, or SIP INFO), blind transfer (REFER; on
 *             COMPLETED our BYE ends the call)
 *   end       FINISH / BUSY / FAILED exactly once, whoever ends it (the client, the far end, the network, ICE, RTP
 *             inactivity, the session going away, a bug); then both media legs are closed, releasing their ports, and
 *             the SIP side is ended (CANCEL, BYE, or a final response to an unanswered INVITE).
 *
 * The codec: the browser is restricted to one G.711 law that the SIP side can take — for an outgoing call the first
 * configured law the browser offers, and then the SIP offer carries only that law; for an incoming call the law of
 * the SIP offer. No transcoding, so `No common codecs` when there is none.
 *
 * Every status goes to the backend as CallStatusEvent and, once the client knows the call, to the client (without
 * the event's clientExclude fields). Each async step re-checks `ended`: the client may hang up, or the far end
 * cancel, while a hook or the media set-up is under way.
 *
 * Every way into a call — its start, a client request, a SIP or media callback — runs through `contain`: an error no
 * step expects is a bug in callhook, and it ends this call FAILED `Internal error` (logged with its stack) instead of
 * reaching the session, the SIP stack or the process (docs/security.md "Failure containment").
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { HookContext, HookEngine, JsonObject } from '../hooks/types.ts';
import {
  chooseAudio, FAILED_BY_RTP_ACTIVITY, g711Of, NO_COMMON_CODECS, isPlainRtpProfile, MediaBridge, MediaError,
  parseSdp, RtpLeg, serializeSdp, SipSdpSession, type G711Name, type NegotiatedAudio, type WebRtcLeg,
} from '../media/index.ts';
import { mediaDirection, receives } from '../media/sdp/direction.ts';
import { SipError } from '../sip/errors.ts';
import { checkExtensionHeader } from '../sip/message/header-names.ts';
import type { SipResponse } from '../sip/message/message.ts';
import { formatUri } from '../sip/message/uri.ts';
import { isSipUri, type NameAddr } from '../sip/message/types.ts';
import {
  describeResponse, DTMF, Invitation, Inviter, SessionState, validateDtmf, type ContactBinding,
  type InviteSession, type SessionDelegate, type SessionEvent, type SipAccount, type UserAgent,
} from '../sip/ua/index.ts';
import type { CallInfo } from '../admin/sessions.ts';
import type { CallMedia } from './call-media.ts';
import { endStatus, FAILED_BY_SESSION_CREATION, isFinal, NORMAL_CALL_CLEARING, provisionalStatus, type StatusDetail } from './call-status.ts';
import { contain } from './contain.ts';
import { GatewayError, INTERNAL_ERROR } from './errors.ts';
import { resolveTarget } from './sip-settings.ts';
import { clientView, sipMessageRaw, withoutContext } from './views.ts';
import { callWill } from './wills.ts';
import type {
  AnswerRequest, CallControlRequest, CallMessage, CallStatus, ClientEvent, DtmfRequest, FailureSubject,
  OutgoingCallRequest, TransferRequest,
} from './types.ts';

/** What a call needs of its session. */
export interface CallHost {
  readonly sessionId: string;
  readonly ua: UserAgent;
  readonly hooks: HookEngine;
  readonly log: Logger;
  readonly media: CallMedia;
  /** `sipLogin`: the caller of outgoing calls. */
  readonly sipLogin: string | undefined;
  /** The session's registered Contact, which outgoing calls use as theirs (undefined without registration). */
  readonly binding: ContactBinding | undefined;
  hookContext(): HookContext;
  /** Throws GatewayError when the session has no usable SIP identity. */
  account(): SipAccount;
  deliver(event: ClientEvent): boolean;
  /** A call message that could not be carried out: `fail` to the client, ErrorStatusEvent to the backend. */
  refuse(message: CallMessage, callId: string, info: string): void;
}

/** Told once, when the call has reached its final status (`closed` then says when its media and SIP are done). */
export type CallEndedListener = (call: Call) => void;

/** The fields of the call object (client-protocol.md "The call object") besides status, info and the SIP ones. */
const CALL_OBJECT_FIELDS = ['callId', 'incoming', 'caller', 'callee', 'visibleName', 'hasAudio', 'hasVideo', 'mediaProvider', 'custom'] as const;
const MEDIA_PROVIDER = 'WebRTC';
/** The payload type of telephone-event in our SIP offers (the common choice; RFC 4733 leaves it dynamic). */
const TELEPHONE_EVENT_PT = 101;
/** RFC 3261 §21.4.9 / §21.4.26: what an unanswered incoming call is refused with, by cause. */
const FORBIDDEN = 403;
const NOT_ACCEPTABLE_HERE = 488;
const BUSY_HERE = 486;
const DECLINE = 603;
const TEMPORARILY_UNAVAILABLE = 480;
/** RFC 3261 §21.5.1: what an unanswered incoming call gets when callhook fails on it. */
const SERVER_INTERNAL_ERROR = 500;

function pickCallObject(fields: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const f of CALL_OBJECT_FIELDS) if (fields[f] !== undefined) out[f] = fields[f];
  return out;
}

/** `alice` for `sip:alice@example.com`: how WCS names the parties of an incoming call; the whole URI otherwise. */
function partyName(party: NameAddr): string {
  if (!isSipUri(party.uri) || party.uri.user === undefined) return formatUri(party.uri);
  try {
    return decodeURIComponent(party.uri.user);
  } catch {
    return party.uri.user; // a stray % that escapes nothing: shown as received
  }
}

/** The `info` of a media failure: the WCS text for codecs, else what failed while the call was being set up. */
function mediaFailureInfo(e: MediaError): string {
  return e.code === 'MEDIA_NO_COMMON_CODEC' ? e.message : `${FAILED_BY_SESSION_CREATION}: ${e.message}`;
}

/**
 * The client's `inviteParameters` as header fields of the INVITE. The rule is the SIP stack's (checkExtensionHeader:
 * a token name, no compact form, no header the stack writes, no control characters); a header it refuses is a
 * GatewayError naming it.
 */
function inviteHeaders(parameters: Record<string, string> | undefined): { name: string; value: string }[] {
  const headers: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(parameters ?? {})) {
    try {
      checkExtensionHeader(name, value);
    } catch (e) {
      if (e instanceof SipError && e.code === 'SIP_HEADER') throw new GatewayError('BAD_INVITE_PARAMETERS', `inviteParameters: ${e.message}`);
      throw e;
    }
    headers.push({ name, value });
  }
  return headers;
}

type Operation = 'hold' | 'unhold';

export class Call {
  readonly callId: string;
  readonly incoming: boolean;
  readonly startedAt = new Date();
  /** Resolves once the media legs are closed and the SIP side is ended (after the final status). */
  closed: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  /** The call object without status: what every report and hook body starts from. */
  private object: JsonObject;
  private statusValue: CallStatus = 'PENDING';
  private ended = false;
  /** The client has heard of the call (always for outgoing; after notifyIncomingCall for incoming). */
  private announced: boolean;
  private sip: InviteSession | undefined;
  private leg: WebRtcLeg | undefined;
  private rtp: RtpLeg | undefined;
  private sdp: SipSdpSession | undefined;
  private bridge: MediaBridge | undefined;
  /** The SIP leg's latest offer/answer outcome. */
  private currentSip: NegotiatedAudio | undefined;
  /** The final response an incoming call still ringing gets when it ends (RFC 3261 §21 codes, by cause). */
  private rejectWith = BUSY_HERE;
  private localHold = false;
  private remoteHold = false;
  /** A hold / unhold re-INVITE in progress: the next one waits for the client to ask again. */
  private operation: Operation | undefined;
  private dtmfQueue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly host: CallHost,
    private readonly onEnded: CallEndedListener,
    init: { callId: string; incoming: boolean; object: JsonObject },
  ) {
    this.callId = init.callId;
    this.incoming = init.incoming;
    this.object = init.object;
    this.announced = !init.incoming;
    this.log = host.log.child({ callId: init.callId });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** A client's `call`. The call is returned at once; its progress arrives as statuses. */
  static place(host: CallHost, request: OutgoingCallRequest, onEnded: CallEndedListener): Call {
    const object: JsonObject = {
      ...pickCallObject(request.extra),
      callId: request.callId,
      incoming: false,
      caller: host.sipLogin ?? request.extra['caller'] ?? '',
      mediaProvider: MEDIA_PROVIDER,
    };
    if (request.callee !== undefined) object['callee'] = request.callee;
    const call = new Call(host, onEnded, { callId: request.callId, incoming: false, object });
    call.contain(() => call.startOutgoing(request));
    return call;
  }

  /** A new INVITE to the session's Contact. The delegate is set before this returns, as the UA requires. */
  static receive(host: CallHost, invitation: Invitation, onEnded: CallEndedListener): Call {
    const callId = randomUUID();
    const object: JsonObject = {
      callId,
      incoming: true,
      caller: partyName(invitation.caller),
      callee: partyName(invitation.callee),
      visibleName: invitation.caller.displayName ?? partyName(invitation.caller),
      hasAudio: true,
      hasVideo: false,
      mediaProvider: MEDIA_PROVIDER,
    };
    const call = new Call(host, onEnded, { callId, incoming: true, object });
    call.sip = invitation;
    invitation.delegate = call.delegate();
    call.contain(() => call.startIncoming(invitation));
    return call;
  }

  info(): CallInfo {
    const info: CallInfo = {
      callId: this.callId,
      sessionId: this.host.sessionId,
      incoming: this.incoming,
      status: this.statusValue,
      caller: String(this.object['caller'] ?? ''),
      callee: String(this.object['callee'] ?? ''),
      startedAt: this.startedAt.toISOString(),
    };
    if (this.rtp) info.rtpPort = this.rtp.localPort;
    if (this.leg?.localPort !== undefined) info.webrtcPort = this.leg.localPort;
    const codec = this.leg?.media?.codec;
    if (codec) info.codec = codec.encoding.toUpperCase();
    if (this.bridge) {
      const stats = this.bridge.stats();
      info.packetsToSip = stats.toSip.forwarded;
      info.packetsToBrowser = stats.toWebrtc.forwarded;
    }
    return info;
  }

  // --- client requests -------------------------------------------------------------------------------------------

  /** The client answers an incoming call with its WebRTC answer to our offer. */
  async answer(request: AnswerRequest): Promise<void> {
    const invitation = this.sip;
    if (!this.incoming || !(invitation instanceof Invitation) || this.leg === undefined || !this.isRinging(invitation)) {
      return this.refuse('answer', `answer: the call is ${this.describeState()}`);
    }
    const decision = await this.host.hooks.invoke('answer', { ...request.extra, ...this.object, status: this.statusValue, sdp: request.sdp }, this.context());
    if (this.ended) return;
    if (!decision.ok && decision.refuse) {
      // rest-hooks.md, direct × FAIL: the answer does not happen. The SDK has left the ringing state for good, so
      // the call cannot be answered later: it is declined.
      this.fail('CallStatusEvent', decision.info);
      return this.endIncoming(DECLINE, 'FAILED', { info: decision.info });
    }
    const leg = this.leg;
    try {
      await leg.setRemoteAnswer(request.sdp);
      if (this.ended) return;
      const law = g711Of(leg.media!.codec)!;
      const rtp = await this.openRtp(law);
      if (rtp === undefined) return;
      if (invitation.offer !== undefined) {
        const { sdp, media } = this.sdp!.createAnswer(parseSdp(invitation.offer.toString('utf8')));
        this.startBridge(media);
        invitation.accept(Buffer.from(serializeSdp(sdp), 'utf8'));
      } else {
        // RFC 3261 §13.2.1: an INVITE without SDP gets our offer in the 200; the answer comes in the ACK.
        invitation.accept(Buffer.from(serializeSdp(this.sdp!.createOffer()), 'utf8'));
      }
    } catch (e) {
      if (e instanceof MediaError) return this.endIncoming(NOT_ACCEPTABLE_HERE, 'FAILED', { info: mediaFailureInfo(e) });
      // The caller cancelled while our media was being set up: the call has ended already.
      if (e instanceof SipError && e.code === 'SIP_STATE' && this.ended) return;
      throw e;
    }
  }

  /**
   * The client hangs up: CANCEL (outgoing, unanswered), a final response (incoming, unanswered: 486), or BYE.
   * The `hangup` hook is called first but cannot keep the call up: WCS documents forbidding it as pointless, and the
   * SDK has already closed its media.
   */
  async hangup(request: CallControlRequest): Promise<void> {
    const decision = await this.host.hooks.invoke('hangup', { ...request.extra, ...this.object, status: this.statusValue }, this.context());
    if (!decision.ok) this.log.info({ info: decision.info }, 'hangup hook failed; hanging up all the same');
    const sip = this.sip;
    if (this.ended) return;
    if (sip instanceof Invitation && this.isRinging(sip)) return this.endIncoming(BUSY_HERE, 'FINISH', { info: NORMAL_CALL_CLEARING });
    if (sip === undefined || sip.state === SessionState.Initial) {
      // Still in the call hook or the media set-up: nothing went out yet.
      return this.finish('FINISH', { info: NORMAL_CALL_CLEARING });
    }
    // The session's `terminated` event reports FINISH (after the 487 or the BYE's answer).
    await sip.terminate();
  }

  /** `hold` (`on`) or `unhold`: a re-INVITE with our SDP `sendonly` or `sendrecv` (RFC 3264 §8.4). */
  async hold(request: CallControlRequest, on: boolean): Promise<void> {
    const message: CallMessage = on ? 'hold' : 'unhold';
    const sip = this.sip;
    if (this.ended || sip === undefined || sip.state !== SessionState.Established || this.sdp === undefined) {
      return this.refuse(message, `${message}: the call is ${this.describeState()}`);
    }
    if (this.operation !== undefined) return this.refuse(message, `${message}: a ${this.operation} is still in progress`);
    this.operation = message;
    try {
      const decision = await this.host.hooks.invoke(message, { ...request.extra, ...this.object, status: this.statusValue }, this.context());
      if (this.ended) return;
      if (!decision.ok && decision.refuse) return this.fail('CallStatusEvent', decision.info);
      const offer = this.sdp.createOffer(on ? 'sendonly' : 'sendrecv');
      let response: SipResponse;
      try {
        response = await sip.reinvite(Buffer.from(serializeSdp(offer), 'utf8'));
      } catch (e) {
        // The session ended meanwhile, or the re-INVITE timed out (which ends it): its `terminated` event reports.
        if (e instanceof SipError) return this.refuse(message, `${message}: ${e.message}`);
        throw e;
      }
      if (this.ended) return;
      if (response.status >= 300) return this.refuse(message, `${message}: ${describeResponse(response)}`);
      this.localHold = on;
      const answer = response.body.length > 0 ? response.body.toString('utf8') : undefined;
      if (answer !== undefined) this.applyAnswer(answer);
      this.reportHoldState({ info: describeResponse(response), sipStatus: response.status, sipMessageRaw: sipMessageRaw(response) });
    } catch (e) {
      if (e instanceof MediaError && e.code === 'MEDIA_NO_COMMON_CODEC') return this.finish('FAILED', { info: e.message });
      throw e;
    } finally {
      this.operation = undefined;
    }
  }

  /** `sendDtmf`: RFC 4733 events towards the SIP side (RFC2833), or SIP INFO (INFO: application/dtmf, INFO_RELAY:
   *  application/dtmf-relay). Requests queue behind each other, so digits keep their order. */
  sendDtmf(request: DtmfRequest): Promise<void> {
    this.dtmfQueue = this.dtmfQueue.then(() => this.playDtmf(request));
    return this.dtmfQueue;
  }

  /** `transfer`: blind transfer with REFER (RFC 3515); progress as notifyTransferEvent and TransferStatusEvent. */
  async transfer(request: TransferRequest): Promise<void> {
    const sip = this.sip;
    if (this.ended || sip === undefined || sip.state !== SessionState.Established) {
      return this.refuse('transfer', `transfer: the call is ${this.describeState()}`);
    }
    const decision = await this.host.hooks.invoke('transfer', { callId: this.callId, target: request.target }, this.context());
    if (this.ended) return;
    if (!decision.ok && decision.refuse) return this.fail('TransferStatusEvent', decision.info);
    const target = withoutContext(decision.body)['target'];
    let uri;
    try {
      if (typeof target !== 'string' || target.trim() === '') {
        throw new GatewayError('BAD_HOOK_ANSWER', `transfer: the target ${JSON.stringify(target)} is not a number or SIP address`);
      }
      uri = resolveTarget(target, this.host.account().aor);
    } catch (e) {
      if (e instanceof GatewayError) return this.refuse('transfer', e.message);
      throw e;
    }
    try {
      await sip.refer(uri);
    } catch (e) {
      if (e instanceof SipError && e.code === 'SIP_STATE') return this.refuse('transfer', `transfer: ${e.message}`);
      throw e;
    }
  }

  /** The session is going away (its client left, the server stops): the call ends with `info`. */
  disconnect(info: string): Promise<void> {
    if (!this.ended) {
      const sip = this.sip;
      if (sip instanceof Invitation && this.isRinging(sip)) this.endIncoming(TEMPORARILY_UNAVAILABLE, 'FINISH', { info });
      else this.finish('FINISH', { info });
    }
    return this.closed;
  }

  // --- outgoing ----------------------------------------------------------------------------------------------------

  private async startOutgoing(request: OutgoingCallRequest): Promise<void> {
    let headers: { name: string; value: string }[];
    try {
      headers = inviteHeaders(request.inviteParameters);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      // Refused before the backend is asked: `fail` names the header, FAILED ends the call at the SDK.
      this.fail('call', e.message);
      return this.finish('FAILED', { info: e.message });
    }
    const body: JsonObject = { ...request.extra, ...this.object, status: 'PENDING', sdp: request.sdp };
    if (request.inviteParameters !== undefined) body['inviteParameters'] = request.inviteParameters;
    const decision = await this.host.hooks.invoke('call', body, this.context());
    if (this.ended) return;
    // The backend may overwrite any field (callee above all), never the callId the client knows the call by.
    const fields: JsonObject = { ...withoutContext(decision.body), callId: this.callId, incoming: false };
    this.object = pickCallObject(fields);
    if (!decision.ok && decision.refuse) {
      // rest-hooks.md, direct × FAIL: the call is stopped, `fail` for its event; FAILED ends it at the SDK too.
      this.fail('CallStatusEvent', decision.info);
      return this.finish('FAILED', { info: decision.info });
    }
    let account: SipAccount;
    let target;
    try {
      account = this.host.account();
      const callee = fields['callee'];
      if (typeof callee !== 'string' || callee.trim() === '') {
        throw new GatewayError('INVALID_TARGET', `callee ${JSON.stringify(callee ?? null)} is not a number or SIP address`);
      }
      target = resolveTarget(callee, account.aor);
    } catch (e) {
      if (e instanceof GatewayError) return this.finish('FAILED', { info: e.message });
      throw e;
    }
    // Without G.711 in `codecs` nothing can be relayed (no transcoding).
    if (this.host.media.codecs.length === 0) return this.finish('FAILED', { info: NO_COMMON_CODECS });
    const leg = this.host.media.engine.createLeg({ codecs: this.host.media.codecs });
    this.attachLeg(leg);
    let answer: string;
    try {
      answer = await leg.setRemoteOffer(request.sdp);
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) });
      throw e;
    }
    if (this.ended) return;
    const rtp = await this.openRtp(g711Of(leg.media!.codec)!);
    if (rtp === undefined) return;
    // client-protocol.md: the answer goes out as soon as the hook approved, so early media can play.
    this.host.deliver({ type: 'remoteSdp', callId: this.callId, sdp: answer });
    const inviter = new Inviter(this.host.ua, {
      account,
      target,
      sdp: Buffer.from(serializeSdp(this.sdp!.createOffer()), 'utf8'),
      ...(this.host.binding && { binding: this.host.binding }),
      headers,
      delegate: this.delegate(),
    });
    this.sip = inviter;
    await inviter.invite();
  }

  // --- incoming ----------------------------------------------------------------------------------------------------

  private async startIncoming(invitation: Invitation): Promise<void> {
    // The law comes from the SIP offer (the browser then gets only that one); a no-SDP INVITE leaves the choice to
    // the browser among the configured laws.
    let laws: readonly G711Name[] = this.host.media.codecs;
    if (laws.length === 0) return this.endIncoming(NOT_ACCEPTABLE_HERE, 'FAILED', { info: NO_COMMON_CODECS });
    if (invitation.offer !== undefined) {
      try {
        const choice = chooseAudio(parseSdp(invitation.offer.toString('utf8')), laws, isPlainRtpProfile);
        laws = [g711Of(choice.codec)!];
      } catch (e) {
        if (e instanceof MediaError) return this.endIncoming(NOT_ACCEPTABLE_HERE, 'FAILED', { info: mediaFailureInfo(e) });
        throw e;
      }
    }
    const decision = await this.host.hooks.invoke('OnCallEvent', { ...this.object, status: 'PENDING', sipMessageRaw: sipMessageRaw(invitation.received.raw) }, this.context());
    if (this.ended) return;
    if (!decision.ok && decision.refuse) {
      // rest-hooks.md, incoming × FAIL: the SIP request is refused with 403, `fail` to the client.
      this.fail('CallStatusEvent', decision.info);
      return this.endIncoming(FORBIDDEN, 'FAILED', { info: decision.info });
    }
    this.object = pickCallObject({ ...withoutContext(decision.body), callId: this.callId, incoming: true });
    const leg = this.host.media.engine.createLeg({ codecs: laws });
    this.attachLeg(leg);
    let offer: string;
    try {
      offer = await leg.createOffer();
    } catch (e) {
      if (e instanceof MediaError) return this.endIncoming(TEMPORARILY_UNAVAILABLE, 'FAILED', { info: mediaFailureInfo(e) });
      throw e;
    }
    if (this.ended) return;
    // SDK 2.0 keeps the offer only for a call it does not know yet, and answer() needs it: offer first.
    this.host.deliver({ type: 'remoteSdp', callId: this.callId, sdp: offer });
    this.announced = this.host.deliver({ type: 'incomingCall', call: { ...this.object, status: 'PENDING' } });
    if (!this.announced) return this.endIncoming(TEMPORARILY_UNAVAILABLE, 'FAILED', { info: 'The client is gone' });
    invitation.ring();
    this.report('RING', { info: 'SIP 180 Ringing', sipStatus: 180 });
  }

  // --- SIP events --------------------------------------------------------------------------------------------------

  private delegate(): SessionDelegate {
    return {
      onEvent: (e) => this.contain(() => this.onSipEvent(e)),
      onOffer: (offer) => {
        try {
          return this.answerReoffer(offer.toString('utf8'));
        } catch (err) {
          // The SIP session answers 488 to an offer that throws (RFC 3261 §14.2); a bug also ends the call.
          if (!(err instanceof MediaError)) this.internalError(err);
          throw err;
        }
      },
    };
  }

  private onSipEvent(e: SessionEvent): void {
    try {
      switch (e.type) {
        case 'provisional':
          return this.provisional(e.response, e.raw, e.sdp);
        case 'established':
          return this.established(e.sdp, e.message.kind === 'response' ? e.message : undefined);
        case 'remote-answer':
          return this.applyLateAnswer(e.sdp.toString('utf8'));
        case 'info':
          if (e.dtmf) this.log.info({ digit: e.dtmf.digit, durationMs: e.dtmf.durationMs }, 'DTMF from the SIP side (INFO)');
          return;
        case 'transfer':
          return this.reportTransfer(e.status, e.info);
        case 'terminated': {
          const { status, detail } = endStatus(e);
          return this.finish(status, detail);
        }
      }
    } catch (err) {
      // The far end's SDP that cannot be read or relayed; anything else is a bug, for `contain`.
      if (err instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(err) });
      throw err;
    }
  }

  private provisional(response: SipResponse, raw: string, sdp: Buffer | undefined): void {
    if (this.ended) return;
    if (sdp !== undefined) this.applyAnswer(sdp.toString('utf8'));
    this.report(provisionalStatus(response.status, sdp !== undefined), {
      info: describeResponse(response), sipStatus: response.status, sipMessageRaw: sipMessageRaw(raw),
    });
  }

  private established(sdp: Buffer | undefined, response: SipResponse | undefined): void {
    if (this.ended) return;
    // The RTP inactivity watch counts from here: ringing without early media is silence, not a dead call.
    this.rtp?.setDirection('inactive');
    if (sdp !== undefined) this.applyAnswer(sdp.toString('utf8'));
    else if (this.bridge) this.bridge.updateSip(this.currentSip!);
    if (this.bridge === undefined) return this.finish('FAILED', { info: `${FAILED_BY_SESSION_CREATION}: no SDP answer` });
    const detail: StatusDetail = response
      ? { info: describeResponse(response), sipStatus: response.status, sipMessageRaw: sipMessageRaw(response) }
      : { info: 'SIP 200 OK', sipStatus: 200 };
    this.report('ESTABLISHED', detail);
  }

  /** The far end's re-INVITE with a new offer (hold, resume, new address): our answer, and the relay follows. */
  private answerReoffer(offerText: string): Buffer {
    if (this.sdp === undefined) throw new MediaError('MEDIA_STATE', 'no media yet');
    const offer = parseSdp(offerText);
    const { sdp, media } = this.sdp.createAnswer(offer, this.localHold ? 'sendonly' : 'sendrecv');
    this.startBridge(media);
    const audio = offer.media.find((m) => m.type === 'audio' && m.port !== 0);
    // RFC 3264 §8.4: the far end holds us when it stops receiving (sendonly / inactive, or c=0.0.0.0).
    this.remoteHold = audio === undefined || !receives(mediaDirection(offer, audio)) || media.remote === undefined;
    this.reportHoldState({ info: this.remoteHold ? 'Held by the remote party' : 'Resumed by the remote party' });
    return Buffer.from(serializeSdp(sdp), 'utf8');
  }

  /**
   * The answer in the ACK to a re-INVITE without SDP, which the SIP session answered with our last SDP as the offer
   * (./sip/ua/invite-session.ts). That offer was not made by our SDP side, so the answer is read the way an offer
   * is: where to send, which law and payload types, and the direction it leaves us.
   */
  private applyLateAnswer(text: string): void {
    if (this.sdp === undefined) return;
    this.startBridge(this.sdp.createAnswer(parseSdp(text), this.localHold ? 'sendonly' : 'sendrecv').media);
  }

  /** The far end's SDP answer (18x, 2xx, ACK): the relay starts or follows it. */
  private applyAnswer(text: string): void {
    if (this.sdp === undefined) return;
    this.startBridge(this.sdp.readAnswer(parseSdp(text)));
  }

  private startBridge(media: NegotiatedAudio): void {
    this.currentSip = media;
    if (this.bridge) return this.bridge.updateSip(media);
    if (this.leg === undefined || this.rtp === undefined) return;
    const bridge = new MediaBridge({ webrtc: this.leg, rtp: this.rtp, sip: media, logger: this.log });
    this.bridge = bridge;
    bridge.onDtmf((e) => this.contain(() => this.log.info({ digit: e.digit, durationMs: e.durationMs }, 'DTMF from the SIP side (RFC 4733)')));
  }

  private reportHoldState(detail: StatusDetail): void {
    if (this.statusValue !== 'ESTABLISHED' && this.statusValue !== 'HOLD') return;
    this.report(this.localHold || this.remoteHold ? 'HOLD' : 'ESTABLISHED', detail);
  }

  private reportTransfer(status: string, info: string): void {
    const event: JsonObject = { callId: this.callId, status, info };
    const { clientExclude } = this.host.hooks.emit('TransferStatusEvent', event, this.context());
    this.host.deliver({ type: 'transfer', event: clientView(event, clientExclude) });
    // The far end now talks to the transfer target: our leg of the call is done (its BYE reports FINISH).
    const sip = this.sip;
    if (status === 'COMPLETED' && sip?.state === SessionState.Established) this.contain(() => sip.bye());
  }

  // --- media ---------------------------------------------------------------------------------------------------------

  private attachLeg(leg: WebRtcLeg): void {
    this.leg = leg;
    leg.onStateChange((state, info) => this.contain(() => {
      if (state === 'failed') this.finish('FAILED', { info: info ?? 'Failed by ICE error' });
    }));
  }

  /** Opens the RTP leg and our SDP side for `law`; on failure the call ends and undefined is returned. */
  private async openRtp(law: G711Name): Promise<RtpLeg | undefined> {
    const media = this.host.media;
    let rtp: RtpLeg;
    try {
      rtp = await RtpLeg.open({ localAddress: media.localIp, ports: media.rtpPorts, inactivityMs: media.rtpInactivityMs, logger: this.log });
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
      if (this.incoming) this.endIncoming(TEMPORARILY_UNAVAILABLE, 'FAILED', { info: mediaFailureInfo(e) });
      else this.finish('FAILED', { info: mediaFailureInfo(e) });
      return undefined;
    }
    this.rtp = rtp;
    if (this.ended) {
      await this.release();
      return undefined;
    }
    // Nothing is sent before the far end's SDP says where to; the bridge sets the direction from each answer.
    rtp.setDirection('inactive');
    rtp.onInactive(() => this.contain(() => {
      if (this.statusValue === 'ESTABLISHED') this.finish('FAILED', { info: FAILED_BY_RTP_ACTIVITY });
    }));
    this.sdp = new SipSdpSession({
      address: media.publicIp,
      port: rtp.localPort,
      codecs: [law],
      telephoneEvent: media.telephoneEvent ? TELEPHONE_EVENT_PT : false,
    });
    return rtp;
  }

  private async playDtmf(request: DtmfRequest): Promise<void> {
    const sip = this.sip;
    if (this.ended || sip === undefined || sip.state !== SessionState.Established) {
      return this.refuse('sendDtmf', `sendDtmf: the call is ${this.describeState()}`);
    }
    const decision = await this.host.hooks.invoke('sendDtmf', { callId: this.callId, dtmf: request.dtmf, type: request.type }, this.context());
    if (this.ended) return;
    if (!decision.ok && decision.refuse) return this.fail('sendDtmf', decision.info);
    const fields = withoutContext(decision.body);
    const dtmf = typeof fields['dtmf'] === 'string' ? fields['dtmf'] : request.dtmf;
    const type = fields['type'] === 'INFO' || fields['type'] === 'INFO_RELAY' || fields['type'] === 'RFC2833' ? fields['type'] : request.type;
    try {
      const digits = validateDtmf(dtmf);
      if (type === 'RFC2833') {
        if (this.bridge === undefined) return this.refuse('sendDtmf', 'sendDtmf: no media yet');
        await this.bridge.sendDtmf(digits);
        return;
      }
      for (const digit of digits) {
        const response = type === 'INFO_RELAY' ? await sip.sendDtmf(digit) : await sip.sendInfo(DTMF, Buffer.from(digit, 'utf8'));
        if (response.status >= 300) return this.refuse('sendDtmf', `sendDtmf: ${describeResponse(response)}`);
      }
    } catch (e) {
      if (e instanceof MediaError || e instanceof SipError) {
        return this.refuse('sendDtmf', `sendDtmf: ${e.message}`);
      }
      throw e;
    }
  }

  // --- reporting and ending ------------------------------------------------------------------------------------------

  /** CallStatusEvent to the backend; the status to the client once it knows the call. Repeats are not news. */
  private report(status: CallStatus, detail: StatusDetail = {}): void {
    if (status === this.statusValue && !isFinal(status)) return;
    this.statusValue = status;
    const event: JsonObject = { ...this.object, status, ...detail };
    const { clientExclude } = this.host.hooks.emit('CallStatusEvent', event, this.context(), callWill(this.callId, this.object, status));
    if (this.announced) this.host.deliver({ type: 'callStatus', call: clientView(event, clientExclude) });
  }

  /**
   * `fail` about this call, for the client only: a hook refused (the backend knows), naming the event or message it
   * concerns. The call goes on as it was.
   */
  private fail(apiMethod: FailureSubject, info: string): void {
    this.host.deliver({ type: 'failed', failure: { apiMethod, info, callId: this.callId } });
  }

  /**
   * A call message that could not be carried out: `fail` to the client (the SDK shows it as WARN) and
   * ErrorStatusEvent to the backend. The call goes on as it was.
   */
  private refuse(message: CallMessage, info: string): void {
    this.host.refuse(message, this.callId, info);
  }

  /**
   * Ends a call with `status`; an incoming one still ringing is refused with `sipStatus` (403 for a refused
   * OnCallEvent, 488 for codecs, 486 when the client hangs up, 480 when it is gone).
   */
  private endIncoming(sipStatus: number, status: CallStatus, detail: StatusDetail): void {
    if (this.ended) return;
    this.rejectWith = sipStatus;
    this.finish(status, detail);
  }

  /**
   * The one way a call ends: final status, out of the session, media closed, SIP side ended. Idempotent. The call
   * leaves its session and releases its ports even when reporting the status fails.
   */
  private finish(status: CallStatus, detail: StatusDetail): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.report(status, detail);
    } finally {
      this.closed = this.release().catch((err: unknown) => this.log.error({ err }, 'closing the call failed unexpectedly'));
      this.onEnded(this);
    }
  }

  /** Closes whatever is open (bridge or legs; SIP session). Safe to call again for things opened late. */
  private async release(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    if (this.bridge) closing.push(this.bridge.close());
    else {
      if (this.leg) closing.push(this.leg.close());
      if (this.rtp) closing.push(this.rtp.close());
    }
    const sip = this.sip;
    if (sip instanceof Invitation && this.isRinging(sip)) sip.reject(this.rejectWith);
    else if (sip && sip.state !== SessionState.Terminated) closing.push(sip.terminate());
    const results = await Promise.allSettled(closing);
    for (const r of results) if (r.status === 'rejected') this.log.warn({ err: r.reason }, 'closing the call failed');
  }

  /**
   * Runs one step of the call (its start, a client request, a SIP or media callback). An error the step does not
   * handle itself, thrown or rejected, is a bug: it ends this call and goes no further.
   */
  contain(step: () => Promise<void> | void): void {
    contain(step, (err) => this.internalError(err));
  }

  /** A bug hit this call: logged with its stack, the call ends FAILED `Internal error` (500 to one still ringing). */
  private internalError(err: unknown): void {
    this.log.error({ err }, 'call failed unexpectedly: ending it');
    try {
      if (this.sip instanceof Invitation && this.isRinging(this.sip)) this.endIncoming(SERVER_INTERNAL_ERROR, 'FAILED', { info: INTERNAL_ERROR });
      else this.finish('FAILED', { info: INTERNAL_ERROR });
    } catch (again) {
      // Reporting the end failed too (the call has left its session and released its media all the same).
      this.log.error({ err: again }, 'ending the failed call failed');
    }
  }

  private isRinging(invitation: Invitation): boolean {
    return invitation.state === SessionState.Initial || invitation.state === SessionState.Establishing;
  }

  private describeState(): string {
    return this.ended ? `over (${this.statusValue})` : this.statusValue;
  }

  private context(): HookContext {
    return this.host.hookContext();
  }
}
