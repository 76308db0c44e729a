/**
 * The relay between a browser's WebRTC leg and a SIP peer's RTP leg: G.711 or G.722 passed through unchanged when
 * both legs use it, else transcoded (./transcoder.ts: Opus or the other G.711 law towards the browser), each way
 * turned into one continuous stream of that leg (./rtp/rewriter.ts), payload types mapped between the two
 * negotiations, and RFC 4733 DTMF injected towards SIP or reported when it comes from SIP. telephone-event is
 * relayed as events, never as audio, its timestamps and durations rescaled between the legs' clock rates.
 *
 * What flows follows our direction on the SIP leg (RFC 3264 §6.1, §8.4):
 *
 *   SIP direction   browser → SIP   SIP → browser
 *   sendrecv        yes             yes
 *   sendonly        no              no      (we hold the peer: it hears nothing from the browser)
 *   recvonly        no              yes     (the peer holds us: music on hold reaches the browser)
 *   inactive        no              no
 *
 * A played sound (`playSound`: a call without a browser, or `inject_sound`) replaces the browser's audio towards SIP
 * while it plays, as an injected digit does; a recording (`record`) hears both directions as they leave and arrive.
 *
 * The bridge owns both legs from its creation: close() closes them.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.ts';
import type { CallRecorder, RecordedSide } from './audio/recorder.ts';
import { G711_RATE } from './audio/resample.ts';
import type { Sound } from './audio/sound.ts';
import { FRAME_MS, MAX_CATCH_UP_FRAMES, codecOf, type CodecName, type PayloadFormat } from './codecs.ts';
import { frameCodec, type FrameCodec } from './codecs/frame-codec.ts';
import type { WebRtcLeg, WebRtcLegStats, WebRtcMedia } from './engine.ts';
import { MediaError, NoCommonCodecError } from './errors.ts';
import { Listeners } from './events.ts';
import type { RtpLeg, RtpLegStats } from './rtp-leg.ts';
import { NO_CSRCS, type RtpPacket } from './rtp/packet.ts';
import { RtpStreamRewriter, type RewrittenHeader } from './rtp/rewriter.ts';
import {
  digitPackets, dtmfEvents, rescaleTelephoneEvent, TelephoneEventDetector, type DetectedEvent, type DigitOptions,
} from './rtp/telephone-event.ts';
import { receives } from './sdp/direction.ts';
import type { NegotiatedAudio } from './sdp/sip-session.ts';
import { Transcoder, type TranscodedFrame, type TranscoderStats } from './transcoder.ts';

export interface DtmfOptions extends DigitOptions {
  /** Silence between two digits (ms). Default 50. */
  gapMs?: number;
}

export interface MediaBridgeOptions {
  webrtc: WebRtcLeg;
  rtp: RtpLeg;
  /** The SIP leg's latest offer/answer outcome (SipSdpSession). */
  sip: NegotiatedAudio;
  /** Where both directions are recorded, if the call is. */
  recorder?: CallRecorder;
  /** Defaults for sendDtmf. */
  dtmf?: DtmfOptions;
  /** Transcode when the legs' codecs differ (config `codecPolicy` other than `fail`). Default false. */
  transcode?: boolean;
  logger?: Logger;
}

/** How a played sound ended: it ran to its end, or another sound or `stopSound` or the end of the call cut it. */
export type SoundOutcome = 'played' | 'stopped';

export interface DirectionStats {
  /** Packets passed on. */
  forwarded: number;
  /** Packets not passed on: hold, a payload type the other side lacks, audio during an injected digit. */
  dropped: number;
}

export interface MediaBridgeStats {
  toSip: DirectionStats;
  toWebrtc: DirectionStats;
  /** DTMF digits injected towards SIP. */
  dtmfSent: number;
  /** RFC 4733 events received from SIP. */
  dtmfReceived: number;
  sip: RtpLegStats;
  webrtc: WebRtcLegStats;
  /** Present when the call is transcoded. */
  transcoder?: TranscoderStats;
}

/** The SIP side's RTP clock: every SIP codec's (G.722's included, RFC 3551 §4.5.2). */
const CLOCK_RATE = 8000;
const FRAME_TICKS = (CLOCK_RATE * FRAME_MS) / 1000;
const DEFAULT_GAP_MS = 50;

export class MediaBridge {
  private sip: NegotiatedAudio;
  private readonly browser: WebRtcMedia;
  private readonly toSip: RtpStreamRewriter;
  private readonly toWebrtc: RtpStreamRewriter;
  private readonly detector = new TelephoneEventDetector(CLOCK_RATE);
  private readonly dtmfListeners = new Listeners<[DetectedEvent]>();
  private readonly unsubscribe: Array<() => void>;
  private readonly counters = {
    toSip: { forwarded: 0, dropped: 0 }, toWebrtc: { forwarded: 0, dropped: 0 }, dtmfSent: 0, dtmfReceived: 0,
  };
  /** Set while an injected digit is on the wire: the tone replaces the browser's audio towards SIP, as on a phone. */
  private injecting = false;
  private dtmfQueue: Promise<void> = Promise.resolve();
  /** The injected DTMF is one more source of the stream towards SIP, with its own SSRC and numbering. */
  private readonly dtmfSource = { ssrc: 0, sequence: 0 };
  /** The transcoder's two output streams are sources of their legs' streams like any other. */
  private readonly transcodedSsrc = { toSip: randomSsrc(), toWebrtc: randomSsrc() };
  private readonly transcoder: Transcoder | undefined;
  /** The sound playing, if any: its frames replace the browser's audio towards SIP. */
  private sound: AbortController | undefined;
  /** A played sound is one more source of the stream towards SIP too. */
  private readonly soundSource = { ssrc: 0, sequence: 0, timestamp: 0 };
  /** pcmCodec's converters, by use. */
  private readonly pcmCodecs = new Map<'sound' | RecordedSide, { name: CodecName; codec: FrameCodec }>();
  private readonly stop = new AbortController();
  private closed = false;

  /**
   * Throws NoCommonCodecError when the legs use different codecs and `transcode` is off or the pair cannot be
   * transcoded, MediaError MEDIA_CODEC_UNAVAILABLE when the Opus library does not load.
   */
  constructor(private readonly o: MediaBridgeOptions) {
    const browser = o.webrtc.media;
    if (!browser) throw new MediaError('MEDIA_STATE', 'the WebRTC leg has not negotiated yet');
    this.browser = browser;
    this.sip = o.sip;
    if (!sameCodec(browser.codec, o.sip.codec)) {
      if (!o.transcode) throw noCommonCodec(browser.codec, o.sip.codec);
      this.transcoder = new Transcoder({
        browser: browser.codec, sip: o.sip.codec, logger: o.logger,
        toSip: (f) => this.sendTranscodedToSip(f),
        toBrowser: (f) => this.sendTranscodedToBrowser(f),
      });
    }
    const browserClock = browser.codec.clockRate;
    this.toSip = new RtpStreamRewriter({ ssrc: randomSsrc(), clockRate: CLOCK_RATE, frameTicks: FRAME_TICKS });
    this.toWebrtc = new RtpStreamRewriter({ ssrc: randomSsrc(), clockRate: browserClock, frameTicks: (browserClock * FRAME_MS) / 1000 });
    this.dtmfSource.ssrc = randomSsrc();
    this.soundSource.ssrc = randomSsrc();
    this.soundSource.timestamp = randomSsrc();
    this.applySip(o.sip);
    this.unsubscribe = [o.webrtc.onRtp((p) => this.fromBrowser(p)), o.rtp.onRtp((p) => this.fromSip(p))];
    this.transcoder?.start();
  }

  /** Whether the call's audio is transcoded (the legs' codecs differ). */
  get transcoding(): boolean {
    return this.transcoder !== undefined;
  }

  /**
   * A new offer/answer on the SIP leg (re-INVITE: hold, unhold, new address). Throws NoCommonCodecError when the
   * SIP codec changed (our SDP side keeps offering the one in use).
   */
  updateSip(sip: NegotiatedAudio): void {
    if (!sameCodec(this.sip.codec, sip.codec)) throw noCommonCodec(this.sip.codec, sip.codec);
    this.sip = sip;
    this.applySip(sip);
  }

  /** RFC 4733 events from the SIP peer, one per digit. */
  onDtmf(fn: (event: DetectedEvent) => void): () => void {
    return this.dtmfListeners.on(fn);
  }

  /**
   * Sends digits to the SIP peer as RFC 4733 events on the negotiated payload type, one after the other, a gap
   * after each; calls queue behind each other. Resolves when the digits are played (or the bridge closed). Rejects
   * with MediaError MEDIA_DTMF_DIGIT for a bad digit, MediaError MEDIA_STATE when the peer did not negotiate telephone-event, RangeError
   * for bad timing options.
   */
  async sendDtmf(digits: string, options: DtmfOptions = {}): Promise<void> {
    if (this.closed) throw new MediaError('MEDIA_STATE', 'the media bridge is closed');
    if (!this.sip.telephoneEvent) throw new MediaError('MEDIA_STATE', 'the SIP peer did not negotiate telephone-event');
    const events = dtmfEvents(digits);
    const o = { ...this.o.dtmf, ...options };
    digitPackets(events[0]!, o); // checks the options before anything is queued
    const played = this.dtmfQueue.then(() => this.playDigits(events, o));
    // A later call waits for this one, not for its success.
    this.dtmfQueue = played.catch(() => undefined);
    return played;
  }

  /**
   * Plays `sound` towards SIP in real time, in 20 ms frames of the negotiated law, instead of the browser's audio,
   * from its start again while `loop`; a sound already playing is stopped first. Resolves `played` at its end,
   * `stopped` when stopSound, another sound or the end of the bridge cut it. Nothing is sent while we hold or are
   * held (RFC 3264 §8.4), nor what a late timer missed beyond MAX_CATCH_UP_FRAMES, but the sound's time runs on.
   */
  async playSound(sound: Sound, options: { loop?: boolean } = {}): Promise<SoundOutcome> {
    if (this.closed) throw new MediaError('MEDIA_STATE', 'the media bridge is closed');
    if (!this.pcmCodec('sound')) {
      throw new MediaError('MEDIA_AUDIO_FORMAT', `sounds play on G.711 and G.722 calls only: this call's SIP codec is ${this.sip.codec.encoding}`);
    }
    this.stopSound();
    const playing = new AbortController();
    this.sound = playing;
    const signal = AbortSignal.any([playing.signal, this.stop.signal]);
    const { samples } = sound;
    const start = performance.now();
    try {
      for (let frame = 0; ; frame++) {
        const missed = Math.floor((performance.now() - start) / FRAME_MS) - frame - MAX_CATCH_UP_FRAMES;
        if (missed > 0) {
          frame += missed;
          this.soundSource.timestamp = (this.soundSource.timestamp + missed * FRAME_TICKS) >>> 0;
        }
        let at = frame * FRAME_TICKS;
        if (at >= samples.length) {
          if (!options.loop) return 'played';
          at %= samples.length;
        }
        const wait = start + frame * FRAME_MS - performance.now();
        if (wait > 0) await sleep(wait, undefined, { signal });
        this.sendSoundFrame(samples.subarray(at, Math.min(at + FRAME_TICKS, samples.length)), frame === 0);
      }
    } catch (err) {
      if (signal.aborted) return 'stopped';
      throw err;
    } finally {
      if (this.sound === playing) this.sound = undefined;
    }
  }

  /** Stops the sound playing, if any: the browser's audio flows again. Returns whether one was playing. */
  stopSound(): boolean {
    const playing = this.sound;
    this.sound = undefined;
    playing?.abort();
    return playing !== undefined;
  }

  /** Whether a sound is playing now. */
  get playingSound(): boolean {
    return this.sound !== undefined;
  }

  stats(): MediaBridgeStats {
    const c = this.counters;
    return {
      toSip: { ...c.toSip }, toWebrtc: { ...c.toWebrtc }, dtmfSent: c.dtmfSent, dtmfReceived: c.dtmfReceived,
      sip: this.o.rtp.stats(), webrtc: this.o.webrtc.stats(),
      ...(this.transcoder && { transcoder: this.transcoder.stats() }),
    };
  }

  /** Stops relaying and closes both legs (releasing their ports). Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.transcoder?.stop();
    this.sound = undefined;
    for (const u of this.unsubscribe) u();
    this.dtmfListeners.clear();
    await Promise.all([this.o.webrtc.close(), this.o.rtp.close()]);
  }

  private applySip(sip: NegotiatedAudio): void {
    this.o.rtp.setRemote(sip.remote);
    this.o.rtp.setDirection(sip.direction);
    // Packets dropped while held must not show as a sequence gap (loss) once the stream resumes.
    this.toSip.resync();
    this.toWebrtc.resync();
  }

  private fromBrowser(p: RtpPacket): void {
    const h = p.header;
    const isEvent = h.payloadType === this.browser.telephoneEvent?.payloadType;
    if (this.transcoder && !isEvent) {
      // Hold, injected digits and a playing sound are applied as the transcoder plays out (sendTranscodedToSip).
      this.transcoder.fromBrowser(p);
      return;
    }
    const out = this.toSipPayloadType(h.payloadType);
    if (out === undefined || this.sip.direction !== 'sendrecv' || this.injecting || this.sound !== undefined) {
      this.counters.toSip.dropped++;
      return;
    }
    const event = isEvent ? this.eventBetween(p, this.browser.telephoneEvent!, this.sip.telephoneEvent) : undefined;
    const w = event
      ? this.toSip.rewrite(h.ssrc, h.sequenceNumber, event.timestamp, h.marker, performance.now())
      : this.toSip.rewrite(h.ssrc, h.sequenceNumber, h.timestamp, h.marker, performance.now());
    if (this.o.rtp.send(packetOf(w, out, event?.payload ?? p.payload))) {
      this.counters.toSip.forwarded++;
      if (!event) this.record('local', p.payload);
    } else this.counters.toSip.dropped++;
  }

  /** One frame of the playing sound towards SIP (`first`: the marker bit of a talkspurt's start, RFC 3551 §4.1). */
  private sendSoundFrame(samples: Int16Array, first: boolean): void {
    const src = this.soundSource;
    src.sequence = (src.sequence + 1) & 0xffff;
    src.timestamp = (src.timestamp + FRAME_TICKS) >>> 0;
    // A re-INVITE may have changed the SIP codec to one sounds cannot be played in: the sound's time runs on silent.
    const codec = this.pcmCodec('sound');
    if (this.sip.direction !== 'sendrecv' || this.injecting || !codec) return;
    const w = this.toSip.rewrite(src.ssrc, src.sequence, src.timestamp, first, performance.now());
    if (this.o.rtp.send(packetOf(w, this.sip.codec.payloadType, codec.encode(samples)))) {
      this.counters.toSip.forwarded++;
      this.o.recorder?.write('local', samples);
    }
  }

  /**
   * The SIP codec's converter to and from the 8 kHz PCM of sounds and recordings (a G.722 call's through
   * ./codecs/halfband.ts), made again when a re-INVITE changes the codec; undefined for a codec that has none. One
   * per use, because G.722 is adaptive (ITU-T G.722 §3.6): each encoder and decoder follows one stream only.
   */
  private pcmCodec(use: 'sound' | RecordedSide): FrameCodec | undefined {
    const name = codecOf(this.sip.codec);
    if (name === undefined || name === 'OPUS') return undefined;
    let held = this.pcmCodecs.get(use);
    if (held?.name !== name) {
      held = { name, codec: frameCodec(name, G711_RATE) };
      this.pcmCodecs.set(use, held);
    }
    return held.codec;
  }

  /** A frame of the SIP side's codec into the recording, if the call has one. */
  private record(side: RecordedSide, payload: Buffer): void {
    if (!this.o.recorder) return;
    const codec = this.pcmCodec(side);
    if (codec) this.o.recorder.write(side, codec.decode(payload));
  }

  private sendTranscodedToSip(f: TranscodedFrame): void {
    if (this.sip.direction !== 'sendrecv' || this.injecting || this.sound !== undefined) {
      this.counters.toSip.dropped++;
      return;
    }
    const w = this.toSip.rewrite(this.transcodedSsrc.toSip, f.sequenceNumber, f.timestamp, false, performance.now());
    if (this.o.rtp.send(packetOf(w, this.sip.codec.payloadType, f.payload))) {
      this.counters.toSip.forwarded++;
      this.record('local', f.payload);
    } else this.counters.toSip.dropped++;
  }

  private sendTranscodedToBrowser(f: TranscodedFrame): void {
    const w = this.toWebrtc.rewrite(this.transcodedSsrc.toWebrtc, f.sequenceNumber, f.timestamp, false, performance.now());
    this.o.webrtc.sendRtp(packetOf(w, this.browser.codec.payloadType, f.payload));
    this.counters.toWebrtc.forwarded++;
  }

  /**
   * A telephone-event packet for the other leg: timestamp and duration on that leg's clock (RFC 4733 §2.1, §2.3.5).
   * Passed as it is between legs of one clock rate; undefined when the other leg has no telephone-event.
   */
  private eventBetween(p: RtpPacket, from: PayloadFormat, to: PayloadFormat | undefined): { timestamp: number; payload: Buffer } | undefined {
    if (!to) return undefined;
    const factor = to.clockRate / from.clockRate;
    if (factor === 1) return { timestamp: p.header.timestamp, payload: p.payload };
    const payload = rescaleTelephoneEvent(p.payload, factor);
    return payload && { timestamp: Math.round(p.header.timestamp * factor) >>> 0, payload };
  }

  private fromSip(p: RtpPacket): void {
    const pt = p.header.payloadType;
    const sip = this.sip;
    let out: number | undefined;
    let event: { timestamp: number; payload: Buffer } | undefined;
    // Peers that send with their own payload type numbers instead of ours are common: both are accepted.
    if (sip.telephoneEvent && (pt === sip.receive.telephoneEvent || pt === sip.telephoneEvent.payloadType)) {
      for (const e of this.detector.processInput(p.header.timestamp, p.payload)) {
        this.counters.dtmfReceived++;
        this.dtmfListeners.emit(this.listenerFailed, e);
      }
      event = this.eventBetween(p, sip.telephoneEvent, this.browser.telephoneEvent);
      out = event && this.browser.telephoneEvent?.payloadType;
    } else if (pt === sip.receive.codec || pt === sip.codec.payloadType) {
      out = this.browser.codec.payloadType;
      if (receives(sip.direction)) this.record('remote', p.payload);
    }
    if (out === undefined || !receives(sip.direction)) {
      this.counters.toWebrtc.dropped++;
      return;
    }
    if (this.transcoder && !event) {
      this.transcoder.fromSip(p);
      return;
    }
    const h = p.header;
    // The transcoded stream's clock is the browser's: a passed-through event is put on the same clock.
    const w = event
      ? this.toWebrtc.rewrite(h.ssrc, h.sequenceNumber, event.timestamp, h.marker, performance.now())
      : this.toWebrtc.rewrite(h.ssrc, h.sequenceNumber, h.timestamp, h.marker, performance.now());
    this.o.webrtc.sendRtp(packetOf(w, out, event?.payload ?? p.payload));
    this.counters.toWebrtc.forwarded++;
  }

  private toSipPayloadType(pt: number): number | undefined {
    if (pt === this.browser.codec.payloadType) return this.sip.codec.payloadType;
    if (pt === this.browser.telephoneEvent?.payloadType) return this.sip.telephoneEvent?.payloadType;
    return undefined;
  }

  /** Plays digits in real time: each packet at its offset from the digit's start (no drift from timer lateness). */
  private async playDigits(events: number[], o: DtmfOptions): Promise<void> {
    try {
      for (const event of events) {
        const start = performance.now();
        // The digit's timestamp: the source's own clock, so successive digits keep their spacing.
        const timestamp = Math.round((start * CLOCK_RATE) / 1000) >>> 0;
        this.injecting = true;
        for (const packet of digitPackets(event, o)) {
          const wait = start + packet.atMs - performance.now();
          if (wait > 0) await sleep(wait, undefined, { signal: this.stop.signal });
          this.sendInjected(packet.marker, timestamp, packet.payload);
        }
        this.injecting = false;
        this.counters.dtmfSent++;
        await sleep(o.gapMs ?? DEFAULT_GAP_MS, undefined, { signal: this.stop.signal });
      }
    } catch (err) {
      if (!this.stop.signal.aborted) throw err;
    } finally {
      this.injecting = false;
    }
  }

  private sendInjected(marker: boolean, timestamp: number, payload: Buffer): void {
    const te = this.sip.telephoneEvent;
    if (!te) return;
    const src = this.dtmfSource;
    src.sequence = (src.sequence + 1) & 0xffff;
    const w = this.toSip.rewrite(src.ssrc, src.sequence, timestamp, marker, performance.now());
    this.o.rtp.send(packetOf(w, te.payloadType, payload));
  }

  private readonly listenerFailed = (err: unknown): void => {
    this.o.logger?.error({ err }, 'media bridge listener failed');
  };
}

function sameCodec(a: PayloadFormat, b: PayloadFormat): boolean {
  const codec = codecOf(a);
  return codec !== undefined && codec === codecOf(b);
}

function noCommonCodec(browser: PayloadFormat, sip: PayloadFormat): NoCommonCodecError {
  return new NoCommonCodecError(`the browser uses ${browser.encoding}, the SIP peer ${sip.encoding}`);
}

/** An outgoing packet: the rewritten header fields, the payload type of the leg it goes to, the payload as it came. */
function packetOf(h: RewrittenHeader, payloadType: number, payload: Buffer): RtpPacket {
  return {
    header: {
      marker: h.marker, payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, csrcs: NO_CSRCS,
    },
    payload,
    paddingSize: 0,
  };
}

function randomSsrc(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}
