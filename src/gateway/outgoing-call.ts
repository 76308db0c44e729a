/**
 * A call the client places (docs/client-protocol.md "Outgoing call"):
 *
 *   client `call` → `call` hook (may OVERWRITE callee) → WebRTC answer → remoteSdp → INVITE with our RTP offer →
 *   TRYING / RING / RING_MEDIA / SESSION_PROGRESS → ESTABLISHED
 *
 * Phases placing → inviting → established (./call-phase.ts); the rest of the call's life is ./call.ts.
 *
 * A call the REST API starts (call/startup) is the same call without a browser: no `sdp`, so callhook is its media
 * endpoint (MediaSession.useLocalLeg), and its `audio` says what to play and whether to record, hang up after the
 * sound, or after a maximum duration. The `call` hook's `record: true` records a browser's call too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject } from '../hooks/types.ts';
import { isCodecPolicy, MediaError } from '../media/index.ts';
import { SipError } from '../sip/errors.ts';
import { checkExtensionHeader } from '../sip/message/header-names.ts';
import { Inviter, type SipAccount } from '../sip/ua/index.ts';
import { Call, type CallEndedListener, type CallHost } from './call.ts';
import { mediaFailureInfo } from './call-status.ts';
import { GatewayError } from './errors.ts';
import { resolveTarget } from './sip-settings.ts';
import { MEDIA_PROVIDER, pickCallObject, withoutContext } from './views.ts';
import type { CallAudio, OutgoingCallRequest } from './types.ts';

/** The `info` of a call ended because its `play` sound ended (`hangupAfterPlay`). */
const PLAYED = 'Sound played';
/** The `info` of a call ended by its `maxDurationSec`. */
const MAX_DURATION = 'Maximum duration reached';

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

export class OutgoingCall extends Call {
  private invited: () => void = () => undefined;
  /** Resolves once the INVITE went out (the call hook agreed and the media is ready), or the call ended before. */
  readonly inviting = new Promise<void>((resolve) => {
    this.invited = resolve;
  });
  private audio: CallAudio | undefined;

  /** A client's `call`. The call is returned at once; its progress arrives as statuses. */
  static place(host: CallHost, request: OutgoingCallRequest, onEnded: CallEndedListener): OutgoingCall {
    const object: JsonObject = {
      ...pickCallObject(request.extra),
      callId: request.callId,
      incoming: false,
      caller: host.sipLogin ?? request.extra['caller'] ?? '',
      mediaProvider: MEDIA_PROVIDER,
    };
    if (request.callee !== undefined) object['callee'] = request.callee;
    const call = new OutgoingCall(host, onEnded, { callId: request.callId, incoming: false, object, phase: 'placing' });
    call.audio = request.audio;
    call.contain(() => call.start(request).finally(call.invited));
    return call;
  }


  private async start(request: OutgoingCallRequest): Promise<void> {
    let headers: { name: string; value: string }[];
    try {
      headers = inviteHeaders(request.inviteParameters);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      // Refused before the backend is asked: `fail` names the header, FAILED ends the call at the SDK.
      this.fail('call', e.message);
      return this.finish('FAILED', { info: e.message });
    }
    // codecPolicy costs CPU and a recording disk: both are the backend's to set (an answer's), never the page's.
    const { codecPolicy: _policyFromPage, record: _recordFromPage, ...extra } = request.extra;
    const body: JsonObject = { ...extra, ...this.object, status: 'PENDING' };
    if (request.sdp !== undefined) body['sdp'] = request.sdp;
    if (request.inviteParameters !== undefined) body['inviteParameters'] = request.inviteParameters;
    const decision = await this.decide('call', body);
    // The backend may overwrite any field (callee above all), never the callId the client knows the call by.
    const fields: JsonObject = { ...withoutContext(decision.body), callId: this.callId, incoming: false };
    this.object = pickCallObject(fields);
    if (isCodecPolicy(fields['codecPolicy'])) this.media.useCodecPolicy(fields['codecPolicy']);
    if (!decision.ok && decision.refuse) {
      // docs/hooks.md, direct × FAIL: the call is stopped, `fail` for its event; FAILED ends it at the SDK too.
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
    if (this.audio?.record === true || fields['record'] === true) this.recordTo();
    let answer: string | undefined;
    try {
      if (request.sdp === undefined) this.media.useLocalLeg();
      else answer = await this.media.answerBrowserOffer(request.sdp);
      await this.media.openSipSide();
    } catch (e) {
      if (e instanceof MediaError) return this.finish('FAILED', { info: mediaFailureInfo(e) });
      throw e;
    }
    // docs/client-protocol.md: the answer goes out as soon as the hook approved, so early media can play.
    if (answer !== undefined) this.host.deliver({ type: 'remoteSdp', callId: this.callId, sdp: answer });
    const inviter = new Inviter(this.host.ua, {
      account,
      target,
      sdp: this.media.sipOffer(),
      ...(this.host.binding && { binding: this.host.binding }),
      headers,
      delegate: this.delegate(),
    });
    this.sip = inviter;
    this.host.timeline.trackSip(inviter.callId);
    this.transition('inviting');
    this.invited();
    const maxSec = this.audio?.maxDurationSec ?? 0;
    if (maxSec > 0) this.contain(() => this.endAfter(maxSec * 1000));
    await inviter.invite();
  }

  /** A call with a `play` sound starts it once answered, and may end when it has played. */
  protected override onEstablished(): void {
    const { play, loop = false, hangupAfterPlay = false } = this.audio ?? {};
    if (play === undefined) return;
    this.contain(async () => {
      const outcome = await this.playSound(play, loop);
      if (outcome === 'played' && hangupAfterPlay) await this.disconnect(PLAYED, 'callhook');
    });
  }

  /** Ends the call `ms` after its INVITE went out, unless it ended before. */
  private async endAfter(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.signal, ref: false });
    } catch {
      return; // the call ended first
    }
    await this.disconnect(MAX_DURATION, 'callhook');
  }
}
