/**
 * The media of one call: the browser's WebRTC leg, the SIP side's RTP leg, our SDP side towards SIP (RFC 3264
 * offer/answer), the bridge between the legs, and hold. The signalling side hands it SDP bodies as they arrive
 * and sends the bodies it returns; it never reads SDP itself.
 *
 *   outgoing  answerBrowserOffer → openSipSide → sipOffer (INVITE) → readSipAnswer (18x, 2xx) → established
 *   incoming  chooseLaw (the INVITE's offer) → offerToBrowser → acceptBrowserAnswer → openSipSide → answerSipOffer
 *             (or sipOffer for an INVITE without SDP) → established
 *   no browser useLocalLeg (a call the REST API starts: callhook is the endpoint, ./local-leg.ts) → openSipSide → …
 *   in call   holdOffer / holdAnswered (our re-INVITE), answerReoffer / readLateAnswer (the far end's), sendDtmf,
 *             playSound / stopSound; recordTo (before the relay starts) records both directions
 *
 * The codecs follow the call's codec policy (`codecPolicy`, docs/configuration.md "Codecs and transcoding"):
 *
 *   passthrough      the browser gets a codec the SIP side can take when it has one — for an outgoing call the first
 *                    configured codec the browser offers, for an incoming call the codec of the SIP offer — and
 *                    Opus (transcoded) when it has none; an outgoing INVITE offers the browser's codec first, then
 *                    the other configured codecs that can be transcoded
 *   opus-to-browser  the browser gets Opus, the SIP side its preferred codec that can be transcoded
 *   fail             no transcoding: the browser gets the SIP side's codec or the call fails `No common codecs`
 *
 * Every pair of codecs can be transcoded (./transcoder.ts).
 *
 * SRTP towards SIP follows the session's `srtp` policy (./sdp/crypto.ts): the keys of each exchange go to the RTP
 * leg, and NoCommonCryptoError (`No common crypto`) when the policy and the peer cannot agree.
 *
 * `signal` is the call's: a leg or port that comes back after it aborted is closed at once and the method throws
 * the signal's reason, so the call's work after that await is dropped.
 */
import type { Logger } from '../log.ts';
import { CallRecorder } from './audio/recorder.ts';
import type { Sound } from './audio/sound.ts';
import { MediaBridge, type SoundOutcome } from './bridge.ts';
import type { CallMedia } from './call-media.ts';
import { codecOf, type CodecName, type CodecPolicy } from './codecs.ts';
import { pcmRateOf } from './codecs/frame-codec.ts';
import type { G711Law } from './codecs/g711.ts';
import type { WebRtcLeg, WebRtcLegState } from './engine.ts';
import { MediaError, NoCommonCodecError } from './errors.ts';
import { LocalAudioLeg } from './local-leg.ts';
import { RtpLeg } from './rtp-leg.ts';
import type { DetectedEvent } from './rtp/index.ts';
import { mediaDirection, receives } from './sdp/direction.ts';
import {
  acceptsProfile, chooseAudio, parseSdp, peerCrypto, serializeSdp, SipSdpSession, type NegotiatedAudio,
  type SessionDescription, type SrtpPolicy,
} from './sdp/index.ts';

/** The payload type of telephone-event in our SIP offers (the common choice; RFC 4733 leaves it dynamic). */
const TELEPHONE_EVENT_PT = 101;

export interface MediaSessionOptions {
  media: CallMedia;
  logger: Logger;
  /** The call's: aborted when the call ends. */
  signal: AbortSignal;
  /** SRTP towards SIP (the session's `sipSrtp`); default `off`. */
  srtp?: SrtpPolicy;
  /** The browser leg failed (ICE, DTLS, connect timeout); `info` is the WCS failure text. */
  onLegFailed(info: string): void;
  /** Every state of the browser leg as it changes (ICE and DTLS: connecting, connected, failed, closed), for a trace. */
  onLegState?(state: WebRtcLegState, info?: string): void;
  /** No RTP from the SIP side for `rtpInactivityMs` while the RTP leg expects some. */
  onRtpInactive(): void;
  /** An RFC 4733 digit from the SIP side. */
  onSipDtmf(event: DetectedEvent): void;
}

/** What `show calls` shows of a call's media. */
export interface MediaSessionInfo {
  rtpPort?: number;
  webrtcPort?: number;
  codec?: string;
  packetsToSip?: number;
  packetsToBrowser?: number;
  /** The SRTP suite towards SIP, when the latest exchange agreed on SDES (RFC 4568). */
  sipSrtpSuite?: string;
}

/** What a call's detail record keeps of its media besides MediaSessionInfo, once the relay has run. */
export interface MediaSessionCounters {
  /** Packets not passed on (hold, a payload type the other side lacks, audio during an injected digit). */
  droppedToSip: number;
  droppedToBrowser: number;
  /** RTP packets from the SIP side lost on the way (sequence gaps, RFC 3550 A.3). */
  lostFromSip: number;
  /** RTP packets from the browser lost on the way (the same count, on the WebRTC leg). */
  lostFromBrowser: number;
}

export class MediaSession {
  private leg: WebRtcLeg | undefined;
  private rtp: RtpLeg | undefined;
  private sdp: SipSdpSession | undefined;
  private bridge: MediaBridge | undefined;
  /** The SIP side's latest offer/answer outcome. */
  private currentSip: NegotiatedAudio | undefined;
  /** The codecs the SIP side may use: the configured ones, or the one of an incoming SIP offer. */
  private codecs: readonly CodecName[];
  private policy: CodecPolicy;
  /** An incoming INVITE's offer, until the browser leg is made: its codec is chosen then, by the call's policy. */
  private incomingOffer: SessionDescription | undefined;
  private localHold = false;
  private remoteHold = false;
  /** Where the call is recorded, once recordTo named a file; the recorder starts with the relay. */
  private recordPath: string | undefined;
  private recorder: CallRecorder | undefined;

  constructor(private readonly o: MediaSessionOptions) {
    this.codecs = o.media.codecs;
    this.policy = o.media.codecPolicy;
  }

  /** The call's own policy (the call hook's answer), before the browser leg exists. */
  useCodecPolicy(policy: CodecPolicy): void {
    this.policy = policy;
  }

  /** Either side holds the other (RFC 3264 §8.4). */
  get held(): boolean {
    return this.localHold || this.remoteHold;
  }

  /** Our SDP side towards SIP exists: a re-INVITE can be offered. */
  get sipSideOpen(): boolean {
    return this.sdp !== undefined;
  }

  // --- outgoing ------------------------------------------------------------------------------------------------------

  /** The browser's offer of an outgoing call: resolves with our answer. Throws MediaError. */
  async answerBrowserOffer(offerSdp: string): Promise<string> {
    const answer = await this.createLeg().setRemoteOffer(offerSdp);
    this.o.signal.throwIfAborted();
    return answer;
  }

  // --- no browser ----------------------------------------------------------------------------------------------------

  /** The call has no browser: callhook is its endpoint, with the first configured law. Throws NoCommonCodecError. */
  useLocalLeg(): void {
    if (this.leg !== undefined) throw new MediaError('MEDIA_STATE', 'the call has a browser leg already');
    const law = this.codecs.find((c): c is G711Law => c === 'PCMU' || c === 'PCMA');
    if (law === undefined) throw new NoCommonCodecError('no G.711 law in `codecs`: callhook plays and records G.711');
    this.leg = new LocalAudioLeg(law);
  }

  // --- incoming ------------------------------------------------------------------------------------------------------

  /**
   * An incoming INVITE's offer picks the codec the browser gets; an INVITE without SDP leaves the choice to the
   * browser among the configured codecs. Throws MediaError (no common codec or crypto, an SDP that cannot be read):
   * a call that cannot be answered is refused before it rings.
   */
  chooseLaw(sipOffer: Buffer | undefined): void {
    if (this.codecs.length === 0) throw new NoCommonCodecError('no audio codec in `codecs`');
    if (sipOffer === undefined) return;
    const offer = parseSdp(sipOffer.toString('utf8'));
    // Refused now (488), before anyone is asked.
    const choice = chooseAudio(offer, this.codecs, this.acceptedProfiles());
    peerCrypto(this.o.srtp ?? 'off', offer.media[choice.index]!);
    this.incomingOffer = offer;
  }

  /** Our offer to the browser for an incoming call. Throws MediaError. */
  async offerToBrowser(): Promise<string> {
    const offer = await this.createLeg().createOffer();
    this.o.signal.throwIfAborted();
    return offer;
  }

  /** The browser's answer to offerToBrowser. Throws MediaError. */
  async acceptBrowserAnswer(answerSdp: string): Promise<void> {
    if (this.leg === undefined) throw new MediaError('MEDIA_STATE', 'no offer was made to the browser');
    await this.leg.setRemoteAnswer(answerSdp);
    this.o.signal.throwIfAborted();
  }

  /** Our answer (for the 200) to an incoming INVITE's offer; the relay starts. Throws MediaError. */
  answerSipOffer(offer: Buffer): Buffer {
    const { sdp, media } = this.sipSdp().createAnswer(parseSdp(offer.toString('utf8')));
    this.startBridge(media);
    return Buffer.from(serializeSdp(sdp), 'utf8');
  }

  // --- both ----------------------------------------------------------------------------------------------------------

  /**
   * Opens the RTP leg for the codec the browser leg settled on, and our SDP side with it. Throws MediaError
   * (PortsExhaustedError above all).
   */
  async openSipSide(): Promise<void> {
    const codec = this.leg?.media === undefined ? undefined : codecOf(this.leg.media.codec);
    if (codec === undefined) throw new MediaError('MEDIA_STATE', 'the browser leg has no codec yet');
    const { media, logger } = this.o;
    const rtp = await RtpLeg.open({ localAddress: media.localIp, ports: media.rtpPorts, inactivityMs: media.rtpInactivityMs, logger });
    this.rtp = rtp;
    if (this.o.signal.aborted) {
      // The call ended while the port was being bound: it is given back now.
      await this.close();
      this.o.signal.throwIfAborted();
    }
    // Nothing is sent before the far end's SDP says where to; the bridge sets the direction from each answer.
    rtp.setDirection('inactive');
    rtp.onInactive(() => this.o.onRtpInactive());
    this.sdp = new SipSdpSession({
      address: media.publicIp,
      port: rtp.localPort,
      codecs: this.sipOfferCodecs(codec),
      telephoneEvent: media.telephoneEvent ? TELEPHONE_EVENT_PT : false,
      srtp: this.o.srtp ?? 'off',
    });
  }

  /** Our SDP offer to the SIP side (an INVITE, or the 200 to an INVITE without SDP, RFC 3261 §13.2.1). */
  sipOffer(): Buffer {
    return Buffer.from(serializeSdp(this.sipSdp().createOffer()), 'utf8');
  }

  /** The far end's SDP answer (18x, 2xx, ACK): the relay starts or follows it. Throws MediaError. */
  readSipAnswer(answer: Buffer): void {
    if (this.sdp === undefined) return;
    this.startBridge(this.sdp.readAnswer(parseSdp(answer.toString('utf8'))));
  }

  /**
   * The SIP session is established, with the answer of its final exchange if that carried one. Returns whether
   * media flows (a relay exists); false means the call never got an SDP answer.
   */
  established(answer: Buffer | undefined): boolean {
    // The RTP inactivity watch counts from here: ringing without early media is silence, not a dead call.
    this.rtp?.setDirection('inactive');
    if (answer !== undefined) this.readSipAnswer(answer);
    else if (this.bridge) this.bridge.updateSip(this.currentSip!);
    return this.bridge !== undefined;
  }

  /** Our re-INVITE's offer: `sendonly` to hold, `sendrecv` to resume (RFC 3264 §8.4). */
  holdOffer(on: boolean): Buffer {
    return Buffer.from(serializeSdp(this.sipSdp().createOffer(on ? 'sendonly' : 'sendrecv')), 'utf8');
  }

  /** The far end accepted our hold / resume re-INVITE (with its answer, if it had one). Throws MediaError. */
  holdAnswered(on: boolean, answer: Buffer | undefined): void {
    this.localHold = on;
    if (answer !== undefined) this.readSipAnswer(answer);
  }

  /**
   * The far end's re-INVITE with a new offer (hold, resume, new address): our answer, and the relay follows.
   * `remoteHold`: the offer holds us. Throws MediaError.
   */
  answerReoffer(offerBody: Buffer): { sdp: Buffer; remoteHold: boolean } {
    const sipSdp = this.sipSdp();
    const offer = parseSdp(offerBody.toString('utf8'));
    const { sdp, media } = sipSdp.createAnswer(offer, this.localHold ? 'sendonly' : 'sendrecv');
    this.startBridge(media);
    const audio = offer.media.find((m) => m.type === 'audio' && m.port !== 0);
    // RFC 3264 §8.4: the far end holds us when it stops receiving (sendonly / inactive, or c=0.0.0.0).
    this.remoteHold = audio === undefined || !receives(mediaDirection(offer, audio)) || media.remote === undefined;
    return { sdp: Buffer.from(serializeSdp(sdp), 'utf8'), remoteHold: this.remoteHold };
  }

  /**
   * The answer in the ACK to a re-INVITE without SDP, which the SIP session answered with our last SDP as the offer.
   * That offer was not made by our SDP side, so the answer is read the way an offer is: where to send, which codec and
   * payload types, and the direction it leaves us.
   */
  readLateAnswer(answer: Buffer): void {
    if (this.sdp === undefined) return;
    this.startBridge(this.sdp.createAnswer(parseSdp(answer.toString('utf8')), this.localHold ? 'sendonly' : 'sendrecv', true).media);
  }

  /** RFC 4733 events towards the SIP side. Throws MediaError (no relay yet, among others). */
  async sendDtmf(digits: string): Promise<void> {
    if (this.bridge === undefined) throw new MediaError('MEDIA_STATE', 'no media yet');
    await this.bridge.sendDtmf(digits);
  }

  /**
   * Plays a sound towards SIP instead of the browser's audio (MediaBridge.playSound). Throws MediaError MEDIA_STATE
   * before the relay has started.
   */
  playSound(sound: Sound, loop: boolean): Promise<SoundOutcome> {
    if (this.bridge === undefined) throw new MediaError('MEDIA_STATE', 'no media yet');
    return this.bridge.playSound(sound, { loop });
  }

  /** Stops a played sound; returns whether one was playing. */
  stopSound(): boolean {
    return this.bridge?.stopSound() ?? false;
  }

  /** Records the call into `path` (a stereo WAV, ./audio/recorder.ts) once its relay starts. */
  recordTo(path: string): void {
    this.recordPath = path;
  }

  /** The recording's file, once it has started. */
  get recording(): string | undefined {
    return this.recorder?.path;
  }

  info(): MediaSessionInfo {
    const info: MediaSessionInfo = {};
    if (this.rtp) info.rtpPort = this.rtp.localPort;
    if (this.leg?.localPort !== undefined) info.webrtcPort = this.leg.localPort;
    const codec = this.leg?.media?.codec;
    // A transcoded call shows both codecs, the browser's first: `OPUS/PCMU`.
    if (codec) info.codec = this.bridge?.transcoding ? `${codec.encoding.toUpperCase()}/${this.currentSip!.codec.encoding.toUpperCase()}` : codec.encoding.toUpperCase();
    if (this.currentSip?.srtp) info.sipSrtpSuite = this.currentSip.srtp.send.suite;
    if (this.bridge) {
      const stats = this.bridge.stats();
      info.packetsToSip = stats.toSip.forwarded;
      info.packetsToBrowser = stats.toWebrtc.forwarded;
    }
    return info;
  }

  /** Undefined until the relay has started. */
  counters(): MediaSessionCounters | undefined {
    if (this.bridge === undefined) return undefined;
    const stats = this.bridge.stats();
    return { droppedToSip: stats.toSip.dropped, droppedToBrowser: stats.toWebrtc.dropped, lostFromSip: stats.sip.packetsLost, lostFromBrowser: stats.webrtc.packetsLost };
  }

  /**
   * Closes whatever is open (the bridge, or the legs), releasing their ports; what fails to close is logged. Safe to
   * call again for a leg opened late.
   */
  async close(): Promise<void> {
    // The recording is closed (written and its header final) before any leg starts closing, because a leg gives its
    // port back as soon as its socket closes — one event-loop turn, fewer than the recorder's file writes — and whoever
    // sees the call's ports free must find the whole file. Frames the relay passes meanwhile are ignored by the closed
    // recorder. Its close never rejects.
    await this.recorder?.close();
    const closing: Promise<unknown>[] = [];
    if (this.bridge) closing.push(this.bridge.close());
    else {
      if (this.leg) closing.push(this.leg.close());
      if (this.rtp) closing.push(this.rtp.close());
    }
    const results = await Promise.allSettled(closing);
    for (const r of results) if (r.status === 'rejected') this.o.logger.warn({ err: r.reason }, 'closing the call failed');
  }

  private createLeg(): WebRtcLeg {
    if (this.leg !== undefined) throw new MediaError('MEDIA_STATE', 'the call has a browser leg already');
    if (this.codecs.length === 0) throw new NoCommonCodecError('no audio codec in `codecs`');
    if (this.incomingOffer) this.codecs = [this.incomingCodec(this.incomingOffer)];
    const leg = this.o.media.engine.createLeg({ codecs: this.browserCodecs(), opusRate: Math.max(...this.codecs.map(pcmRateOf)) });
    this.leg = leg;
    leg.onStateChange((state, info) => {
      this.o.onLegState?.(state, info);
      if (state === 'failed') this.o.onLegFailed(info ?? 'Failed by ICE error');
    });
    return leg;
  }

  /** The SIP codec of an incoming call: the offer's first of `codecs` (see the policy table above). */
  private incomingCodec(offer: SessionDescription): CodecName {
    return codecOf(chooseAudio(offer, this.codecs, this.acceptedProfiles()).codec)!;
  }

  /** The codecs the browser may use, in our order of preference (see the policy table above). */
  private browserCodecs(): CodecName[] {
    if (this.policy === 'fail') return [...this.codecs];
    if (this.policy === 'opus-to-browser') return ['OPUS'];
    return [...this.codecs, 'OPUS'];
  }

  /** The codecs of our SIP offer once the browser uses `browserCodec` (see the policy table above). */
  private sipOfferCodecs(browserCodec: CodecName): CodecName[] {
    if (browserCodec === 'OPUS') return [...this.codecs];
    if (this.policy === 'fail') return [browserCodec];
    return [browserCodec, ...this.codecs.filter((c) => c !== browserCodec)];
  }

  /** The SDP profiles a peer's offer may use under the session's SRTP policy. */
  private acceptedProfiles(): (protocol: string) => boolean {
    return acceptsProfile(this.o.srtp ?? 'off');
  }

  private sipSdp(): SipSdpSession {
    if (this.sdp === undefined) throw new MediaError('MEDIA_STATE', 'no media yet');
    return this.sdp;
  }

  private startBridge(media: NegotiatedAudio): void {
    this.currentSip = media;
    this.rtp?.setSrtp(media.srtp);
    if (this.bridge) return this.bridge.updateSip(media);
    if (this.leg === undefined || this.rtp === undefined) return;
    if (this.recordPath !== undefined) this.recorder = new CallRecorder({ path: this.recordPath, logger: this.o.logger });
    const bridge = new MediaBridge({
      webrtc: this.leg, rtp: this.rtp, sip: media, transcode: this.policy !== 'fail', logger: this.o.logger,
      ...(this.recorder && { recorder: this.recorder }),
    });
    this.bridge = bridge;
    bridge.onDtmf((e) => this.o.onSipDtmf(e));
  }
}
