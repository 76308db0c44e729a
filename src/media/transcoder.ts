/**
 * The audio of one call whose two legs use different codecs (Opus towards the browser and G.711 or G.722 towards
 * SIP, or two of G.711's laws and G.722): decode → encode each way at one PCM rate, the SIP codec's
 * (./codecs/frame-codec.ts). G.722's RTP clock runs at half its sampling rate (RFC 3551 §4.5.2), so timestamps are
 * counted in each leg's clock ticks, not in samples.
 *
 *   browser → SIP  packets go into a small adaptive jitter buffer (./jitter-buffer.ts); the 20 ms playout clock
 *                  that all transcoded calls share (./playout-clock.ts) takes one out per tick, decodes it and sends
 *                  one SIP frame. A lost one is rebuilt from the next packet's in-band FEC data when that packet is
 *                  already buffered and the browser's fmtp says `useinbandfec=1` (RFC 7587 §3.3), else concealed
 *                  (Opus PLC). A DTX pause of the browser sends nothing and is no loss (the jitter buffer tells the
 *                  two apart by sequence number). The clock runs on wall time: when the process falls behind (CPU
 *                  starved), it catches up at most MAX_CATCH_UP_FRAMES frames and drops the packets of the ticks
 *                  beyond, never queueing them.
 *   SIP → browser  each packet is decoded on arrival and re-framed into 20 ms frames (a peer may send 30 ms), each
 *                  encoded and sent at once; the browser's own jitter buffer smooths the SIP side's jitter. When the
 *                  browser's fmtp says `usedtx=1` (RFC 7587 §6.1), the Opus encoder runs DTX and its silence frames
 *                  are not sent: the stream's timestamps move on, its sequence numbers do not (RFC 3550 §5.1).
 *
 * Sequence numbers and timestamps of both output streams are this module's own (continuous); the bridge passes them
 * through its stream rewriters, which keep them continuous across hold and re-INVITEs as for passthrough.
 */
import { systemClock, type Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { codecOf, FRAME_MS, type PayloadFormat } from './codecs.ts';
import { frameCodec, pcmRateOf, type FrameCodec } from './codecs/frame-codec.ts';
import { isDtxFrame, opusFmtp } from './codecs/opus.ts';
import { NoCommonCodecError } from './errors.ts';
import { JitterBuffer, type JitterBufferStats } from './jitter-buffer.ts';
import { playoutClockOn, type PlayoutClock, type PlayoutTurn } from './playout-clock.ts';
import type { RtpPacket } from './rtp/packet.ts';

/** One outgoing frame: its payload and the numbering of this module's own stream towards that leg. */
export interface TranscodedFrame {
  payload: Buffer;
  sequenceNumber: number;
  timestamp: number;
}

export interface TranscoderOptions {
  /** The browser's codec and the SIP peer's, as negotiated. */
  browser: PayloadFormat;
  sip: PayloadFormat;
  /** A frame for the SIP leg (the bridge decides whether it may be sent: hold, injected DTMF). */
  toSip(frame: TranscodedFrame): void;
  toBrowser(frame: TranscodedFrame): void;
  logger?: Logger;
  /** The playout clock's time; the system's unless a test moves time by hand. */
  clock?: Clock;
}

export interface TranscoderStats {
  jitter: JitterBufferStats;
  /** Playout ticks skipped because the process fell behind. */
  skippedTicks: number;
  /** Browser packets that could not be decoded (concealed instead). */
  undecodable: number;
  /** Lost browser packets rebuilt from the next packet's in-band FEC data. */
  recovered: number;
  /** Frames towards the browser not sent: DTX silence. */
  dtxFrames: number;
}

/** A playout stream's own numbering. */
interface OutStream {
  sequence: number;
  timestamp: number;
}

export class Transcoder implements PlayoutTurn {
  private readonly browserCodec: FrameCodec;
  private readonly sipCodec: FrameCodec;
  /** Browser RTP timestamp ticks per PCM sample (6 for Opus at 8 kHz PCM, 3 at G.722's 16 kHz, 1 for G.711). */
  private readonly browserTicksPerSample: number;
  /** SIP RTP timestamp ticks per PCM sample: ½ for G.722, 1 for G.711. */
  private readonly sipTicksPerSample: number;
  private readonly frameSamples: number;
  private readonly jitter: JitterBuffer<Buffer>;
  private readonly toSipStream: OutStream = { sequence: randomUint(0x10000), timestamp: randomUint(0x100000000) };
  private readonly toBrowserStream: OutStream = { sequence: randomUint(0x10000), timestamp: randomUint(0x100000000) };
  /** PCM from SIP not yet encoded (the first `pendingSamples` of a frame), and the SIP timestamp that should follow it. */
  private readonly pending: Int16Array;
  private pendingSamples = 0;
  private nextSipTimestamp: number | undefined;
  private readonly clock: Clock;
  private readonly playout: PlayoutClock;
  private readonly counters = { skippedTicks: 0, undecodable: 0, recovered: 0, dtxFrames: 0 };
  /** The browser's packets carry in-band FEC worth reading (its fmtp's useinbandfec=1). */
  private readonly readFec: boolean;
  /** The encoder towards the browser runs DTX (its fmtp's usedtx=1). */
  private readonly dtx: boolean;

  /** Throws NoCommonCodecError when the pair cannot be transcoded, MediaError MEDIA_CODEC_UNAVAILABLE. */
  constructor(private readonly o: TranscoderOptions) {
    const browser = codecOf(o.browser);
    const sip = codecOf(o.sip);
    if (browser === undefined || sip === undefined) throw new NoCommonCodecError(`cannot transcode ${o.browser.encoding} to ${o.sip.encoding}`);
    const pcmRate = pcmRateOf(sip);
    const fmtp = browser === 'OPUS' ? opusFmtp(o.browser.fmtp) : undefined;
    this.readFec = fmtp?.useInbandFec ?? false;
    this.dtx = fmtp?.useDtx ?? false;
    this.sipCodec = frameCodec(sip, pcmRate);
    this.browserCodec = frameCodec(browser, pcmRate, this.dtx);
    this.frameSamples = (pcmRate * FRAME_MS) / 1000;
    this.pending = new Int16Array(this.frameSamples);
    this.browserTicksPerSample = o.browser.clockRate / pcmRate;
    this.sipTicksPerSample = o.sip.clockRate / pcmRate;
    this.jitter = new JitterBuffer(o.browser.clockRate);
    this.clock = o.clock ?? systemClock;
    this.playout = playoutClockOn(this.clock);
  }

  /** Starts the playout towards SIP, on the shared clock's next tick. */
  start(): void {
    this.playout.join(this);
  }

  stop(): void {
    this.playout.leave(this);
  }

  /** An audio packet from the browser (not telephone-event). */
  fromBrowser(p: RtpPacket, nowMs = this.clock.now()): void {
    // A copy: the payload may be a view of a receive chunk shared by hundreds of packets (./native-transport.ts),
    // which a view kept in the jitter buffer would keep alive.
    this.jitter.put(p.header.sequenceNumber, p.header.timestamp, Buffer.from(p.payload), nowMs);
  }

  /** An audio packet from the SIP peer (not telephone-event). */
  fromSip(p: RtpPacket): void {
    const ts = p.header.timestamp;
    // A timestamp that does not follow the previous packet (loss, silence suppression, a new source): the partial
    // frame is dropped, and the browser stream's timestamps jump by the same time.
    if (this.nextSipTimestamp !== undefined && ts !== this.nextSipTimestamp) {
      const gap = (ts - this.nextSipTimestamp) | 0;
      if (gap > 0 && gap < this.o.sip.clockRate * 60) {
        const ticks = Math.round((gap * this.o.browser.clockRate) / this.o.sip.clockRate);
        advance(this.toBrowserStream, ticks);
      }
      this.pendingSamples = 0;
    }
    const pcm = this.sipCodec.decode(p.payload);
    this.nextSipTimestamp = (ts + pcm.length * this.sipTicksPerSample) >>> 0;
    // Frames are encoded straight from the decoded packet; only what a packet of another duration leaves over is copied.
    let offset = 0;
    if (this.pendingSamples > 0) {
      offset = Math.min(this.frameSamples - this.pendingSamples, pcm.length);
      this.pending.set(pcm.subarray(0, offset), this.pendingSamples);
      this.pendingSamples += offset;
      if (this.pendingSamples < this.frameSamples) return;
      this.pendingSamples = 0;
      this.toBrowserFrame(this.pending);
    }
    for (; offset + this.frameSamples <= pcm.length; offset += this.frameSamples) {
      this.toBrowserFrame(offset === 0 && pcm.length === this.frameSamples ? pcm : pcm.subarray(offset, offset + this.frameSamples));
    }
    if (offset < pcm.length) {
      this.pending.set(pcm.subarray(offset));
      this.pendingSamples = pcm.length - offset;
    }
  }

  /** One 20 ms frame from SIP encoded and sent towards the browser, or counted as DTX silence. */
  private toBrowserFrame(pcm: Int16Array): void {
    const frameTicks = this.frameSamples * this.browserTicksPerSample;
    const payload = this.browserCodec.encode(pcm);
    if (this.dtx && isDtxFrame(payload)) {
      this.counters.dtxFrames++;
      advance(this.toBrowserStream, frameTicks);
    } else this.emit(this.toBrowserStream, payload, frameTicks, this.o.toBrowser);
  }

  stats(): TranscoderStats {
    return { jitter: this.jitter.stats(), ...this.counters };
  }

  /** The playout clock's turn: the frames it skipped are dropped, and the stream's time moves on with the clock. */
  play(frames: number, skipped: number): void {
    try {
      if (skipped > 0) {
        this.jitter.skip(skipped);
        this.counters.skippedTicks += skipped;
        advance(this.toSipStream, skipped * this.frameSamples * this.sipTicksPerSample);
      }
      for (let i = 0; i < frames; i++) this.playOne();
    } catch (err) {
      // The clock is every call's: one call's failure must not stop the others' playout.
      this.o.logger?.warn({ err }, 'transcoded playout failed');
    }
  }

  private playOne(): void {
    const next = this.jitter.next();
    if (next.kind === 'empty') {
      // Nothing to send: time passes on the SIP stream (RFC 3550 §5.1: timestamps follow the sampling clock).
      advance(this.toSipStream, this.frameSamples * this.sipTicksPerSample);
      return;
    }
    let pcm: Int16Array;
    try {
      pcm = next.kind === 'packet' ? this.browserCodec.decode(next.value) : this.lostFrame(next.following);
    } catch (err) {
      this.counters.undecodable++;
      this.o.logger?.debug({ err }, 'browser audio packet concealed');
      pcm = this.browserCodec.conceal();
    }
    this.emit(this.toSipStream, this.sipCodec.encode(fit(pcm, this.frameSamples)), this.frameSamples * this.sipTicksPerSample, this.o.toSip);
  }

  /** A lost frame: from the FEC data of the packet after it when that is here and worth reading, else concealed. */
  private lostFrame(following: Buffer | undefined): Int16Array {
    const recover = this.browserCodec.recover;
    if (!this.readFec || following === undefined || !recover) return this.browserCodec.conceal();
    const pcm = recover.call(this.browserCodec, following);
    this.counters.recovered++;
    return pcm;
  }

  private emit(stream: OutStream, payload: Buffer, ticks: number, send: (f: TranscodedFrame) => void): void {
    stream.sequence = (stream.sequence + 1) & 0xffff;
    send({ payload, sequenceNumber: stream.sequence, timestamp: stream.timestamp });
    advance(stream, ticks);
  }
}

/** Time moves on in a stream by `ticks` of its clock, whether or not a frame was sent (RFC 3550 §5.1). */
function advance(stream: OutStream, ticks: number): void {
  stream.timestamp = (stream.timestamp + ticks) >>> 0;
}

/** `pcm` cut or padded with silence to `samples` (a browser packet of another duration than 20 ms). */
function fit(pcm: Int16Array, samples: number): Int16Array {
  if (pcm.length === samples) return pcm;
  const out = new Int16Array(samples);
  out.set(pcm.subarray(0, samples));
  return out;
}

function randomUint(range: number): number {
  return Math.floor(Math.random() * range);
}
