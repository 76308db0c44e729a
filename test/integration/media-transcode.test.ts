/**
 * Transcoding quality (issue 15): a 1 kHz tone and a speech-band sweep sent in real time through a transcoded call
 * — MediaBridge with a real RTP leg on 127.0.0.1 and a SIP phone's UDP socket, and a stand-in WebRTC leg (the
 * media-engine seam) whose packets this test encodes and decodes as a browser would (libopus at 48 kHz). Each way,
 * what arrives is decoded and measured: its dominant frequency (FFT), its SNR against the signal sent (≥ 20 dB for
 * the G.711 paths, ≥ 25 dB between Opus and G.722), and, towards SIP, the one-way delay callhook adds (jitter
 * buffer, playout, transcoding; ≤ 40 ms). Between Opus and G.722 the tone is 6 kHz and the sweep reaches 7 kHz: audio
 * that 8 kHz sampling cannot carry, so the path is shown to stay wideband.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import { decodeG711, encodeG711 } from '../../src/media/codecs/g711.ts';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/g722.ts';
import {
  G722, Listeners, MediaBridge, OPUS, PCMA, PCMU, PortPairAllocator, RtpLeg, TELEPHONE_EVENT, TELEPHONE_EVENT_48000,
  type NegotiatedAudio, type PayloadFormat, type RtpPacket, type WebRtcLeg, type WebRtcLegState, type WebRtcMedia,
} from '../../src/media/index.ts';
import { decodeTelephoneEvent, encodeTelephoneEvent } from '../../src/media/rtp/index.ts';
import { delaySamples, dominantFrequency, snrDb, sweep, tone } from '../support/audio-analysis.ts';
import { eventually } from '../support/eventually.ts';

const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as typeof import('@discordjs/opus');
const ports = new PortPairAllocator('RTP ports', 48000, 48999);
const FRAME_MS = 20;
const SECONDS = 1.6;

/** A connected WebRTC leg with the given formats that records what it is sent, with the time. */
class BrowserStandIn implements WebRtcLeg {
  readonly sent: Array<{ packet: RtpPacket; at: number }> = [];
  readonly rtp = new Listeners<[RtpPacket]>();
  state: WebRtcLegState = 'connected';
  readonly localPort = 35000;
  readonly localSdp = 'v=0';
  constructor(readonly media: WebRtcMedia) {}
  async setRemoteOffer(): Promise<string> { return ''; }
  async createOffer(): Promise<string> { return ''; }
  async setRemoteAnswer(): Promise<void> {}
  onRtp(fn: (p: RtpPacket) => void): () => void { return this.rtp.on(fn); }
  onStateChange(): () => void { return () => undefined; }
  sendRtp(packet: RtpPacket): void { this.sent.push({ packet, at: performance.now() }); }
  stats() { return { packetsIn: 0, bytesIn: 0, packetsOut: this.sent.length, bytesOut: 0, packetsLost: 0 }; }
  async close(): Promise<void> { this.state = 'closed'; }
  deliver(packet: RtpPacket): void {
    this.rtp.emit((err) => { throw err; }, packet);
  }
}

/** One end of a path: its codec, how it encodes 20 ms of PCM at `rate`, and decodes what it gets. */
interface EndCodec {
  format: PayloadFormat;
  rate: number;
  encode(pcm: Int16Array): Buffer;
  decode(payload: Buffer): Int16Array;
}

function opusBrowser(): EndCodec {
  const encoder = new OpusEncoder(48000, 1);
  const decoder = new OpusEncoder(48000, 1);
  return {
    format: OPUS, rate: 48000,
    encode: (pcm) => encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)),
    decode: (payload) => {
      const b = Buffer.from(decoder.decode(payload));
      return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
    },
  };
}

function g711(format: Readonly<PayloadFormat>): EndCodec {
  const law = format.encoding as 'PCMU' | 'PCMA';
  return { format, rate: 8000, encode: (pcm) => encodeG711(law, pcm), decode: (p) => decodeG711(law, p) };
}

function g722(): EndCodec {
  const encoder = new G722Encoder();
  const decoder = new G722Decoder();
  return { format: G722, rate: 16000, encode: (pcm) => encoder.encode(pcm), decode: (p) => decoder.decode(p) };
}

function negotiated(phone: UdpRtpPeer, codec: PayloadFormat): NegotiatedAudio {
  return {
    codec, receive: { codec: codec.payloadType, telephoneEvent: 101 }, telephoneEvent: { ...TELEPHONE_EVENT },
    remote: { address: LOOPBACK, port: phone.port, rtcpAddress: LOOPBACK, rtcpPort: phone.port + 1 },
    rtcpMux: false, direction: 'sendrecv',
  };
}

interface Received {
  pcm: Int16Array;
  rate: number;
  /** Per received packet: its first sample's index in `pcm` and its arrival time. */
  packets: Array<{ start: number; at: number }>;
}

interface PathResult {
  toSip: Received;
  toBrowser: Received;
  /** The time each 20 ms frame was sent by either side, by frame index. */
  sentAt: number[];
}

/**
 * Sends `signal(rate)` from both ends at once, 20 ms a packet in real time, through a bridge that transcodes
 * between `browser` and `sip`; resolves with what each end received.
 */
async function runPath(browser: EndCodec, sip: EndCodec, signal: (rate: number) => Int16Array): Promise<PathResult> {
  const phone = await UdpRtpPeer.open();
  const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports });
  const telephoneEvent = browser.format.clockRate === 48000 ? TELEPHONE_EVENT_48000 : TELEPHONE_EVENT;
  const webrtc = new BrowserStandIn({ codec: browser.format, telephoneEvent });
  const bridge = new MediaBridge({ webrtc, rtp, sip: negotiated(phone, sip.format), transcode: true });
  try {
    const fromBrowser = signal(browser.rate);
    const fromPhone = signal(sip.rate);
    const browserFrame = (browser.rate * FRAME_MS) / 1000;
    const browserTicks = (browser.format.clockRate * FRAME_MS) / 1000;
    const phoneFrame = (sip.rate * FRAME_MS) / 1000;
    const frames = Math.floor(fromPhone.length / phoneFrame);
    const sentAt: number[] = [];
    const start = performance.now();
    for (let n = 0; n < frames; n++) {
      const wait = start + n * FRAME_MS - performance.now();
      if (wait > 0) await sleep(wait);
      sentAt.push(performance.now());
      webrtc.deliver({
        header: { marker: n === 0, payloadType: browser.format.payloadType, sequenceNumber: (1000 + n) & 0xffff, timestamp: (n * browserTicks) >>> 0, ssrc: 0xb0, csrcs: [] },
        payload: browser.encode(fromBrowser.subarray(n * browserFrame, (n + 1) * browserFrame)), paddingSize: 0,
      });
      phone.send({ address: LOOPBACK, port: rtp.localPort }, {
        header: { marker: n === 0, payloadType: sip.format.payloadType, sequenceNumber: n, timestamp: n * 160, ssrc: 0x5e, csrcs: [] },
        payload: sip.encode(fromPhone.subarray(n * phoneFrame, (n + 1) * phoneFrame)), paddingSize: 0,
      });
    }
    // A loaded machine may starve the playout clock, which then drops frames (by design): most must arrive.
    await eventually(() => phone.received.length >= frames * 0.75 && webrtc.sent.length >= frames - 1, 2000, () => `the frames to arrive (phone ${phone.received.length}, browser ${webrtc.sent.length} of ${frames})`);
    // Decoded in the order sent (a stateful decoder such as G.722's needs it), then placed by timestamp.
    const toSip = collect(phone.received.map((r) => ({ timestamp: r.packet.timestamp, at: r.at, pcm: sip.decode(r.payload) })), sip);
    const toBrowser = collect(webrtc.sent.map((s) => ({ timestamp: s.packet.header.timestamp, at: s.at, pcm: browser.decode(s.packet.payload) })), browser);
    return { toSip, toBrowser, sentAt };
  } finally {
    await bridge.close();
    await phone.close();
  }
}

/**
 * The received audio, each packet at its RTP timestamp's place (G.722's clock ticks once per two samples), so a
 * dropped frame leaves 20 ms of silence rather than shifting everything after it.
 */
function collect(packets: Array<{ timestamp: number; at: number; pcm: Int16Array }>, codec: EndCodec): Received {
  const { rate } = codec;
  const first = packets[0]?.timestamp ?? 0;
  const places = packets.map((p) => ((p.timestamp - first) >>> 0) * (rate / codec.format.clockRate));
  const total = Math.max(0, ...places.map((start, i) => start + packets[i]!.pcm.length));
  const pcm = new Int16Array(total);
  const out: Received['packets'] = [];
  packets.forEach((p, i) => {
    pcm.set(p.pcm, places[i]!);
    out.push({ start: places[i]!, at: p.at });
  });
  out.sort((a, b) => a.start - b.start);
  return { pcm, rate, packets: out };
}

/**
 * SNR of `received` against `reference` (same rate): the median over the 40 ms windows of its middle half second,
 * each aligned by cross-correlation near the whole signal's alignment. A loaded machine may stall this process
 * (the sender) or the playout, which then drops or shifts a few frames (by design); the median keeps one such
 * frame from deciding the figure.
 */
function snrOf(reference: Int16Array, received: Received): { snr: number; lag: number } {
  const rate = received.rate;
  const lag = delaySamples(reference.subarray(rate / 4), received.pcm.subarray(rate / 4), rate / 5, rate / 4);
  const win = rate / 25;
  const snrs: number[] = [];
  for (let from = rate / 2; from + win <= rate; from += win) {
    const low = Math.max(0, lag - win);
    const local = low + delaySamples(reference.subarray(from), received.pcm.subarray(from + low), 2 * win, win);
    if (from + local + win <= received.pcm.length) snrs.push(snrDb(reference, received.pcm, local, from, win));
  }
  snrs.sort((a, b) => a - b);
  return { snr: snrs[Math.floor(snrs.length / 2)] ?? -Infinity, lag };
}

/**
 * The one-way delay (ms) callhook added towards SIP: for samples in the middle, the time their packet reached the
 * phone (plus their place in it) minus the time their frame was handed to the bridge (plus their place in it).
 */
function addedDelayMs(result: PathResult, lag: number): number {
  const { toSip, sentAt } = result;
  const { rate } = toSip;
  const frameSamples = (rate * FRAME_MS) / 1000;
  const perMs = rate / 1000;
  const delays: number[] = [];
  for (let k = rate / 2; k < rate; k += frameSamples) {
    const j = k + lag;
    let packet: { start: number; at: number } | undefined;
    for (const p of toSip.packets) if (p.start <= j) packet = p;
    const frame = Math.floor(k / frameSamples);
    if (!packet || sentAt[frame] === undefined) continue;
    delays.push(packet.at + (j - packet.start) / perMs - (sentAt[frame] + (k % frameSamples) / perMs));
  }
  delays.sort((a, b) => a - b);
  return delays[Math.floor(delays.length / 2)]!;
}

/** A path: the browser's codec and the SIP phone's, the test tone, the sweep's top and the SNR each way must reach. */
interface Path {
  name: string;
  browser: () => EndCodec;
  sip: () => EndCodec;
  toneHz: number;
  sweepTopHz: number;
  minSnrDb: number;
}

const narrowband = { toneHz: 1000, sweepTopHz: 3400, minSnrDb: 20 };
const PATHS: Path[] = [
  { name: 'Opus ⇄ PCMU', browser: opusBrowser, sip: () => g711(PCMU), ...narrowband },
  { name: 'Opus ⇄ PCMA', browser: opusBrowser, sip: () => g711(PCMA), ...narrowband },
  { name: 'PCMU ⇄ PCMA', browser: () => g711(PCMU), sip: () => g711(PCMA), ...narrowband },
  { name: 'Opus ⇄ G.722', browser: opusBrowser, sip: g722, toneHz: 6000, sweepTopHz: 7000, minSnrDb: 25 },
  { name: 'G.722 ⇄ PCMU', browser: g722, sip: () => g711(PCMU), ...narrowband },
  { name: 'PCMU ⇄ G.722', browser: () => g711(PCMU), sip: g722, ...narrowband },
];

describe('transcoded calls: tone and sweep through each path', { timeout: 120_000 }, () => {
  after(() => assert.equal(ports.inUse, 0));

  for (const path of PATHS) {
    it(`${path.name}: a ${path.toneHz / 1000} kHz tone arrives at ${path.toneHz / 1000} kHz both ways`, async () => {
      const r = await runPath(path.browser(), path.sip(), (rate) => tone(path.toneHz, rate, SECONDS, 12000));
      for (const [side, got] of [['SIP', r.toSip], ['browser', r.toBrowser]] as const) {
        const hz = dominantFrequency({ sampleRate: got.rate, samples: got.pcm });
        assert.ok(Math.abs(hz - path.toneHz) < 15, `towards ${side}: ${hz.toFixed(1)} Hz`);
      }
    });

    it(`${path.name}: a 200–${path.sweepTopHz} Hz sweep arrives with SNR ≥ ${path.minSnrDb} dB both ways, ≤ 40 ms added towards SIP`, async (t) => {
      const signal = (rate: number) => sweep(200, path.sweepTopHz, rate, SECONDS, 12000);
      // The delay is read off the wall clock, which a loaded machine stretches (the test process itself stalls):
      // a path gets up to three runs to show it stays within 40 ms; the SNR must hold in every run.
      let figures = '';
      for (let run = 1; run <= 3; run++) {
        const r = await runPath(path.browser(), path.sip(), signal);
        const sip = snrOf(signal(r.toSip.rate), r.toSip);
        const browser = snrOf(signal(r.toBrowser.rate), r.toBrowser);
        const delay = addedDelayMs(r, sip.lag);
        figures = `run ${run}: SNR towards SIP ${sip.snr.toFixed(1)} dB, towards the browser ${browser.snr.toFixed(1)} dB; added delay towards SIP ${delay.toFixed(1)} ms`;
        t.diagnostic(figures);
        assert.ok(sip.snr >= path.minSnrDb, figures);
        assert.ok(browser.snr >= path.minSnrDb, figures);
        if (delay <= 40) return;
      }
      assert.fail(`added delay over 40 ms in three runs; the last: ${figures}`);
    });
  }

  it('DTMF is relayed as events with its duration on each leg\'s clock: 8000 Hz at SIP, 48000 Hz at an Opus browser', async () => {
    const phone = await UdpRtpPeer.open();
    const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    const webrtc = new BrowserStandIn({ codec: OPUS, telephoneEvent: TELEPHONE_EVENT_48000 });
    const bridge = new MediaBridge({ webrtc, rtp, sip: negotiated(phone, PCMU), transcode: true });
    try {
      const event = (pt: number, ts: number, duration: number): RtpPacket => ({
        header: { marker: true, payloadType: pt, sequenceNumber: 1, timestamp: ts, ssrc: 9, csrcs: [] },
        payload: encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration }), paddingSize: 0,
      });
      webrtc.deliver(event(TELEPHONE_EVENT_48000.payloadType, 48000, 4800));
      phone.send({ address: LOOPBACK, port: rtp.localPort }, event(101, 8000, 800));
      await eventually(() => phone.received.length === 1 && webrtc.sent.length === 1, 2000, 'both events to arrive');
      assert.equal(phone.received[0]!.packet.payloadType, 101);
      assert.equal(decodeTelephoneEvent(phone.received[0]!.payload).duration, 800, '100 ms at 8000 Hz');
      assert.equal(webrtc.sent[0]!.packet.header.payloadType, TELEPHONE_EVENT_48000.payloadType);
      assert.equal(decodeTelephoneEvent(webrtc.sent[0]!.packet.payload).duration, 4800, '100 ms at 48000 Hz');
    } finally {
      await bridge.close();
      await phone.close();
    }
  });
});
