/**
 * The media of one call: the browser's WebRTC leg, the SIP side's RTP leg, our SDP side towards SIP (RFC 3264
 * offer/answer), the bridge between the legs, and hold. The signalling side hands it SDP bodies as they arrive
 * and sends the bodies it returns; it never reads SDP itself.
 *
 *   outgoing  answerBrowserOffer → openSipSide → sipOffer (INVITE) → readSipAnswer (18x, 2xx) → established
 *   incoming  chooseLaw (the INVITE's offer) → offerToBrowser → acceptBrowserAnswer → openSipSide → answerSipOffer
 *             (or sipOffer for an INVITE without SDP) → established
 *   in call   holdOffer / holdAnswered (our re-INVITE), answerReoffer / readLateAnswer (the far end's), sendDtmf
 *
 * The codec: the browser is restricted to one G.711 law that the SIP side can take — for an outgoing call the first
 * configured law the browser offers, and then the SIP offer carries only that law; for an incoming call the law of
 * the SIP offer. No transcoding, so NoCommonCodecError (`No common codecs`) when there is none.
 *
 * `signal` is the call's: a leg or port that comes back after it aborted is closed at once and the method throws
 * the signal's reason, so the call's work after that await is dropped.
 */
import type { Logger } from '../log.ts';
import { MediaBridge } from './bridge.ts';
import type { CallMedia } from './call-media.ts';
import { g711Of, type G711Name } from './codecs.ts';
import type { WebRtcLeg } from './engine.ts';
import { MediaError, NoCommonCodecError } from './errors.ts';
import { RtpLeg } from './rtp-leg.ts';
import type { DetectedEvent } from './rtp/index.ts';
import { mediaDirection, receives } from './sdp/direction.ts';
import { chooseAudio, isPlainRtpProfile, parseSdp, serializeSdp, SipSdpSession, type NegotiatedAudio } from './sdp/index.ts';

/** The payload type of telephone-event in our SIP offers (the common choice; RFC 4733 leaves it dynamic). */
const TELEPHONE_EVENT_PT = 101;

export interface MediaSessionOptions {
  media: CallMedia;
  logger: Logger;
  /** The call's: aborted when the call ends. */
  signal: AbortSignal;
  /** The browser leg failed (ICE, DTLS, connect timeout); `info` is the WCS failure text. */
  onLegFailed(info: string): void;
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
  /** The laws the browser leg may use: the configured ones, or the one of an incoming SIP offer. */
  private laws: readonly G711Name[];
  private localHold = false;
  private remoteHold = false;

  constructor(private readonly o: MediaSessionOptions) {
    this.laws = o.media.codecs;
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

  // --- incoming ------------------------------------------------------------------------------------------------------

  /**
   * An incoming INVITE's offer picks the law the browser gets; an INVITE without SDP leaves the choice to the
   * browser among the configured laws. Throws MediaError (no common codec, an SDP that cannot be read).
   */
  chooseLaw(sipOffer: Buffer | undefined): void {
    if (this.laws.length === 0) throw new NoCommonCodecError('no G.711 law in `codecs`');
    if (sipOffer === undefined) return;
    const choice = chooseAudio(parseSdp(sipOffer.toString('utf8')), this.laws, isPlainRtpProfile);
    this.laws = [g711Of(choice.codec)!];
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
   * Opens the RTP leg for the law the browser leg settled on, and our SDP side with it. Throws MediaError
   * (PortsExhaustedError above all).
   */
  async openSipSide(): Promise<void> {
    const law = this.leg?.media === undefined ? undefined : g711Of(this.leg.media.codec);
    if (law === undefined) throw new MediaError('MEDIA_STATE', 'the browser leg has no G.711 law yet');
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
      codecs: [law],
      telephoneEvent: media.telephoneEvent ? TELEPHONE_EVENT_PT : false,
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
   * That offer was not made by our SDP side, so the answer is read the way an offer is: where to send, which law and
   * payload types, and the direction it leaves us.
   */
  readLateAnswer(answer: Buffer): void {
    if (this.sdp === undefined) return;
    this.startBridge(this.sdp.createAnswer(parseSdp(answer.toString('utf8')), this.localHold ? 'sendonly' : 'sendrecv').media);
  }

  /** RFC 4733 events towards the SIP side. Throws MediaError (no relay yet, among others). */
  async sendDtmf(digits: string): Promise<void> {
    if (this.bridge === undefined) throw new MediaError('MEDIA_STATE', 'no media yet');
    await this.bridge.sendDtmf(digits);
  }

  info(): MediaSessionInfo {
    const info: MediaSessionInfo = {};
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
    if (this.laws.length === 0) throw new NoCommonCodecError('no G.711 law in `codecs`');
    const leg = this.o.media.engine.createLeg({ codecs: this.laws });
    this.leg = leg;
    leg.onStateChange((state, info) => {
      if (state === 'failed') this.o.onLegFailed(info ?? 'Failed by ICE error');
    });
    return leg;
  }

  private sipSdp(): SipSdpSession {
    if (this.sdp === undefined) throw new MediaError('MEDIA_STATE', 'no media yet');
    return this.sdp;
  }

  private startBridge(media: NegotiatedAudio): void {
    this.currentSip = media;
    if (this.bridge) return this.bridge.updateSip(media);
    if (this.leg === undefined || this.rtp === undefined) return;
    const bridge = new MediaBridge({ webrtc: this.leg, rtp: this.rtp, sip: media, logger: this.o.logger });
    this.bridge = bridge;
    bridge.onDtmf((e) => this.o.onSipDtmf(e));
  }
}
