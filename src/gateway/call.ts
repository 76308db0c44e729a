/**
 * One call between a session's browser and the SIP side: where the SIP INVITE session, the call's media
 * (../media/media-session.ts, which reads every SDP body) and the hooks meet (docs/client-protocol.md, docs/hooks.md).
 * How a call starts is in ./outgoing-call.ts and ./incoming-call.ts; this is what both share:
 *
 *   in call   hold / unhold (re-INVITE sendonly / sendrecv → HOLD / ESTABLISHED), the far end's re-INVITEs (its
 *             hold shows as HOLD too), DTMF (RFC 4733 through the bridge, or SIP INFO; received digits go to the
 *             backend as OnDtmfEvent), blind transfer (REFER; on COMPLETED our BYE ends the call), a sound played
 *             towards SIP instead of the browser (the REST API's inject_sound)
 *   end       FINISH / BUSY / FAILED exactly once, whoever ends it (the client, the far end, the network, ICE, RTP
 *             inactivity, the session going away, a bug); then the media is closed, releasing its ports, and the
 *             SIP side is ended (CANCEL, BYE, or a final response to an unanswered INVITE).
 *
 * The phase (./call-phase.ts) says what the call may do next. Each call owns one AbortController, aborted when it
 * ends: the hooks and the media stop waiting on it, so a step resumed after the client hung up or the far end
 * cancelled rejects with the signal's reason instead of acting on a call that is over. Every status goes to the
 * backend as CallStatusEvent and, once the client knows the call, to the client (without clientExclude fields).
 *
 * Every way into a call — its start, a client request, a SIP or media callback — runs through `contain`: an error no
 * step expects is a bug in callhook, and it ends this call FAILED `Internal error` (logged with its stack) instead of
 * reaching the session, the SIP stack or the process (docs/security.md "Failure containment").
 */
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import type { HookContext, HookEngine, HookOutcome, JsonObject } from '../hooks/types.ts';
import type { DecisionMethod } from '../hooks/methods.ts';
import {
  FAILED_BY_RTP_ACTIVITY, MediaError, MediaSession, NoCommonCodecError, type CallMedia, type Sound, type SoundOutcome,
  type CodecPolicy, type SrtpPolicy,
} from '../media/index.ts';
import { SipError } from '../sip/errors.ts';
import type { SipResponse } from '../sip/message/message.ts';
import {
  describeResponse, DTMF, InviteSessionState, validateDtmf, type ContactBinding, type InviteSession,
  type InviteSessionDelegate, type InviteSessionEvent, type SipAccount, type UserAgent,
} from '../sip/ua/index.ts';
import type { CallDetailRecords, HangupSide } from '../store/index.ts';
import type { CallInfo } from './info.ts';
import { CallRecord, callRecordEvent } from './call-record.ts';
import { recordingFile } from './recordings.ts';
import type { CallMetrics } from './metrics.ts';
import { nextPhase, type CallPhase } from './call-phase.ts';
import {
  endStatus, FAILED_BY_SESSION_CREATION, isFinal, mediaFailureInfo, NORMAL_CALL_CLEARING, provisionalStatus, type StatusDetail,
} from './call-status.ts';
import { contain } from './contain.ts';
import { GatewayError, INTERNAL_ERROR } from './errors.ts';
import { resolveTarget } from './sip-settings.ts';
import { clientView, sipMessageRaw, withoutContext } from './views.ts';
import { callWill } from './wills.ts';
import type { SessionTimeline } from './timeline.ts';
import type {
  AnswerRequest, CallControlRequest, CallMessage, CallStatus, ClientEvent, DtmfRequest, FailureSubject, SessionEndedBy, TransferRequest,
} from './types.ts';

/** What a call needs of its session. */
export interface CallHost {
  readonly sessionId: string;
  readonly ua: UserAgent;
  readonly hooks: HookEngine;
  readonly log: Logger;
  readonly media: CallMedia;
  /** Where each call's detail record is kept. */
  readonly callRecords: CallDetailRecords;
  /** Where the call's start, answer and end are counted (/metrics). */
  readonly callMetrics: CallMetrics;
  /** `sipSrtp`: SRTP towards SIP for the session's calls. */
  readonly sipSrtp: SrtpPolicy;
  /** The app's own codecPolicy, over the configuration's (a call hook's answer overrides either). */
  appCodecPolicy(): CodecPolicy | undefined;
  /** Where the call's media steps are recorded. */
  readonly timeline: SessionTimeline;
  /** Where calls are recorded (`<dataDir>/recordings`). */
  readonly recordingsDir: string;
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

/** The `info` of a call the REST API ends with call/terminate (WCS's text). */
export const TERMINATED_BY_API = 'Terminated by API';

/** RFC 3261 §21.4.24: what an unanswered incoming call gets when the client hangs up on it, or by default. */
export const BUSY_HERE = 486;
/** RFC 3261 §21.4.18: what an unanswered incoming call gets when its session goes away or its media cannot open. */
export const TEMPORARILY_UNAVAILABLE = 480;
/** RFC 3261 §21.5.1: what an unanswered incoming call gets when callhook fails on it. */
const SERVER_INTERNAL_ERROR = 500;

type HoldOperation = 'hold' | 'unhold';

export abstract class Call {
  readonly callId: string;
  readonly incoming: boolean;
  readonly startedAt = new Date();
  /** Resolves once the media legs are closed and the SIP side is ended (after the final status). */
  closed: Promise<void> = Promise.resolve();
  protected readonly log: Logger;
  /** The call object without status: what every report and hook body starts from. */
  protected object: JsonObject;
  protected sip: InviteSession | undefined;
  protected readonly media: MediaSession;
  /** The status last reported (the backend's and client's view; the phase is the call's own). */
  protected statusValue: CallStatus = 'PENDING';
  private phaseValue: CallPhase;
  /** Aborted by `finish`: every wait of the call's steps ends with it. */
  private readonly lifetime = new AbortController();
  /** A hold / unhold re-INVITE in progress: the next one waits for the client to ask again. */
  private holdInProgress: HoldOperation | undefined;
  private dtmfQueue: Promise<void> = Promise.resolve();
  private readonly record: CallRecord;
  /** Who asked for the end, when it was asked before the SIP side reported it (the client's hangup). */
  private endedBy: HangupSide | undefined;

  protected constructor(
    protected readonly host: CallHost,
    private readonly onEnded: CallEndedListener,
    init: { callId: string; incoming: boolean; object: JsonObject; phase: CallPhase },
  ) {
    this.callId = init.callId;
    this.incoming = init.incoming;
    this.object = init.object;
    this.phaseValue = init.phase;
    this.log = host.log.child({ callId: init.callId });
    this.record = new CallRecord(host.callRecords, this.log, {
      callId: init.callId,
      sessionId: host.sessionId,
      appKey: host.hookContext().appKey,
      direction: init.incoming ? 'incoming' : 'outgoing',
      caller: String(init.object['caller'] ?? ''),
      callee: String(init.object['callee'] ?? ''),
      startedAt: this.startedAt.getTime(),
    });
    this.log.info({ direction: init.incoming ? 'incoming' : 'outgoing', caller: init.object['caller'], callee: init.object['callee'] }, 'call started');
    host.callMetrics.started(init.incoming ? 'incoming' : 'outgoing');
    this.media = new MediaSession({
      media: host.media,
      logger: this.log,
      signal: this.signal,
      srtp: host.sipSrtp,
      onLegFailed: (info) => this.contain(() => this.finish('FAILED', { info })),
      onLegState: (state, info) => host.timeline.media(this.callId, `ICE/DTLS ${state}`, info, state === 'failed'),
      onRtpInactive: () => this.contain(() => {
        if (this.statusValue === 'ESTABLISHED') this.finish('FAILED', { info: FAILED_BY_RTP_ACTIVITY });
      }),
      onSipDtmf: (e) => this.contain(() => {
        this.log.info({ digit: e.digit, durationMs: e.durationMs }, 'DTMF from the SIP side (RFC 4733)');
        if (e.digit !== undefined) this.reportDtmf(e.digit, e.durationMs, 'RFC2833');
      }),
    });
    const appPolicy = host.appCodecPolicy();
    if (appPolicy !== undefined) this.media.useCodecPolicy(appPolicy);
  }

  get phase(): CallPhase {
    return this.phaseValue;
  }

  get isEnded(): boolean {
    return this.phaseValue === 'ended';
  }

  /** The call's lifetime: aborted once it has ended. */
  protected get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** The one way the phase changes; a change the table does not list is a bug and throws. */
  protected transition(to: CallPhase): void {
    this.phaseValue = nextPhase(this.phaseValue, to);
  }

  info(): CallInfo {
    return {
      callId: this.callId,
      sessionId: this.host.sessionId,
      incoming: this.incoming,
      status: this.statusValue,
      caller: String(this.object['caller'] ?? ''),
      callee: String(this.object['callee'] ?? ''),
      ...(typeof this.object['sipRequestUri'] === 'string' && { sipRequestUri: this.object['sipRequestUri'] }),
      startedAt: this.startedAt.toISOString(),
      ...this.media.info(),
    };
  }

  // --- client requests -------------------------------------------------------------------------------------------

  /** The client answers a call: only an incoming one can be (./incoming-call.ts). */
  answer(_request: AnswerRequest): Promise<void> {
    this.refuse('answer', `answer: the call is ${this.describeState()}`);
    return Promise.resolve();
  }

  /**
   * The client hangs up: CANCEL (outgoing, unanswered), a final response (incoming, unanswered: 486), or BYE.
   * The `hangup` hook is called first but cannot keep the call up: WCS documents forbidding it as pointless, and the
   * SDK has already closed its media.
   */
  async hangup(request: CallControlRequest): Promise<void> {
    this.endedBy ??= 'client';
    const decision = await this.decide('hangup', { ...request.extra, ...this.object, status: this.statusValue });
    if (!decision.ok) this.log.info({ info: decision.info }, 'hangup hook failed; hanging up all the same');
    const sip = this.sip;
    // Still in the call hook or the media set-up (nothing went out yet), or an incoming call still ringing.
    if (sip === undefined || sip.state === InviteSessionState.Initial || this.unanswered()) {
      return this.finish('FINISH', { info: NORMAL_CALL_CLEARING }, BUSY_HERE);
    }
    // The session's `terminated` event reports FINISH (after the 487 or the BYE's answer).
    await sip.terminate();
  }

  /** `hold` (`on`) or `unhold`: a re-INVITE with our SDP `sendonly` or `sendrecv` (RFC 3264 §8.4). */
  async hold(request: CallControlRequest, on: boolean): Promise<void> {
    const message: CallMessage = on ? 'hold' : 'unhold';
    const sip = this.sip;
    if (this.phase !== 'established' || sip === undefined || !this.media.sipSideOpen) {
      return this.refuse(message, `${message}: the call is ${this.describeState()}`);
    }
    if (this.holdInProgress !== undefined) return this.refuse(message, `${message}: a ${this.holdInProgress} is still in progress`);
    this.holdInProgress = message;
    try {
      const decision = await this.decide(message, { ...request.extra, ...this.object, status: this.statusValue });
      if (!decision.ok && decision.refuse) return this.fail('CallStatusEvent', decision.info);
      let response: SipResponse;
      try {
        response = await sip.reinvite(this.media.holdOffer(on));
      } catch (e) {
        // The session ended meanwhile, or the re-INVITE timed out (which ends it): its `terminated` event reports.
        if (e instanceof SipError) return this.refuse(message, `${message}: ${e.message}`);
        throw e;
      }
      this.signal.throwIfAborted();
      if (response.status >= 300) return this.refuse(message, `${message}: ${describeResponse(response)}`);
      this.media.holdAnswered(on, response.body.length > 0 ? response.body : undefined);
      this.reportHoldState({ info: describeResponse(response), sipStatus: response.status, sipMessageRaw: sipMessageRaw(response) });
    } catch (e) {
      if (e instanceof NoCommonCodecError) return this.finish('FAILED', { info: e.message });
      throw e;
    } finally {
      this.holdInProgress = undefined;
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
    if (this.phase !== 'established' || sip === undefined) return this.refuse('transfer', `transfer: the call is ${this.describeState()}`);
    const decision = await this.decide('transfer', { callId: this.callId, target: request.target });
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

  /**
   * Plays `sound` towards SIP instead of the browser's audio until it ends or stopSound (the REST API's
   * inject_sound, or a call's own `play`). Throws GatewayError CALL_STATE unless the call is established.
   */
  playSound(sound: Sound, loop: boolean): Promise<SoundOutcome> {
    if (this.phase !== 'established') throw new GatewayError('CALL_STATE', `call ${this.callId} is ${this.describeState()}, not ESTABLISHED`);
    this.log.info({ sound: sound.path, loop }, 'playing a sound into the call');
    // The media closing under a sound (the call ending) only stops it.
    return this.media.playSound(sound, loop).catch((e: unknown) => {
      if (e instanceof MediaError) return 'stopped';
      throw e;
    });
  }

  /** Stops a played sound: the browser's audio flows again. Returns whether one was playing. */
  stopSound(): boolean {
    return this.media.stopSound();
  }

  /** Records the call (both directions, ../media/audio/recorder.ts) into `<recordingsDir>/<callId>.wav`. */
  protected recordTo(): void {
    this.media.recordTo(join(this.host.recordingsDir, recordingFile(this.callId)));
  }

  /** The recording's file, once it has started. */
  get recording(): string | undefined {
    return this.media.recording;
  }

  /** The REST API ends the call (call/terminate): FINISH `Terminated by API`; CANCEL, BYE, or 480 to one ringing. */
  terminate(): Promise<void> {
    return this.disconnect(TERMINATED_BY_API, 'callhook');
  }

  /** The session is going away (its client left, the server stops): the call ends with `info`, hung up `by` that side. */
  disconnect(info: string, by: SessionEndedBy): Promise<void> {
    this.endedBy ??= by;
    this.finish('FINISH', { info }, TEMPORARILY_UNAVAILABLE);
    return this.closed;
  }

  // --- SIP events --------------------------------------------------------------------------------------------------

  protected delegate(): InviteSessionDelegate {
    return {
      onEvent: (e) => this.contain(() => this.onSipEvent(e)),
      onOffer: (offer) => {
        try {
          // The far end's re-INVITE with a new offer (hold, resume, new address): our answer, and the relay follows.
          const { sdp, remoteHold } = this.media.answerReoffer(offer);
          this.reportHoldState({ info: remoteHold ? 'Held by the remote party' : 'Resumed by the remote party' });
          return sdp;
        } catch (err) {
          // The SIP session answers 488 to an offer that throws (RFC 3261 §14.2); a bug also ends the call.
          if (!(err instanceof MediaError)) this.internalError(err);
          throw err;
        }
      },
    };
  }

  private onSipEvent(e: InviteSessionEvent): void {
    // After the end only the REFER subscription's news still matters: the transfer target's progress.
    if (this.isEnded && e.type !== 'transfer') return;
    try {
      switch (e.type) {
        case 'provisional':
          return this.provisional(e.response, e.raw, e.sdp);
        case 'established':
          return this.established(e.sdp, e.message.kind === 'response' ? e.message : undefined);
        case 'remote-answer':
          return this.media.readLateAnswer(e.sdp);
        case 'info':
          if (e.dtmf) {
            this.log.info({ digit: e.dtmf.digit, durationMs: e.dtmf.durationMs }, 'DTMF from the SIP side (INFO)');
            this.reportDtmf(e.dtmf.digit, e.dtmf.durationMs ?? null, 'INFO');
          }
          return;
        case 'transfer':
          return this.reportTransfer(e.status, e.info);
        case 'terminated': {
          const { status, detail } = endStatus(e, { srtpOnly: !this.incoming && this.host.sipSrtp === 'required' });
          if (e.cause === 'rejected' || e.cause === 'remote-cancel' || e.cause === 'remote-bye') this.endedBy = 'remote';
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
    if (sdp !== undefined) this.media.readSipAnswer(sdp);
    this.report(provisionalStatus(response.status, sdp !== undefined), {
      info: describeResponse(response), sipStatus: response.status, sipMessageRaw: sipMessageRaw(raw),
    });
  }

  private established(sdp: Buffer | undefined, response: SipResponse | undefined): void {
    if (!this.media.established(sdp)) return this.finish('FAILED', { info: `${FAILED_BY_SESSION_CREATION}: no SDP answer` });
    this.transition('established');
    this.host.timeline.media(this.callId, 'media start', this.media.info().codec);
    const answeredAt = Date.now();
    this.record.answered(answeredAt);
    this.host.callMetrics.answered(this.incoming ? 'incoming' : 'outgoing', answeredAt - this.startedAt.getTime());
    this.log.info({ caller: this.object['caller'], callee: this.object['callee'] }, 'call answered');
    const detail: StatusDetail = response
      ? { info: describeResponse(response), sipStatus: response.status, sipMessageRaw: sipMessageRaw(response) }
      : { info: 'SIP 200 OK', sipStatus: 200 };
    this.report('ESTABLISHED', detail);
    this.onEstablished();
  }

  /** The call has just been answered: a call with audio of its own starts it here (./outgoing-call.ts). */
  protected onEstablished(): void {}

  /** OnDtmfEvent: a digit the far end sent (callhook's own event, docs/hooks.md). */
  private reportDtmf(digit: string, duration: number | null, method: 'RFC2833' | 'INFO'): void {
    this.host.hooks.emit('OnDtmfEvent', { callId: this.callId, digit, duration, method }, this.context());
  }

  private reportHoldState(detail: StatusDetail): void {
    if (this.statusValue !== 'ESTABLISHED' && this.statusValue !== 'HOLD') return;
    this.report(this.media.held ? 'HOLD' : 'ESTABLISHED', detail);
  }

  private reportTransfer(status: string, info: string): void {
    const event: JsonObject = { callId: this.callId, status, info };
    const { clientExclude } = this.host.hooks.emit('TransferStatusEvent', event, this.context());
    this.host.deliver({ type: 'transfer', event: clientView(event, clientExclude) });
    // The far end now talks to the transfer target: our leg of the call is done (its BYE reports FINISH).
    const sip = this.sip;
    if (status === 'COMPLETED' && sip?.state === InviteSessionState.Established) this.contain(() => sip.bye());
  }

  private async playDtmf(request: DtmfRequest): Promise<void> {
    const sip = this.sip;
    if (this.phase !== 'established' || sip === undefined) return this.refuse('sendDtmf', `sendDtmf: the call is ${this.describeState()}`);
    const decision = await this.decide('sendDtmf', { callId: this.callId, dtmf: request.dtmf, type: request.type });
    if (!decision.ok && decision.refuse) return this.fail('sendDtmf', decision.info);
    const fields = withoutContext(decision.body);
    const dtmf = typeof fields['dtmf'] === 'string' ? fields['dtmf'] : request.dtmf;
    const type = fields['type'] === 'INFO' || fields['type'] === 'INFO_RELAY' || fields['type'] === 'RFC2833' ? fields['type'] : request.type;
    try {
      const digits = validateDtmf(dtmf);
      if (type === 'RFC2833') return await this.media.sendDtmf(digits);
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

  // --- hooks, reporting and ending -----------------------------------------------------------------------------------

  /**
   * A decision hook about this call. Rejects with the call's abort reason once the call has ended, whether the
   * hook engine stopped waiting on the signal or the answer came after the end, so no step acts on an ended call.
   */
  protected async decide(method: DecisionMethod, body: JsonObject): Promise<HookOutcome> {
    const outcome = await this.host.hooks.invoke(method, body, this.context(), this.signal);
    this.record.hookDecided(method, outcome);
    this.signal.throwIfAborted();
    return outcome;
  }

  /** Whether the client knows of the call: always for an outgoing one; once it is alerting for an incoming one. */
  protected get announced(): boolean {
    return !this.incoming || this.phase !== 'screening';
  }

  /**
   * CallStatusEvent to the backend; the status to the client once it knows the call (`announced`). Repeats are not
   * news.
   */
  protected report(status: CallStatus, detail: StatusDetail = {}, announced = this.announced): void {
    if (status === this.statusValue && !isFinal(status)) return;
    this.statusValue = status;
    const event: JsonObject = { ...this.object, status, ...detail };
    const { clientExclude } = this.host.hooks.emit('CallStatusEvent', event, this.context(), callWill(this.callId, this.object, status));
    if (announced) this.host.deliver({ type: 'callStatus', call: clientView(event, clientExclude) });
  }

  /**
   * `fail` about this call, for the client only: a hook refused (the backend knows), naming the event or message it
   * concerns. The call goes on as it was.
   */
  protected fail(apiMethod: FailureSubject, info: string): void {
    this.host.deliver({ type: 'failed', failure: { apiMethod, info, callId: this.callId } });
  }

  /**
   * A call message that could not be carried out: `fail` to the client (the SDK shows it as WARN) and
   * ErrorStatusEvent to the backend. The call goes on as it was.
   */
  protected refuse(message: CallMessage, info: string): void {
    this.host.refuse(message, this.callId, info);
  }

  /**
   * The one way a call ends: final status, out of the session, media closed, SIP side ended. Idempotent. An incoming
   * call still ringing is refused with `rejectWith` (RFC 3261 §21: 403 for a refused OnCallEvent, 488 for codecs,
   * 486 when the client hangs up, 480 when it is gone). The call leaves its session and releases its ports even
   * when reporting the status fails.
   */
  protected finish(status: CallStatus, detail: StatusDetail, rejectWith = BUSY_HERE): void {
    if (this.isEnded) return;
    const announced = this.announced;
    this.transition('ended');
    this.lifetime.abort();
    try {
      this.report(status, detail, announced);
    } finally {
      try {
        this.recordEnd(status, detail);
      } catch (err) {
        // The record is bookkeeping: whatever fails in it, the call still leaves its session and releases its ports.
        this.log.error({ err }, 'recording the end of the call failed');
      }
      this.closed = this.release(rejectWith).catch((err: unknown) => this.log.error({ err }, 'closing the call failed unexpectedly'));
      this.onEnded(this);
    }
  }

  /**
   * The end in the log (one info line) and in the call's detail record, before the media is closed (the counters are
   * read here); the record is then pushed.
   */
  private recordEnd(status: CallStatus, detail: StatusDetail): void {
    const media = this.media.info();
    const counters = this.media.counters();
    const end = {
      caller: String(this.object['caller'] ?? ''),
      callee: String(this.object['callee'] ?? ''),
      sipCallId: this.sip?.callId ?? null,
      endedAt: Date.now(),
      status,
      info: detail.info ?? null,
      sipStatus: detail.sipStatus ?? null,
      hangupSide: this.endedBy ?? 'callhook',
      codec: media.codec ?? null,
      packetsToSip: media.packetsToSip ?? null,
      packetsToBrowser: media.packetsToBrowser ?? null,
      droppedToSip: counters?.droppedToSip ?? null,
      droppedToBrowser: counters?.droppedToBrowser ?? null,
      lostFromSip: counters?.lostFromSip ?? null,
      lostFromBrowser: counters?.lostFromBrowser ?? null,
      recording: this.recording === undefined ? null : recordingFile(this.callId),
    } as const;
    this.log.info({
      direction: this.incoming ? 'incoming' : 'outgoing', caller: end.caller, callee: end.callee, status, info: end.info,
      sipStatus: end.sipStatus, hangupSide: end.hangupSide, sipCallId: end.sipCallId, durationMs: this.record.durationAt(end.endedAt),
    }, 'call ended');
    this.host.callMetrics.ended(status, media, counters);
    if (media.codec !== undefined) {
      this.host.timeline.media(this.callId, 'media stop', `${media.packetsToSip ?? 0} packets to SIP, ${media.packetsToBrowser ?? 0} to the browser`);
    }
    const record = this.record.close(end);
    if (record !== undefined) this.host.hooks.emit('CallDetailRecord', callRecordEvent(record), this.context());
  }

  /** An incoming call whose INVITE has no final response yet (./incoming-call.ts). */
  protected unanswered(): boolean {
    return false;
  }

  /** Ends the SIP side: a final response to an unanswered INVITE (./incoming-call.ts), else CANCEL or BYE. */
  protected endSip(_rejectWith: number): Promise<void> | undefined {
    const sip = this.sip;
    return sip && sip.state !== InviteSessionState.Terminated ? sip.terminate() : undefined;
  }

  /** Closes the media and ends the SIP side. */
  private async release(rejectWith: number): Promise<void> {
    const media = this.media.close();
    const sip = this.endSip(rejectWith);
    const [, ended] = await Promise.allSettled([media, sip]);
    if (ended.status === 'rejected') this.log.warn({ err: ended.reason }, 'closing the call failed');
  }

  /**
   * Runs one step of the call (its start, a client request, a SIP or media callback). An error the step does not
   * handle itself, thrown or rejected, is a bug: it ends this call and goes no further. The call's abort reason is
   * not one: it is how a step learns that the call ended while it waited.
   */
  contain(step: () => Promise<void> | void): void {
    contain(step, (err) => {
      if (!(this.signal.aborted && err === this.signal.reason)) this.internalError(err);
    });
  }

  /** A bug hit this call: logged with its stack, the call ends FAILED `Internal error` (500 to one still ringing). */
  protected internalError(err: unknown): void {
    this.log.error({ err }, 'call failed unexpectedly: ending it');
    try {
      this.finish('FAILED', { info: INTERNAL_ERROR }, SERVER_INTERNAL_ERROR);
    } catch (again) {
      // Reporting the end failed too (the call has left its session and released its media all the same).
      this.log.error({ err: again }, 'ending the failed call failed');
    }
  }

  protected describeState(): string {
    return this.isEnded ? `over (${this.statusValue})` : this.statusValue;
  }

  protected context(): HookContext {
    return this.host.hookContext();
  }
}
