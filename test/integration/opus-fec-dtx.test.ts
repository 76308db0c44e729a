/**
 * Opus in-band FEC and DTX honoured from the browser's fmtp (issue 15, RFC 7587 §3.3 and §6.1), through the real
 * Transcoder and the real libopus builds.
 *
 * FEC: a speech-like sweep, encoded as a browser does (libopus at 48 kHz, in-band FEC on), goes to two transcoders
 * towards PCMU, one told the browser's fmtp `useinbandfec=1` and one not; every 7th packet is dropped.
 * The packets arrive two at a time (a jittery network), so the jitter buffer holds the packet after a lost one at its
 * turn. The playout clocks run on fake time, so a loaded machine cannot stall them. What each sends towards SIP is decoded and its SNR against the sweep measured: the FEC path must beat
 * concealment alone clearly.
 *
 * DTX: with the browser's `usedtx=1`, a second of silence from SIP sends (almost) nothing towards the browser, and
 * the stream's timestamps keep the silence's time; without it, every frame is sent. A DTX pause of the browser (a
 * second without packets, its sequence numbers running on) is neither concealed nor a cause of added delay.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { decodeG711, encodeG711 } from '../../src/media/codecs/g711.ts';
import { OPUS, PCMU, type PayloadFormat } from '../../src/media/index.ts';
import { Transcoder, type TranscodedFrame } from '../../src/media/transcoder.ts';
import { snrDb, sweep } from '../support/audio-analysis.ts';
import { FakeClock } from '../support/fake-clock.ts';

const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as typeof import('@discordjs/opus');
const FRAME_MS = 20;
/** Every LOSS_PERIODth browser packet is lost. */
const LOSS_PERIOD = 7;

/** A browser's Opus encoder: 48 kHz mono, 32 kbit/s, in-band FEC planned for 10 % loss (opus_defines.h CTLs). */
function browserEncoder(): (pcm: Int16Array) => Buffer {
  const encoder = new OpusEncoder(48000, 1);
  encoder.applyEncoderCTL(4002, 32_000);
  encoder.applyEncoderCTL(4012, 1);
  encoder.applyEncoderCTL(4014, 10);
  return (pcm) => encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
}

/**
 * A sweep that glides up 300 → 3000 Hz once a second: speech-like to libopus's voice detector (a steady tone is not,
 * and libopus codes FEC data only for active speech).
 */
function speechLike(rate: number, seconds: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  const glide = sweep(300, 3000, rate, 1, 12000);
  for (let i = 0; i < out.length; i += glide.length) out.set(glide.subarray(0, Math.min(glide.length, out.length - i)), i);
  return out;
}

function transcoder(browser: PayloadFormat, sent: TranscodedFrame[], toBrowser: TranscodedFrame[] = [], clock?: FakeClock): Transcoder {
  return new Transcoder({ browser, sip: { ...PCMU }, toSip: (f) => sent.push(f), toBrowser: (f) => toBrowser.push(f), clock });
}

/** The 8 kHz PCM of frames sent towards SIP, each at its RTP timestamp's place. */
function placed(frames: TranscodedFrame[]): Int16Array {
  const first = frames[0]!.timestamp;
  const end = Math.max(...frames.map((f) => ((f.timestamp - first) >>> 0) + f.payload.length));
  const pcm = new Int16Array(end);
  for (const f of frames) pcm.set(decodeG711('PCMU', f.payload), (f.timestamp - first) >>> 0);
  return pcm;
}

/**
 * SNR of `received` against `reference`: the median over windows of LOSS_PERIOD frames (each holds one loss) from
 * 0.5 s on, at the alignment where the whole of it matches best (each path gets its own best). A loaded machine may
 * stall the playout clock, which then drops a frame; the median keeps one such window from deciding the figure.
 */
function medianSnr(reference: Int16Array, received: Int16Array, rate: number): number {
  const span = Math.min(reference.length, received.length) - rate / 2 - rate / 5;
  let lag = 0;
  for (let l = 1, best = -Infinity; l < rate / 5; l++) {
    const snr = snrDb(reference, received, l, rate / 2, span);
    if (snr > best) [best, lag] = [snr, l];
  }
  const win = (rate * FRAME_MS * LOSS_PERIOD) / 1000;
  const snrs: number[] = [];
  for (let from = rate / 2; from + win <= rate / 2 + span; from += win) snrs.push(snrDb(reference, received, lag, from, win));
  snrs.sort((a, b) => a - b);
  return snrs[Math.floor(snrs.length / 2)] ?? -Infinity;
}

describe('Opus in-band FEC from the browser (RFC 7587 §3.3)', () => {
  it('every 7th packet lost: rebuilt from the next packet\'s FEC with useinbandfec=1, SNR clearly above concealment alone', (t) => {
    const seconds = 2.4;
    const input = speechLike(48000, seconds);
    const encode = browserEncoder();
    const frame = 48000 / 50;
    const packets = Array.from({ length: Math.floor(input.length / frame) }, (_, n) => encode(input.subarray(n * frame, (n + 1) * frame)));
    const withFec: TranscodedFrame[] = [];
    const concealOnly: TranscodedFrame[] = [];
    const clock = new FakeClock();
    const fec = transcoder({ ...OPUS }, withFec, [], clock);
    const plc = transcoder({ ...OPUS, fmtp: 'minptime=10' }, concealOnly, [], clock);
    // Two packets every 40 ms, and the playout ticks 5 ms after the start of each 20 ms: at every tick the packet
    // after the one due has arrived, so each loss is met with the next packet buffered.
    for (let n = 0; n < packets.length; n += 2) {
      for (const k of [n, n + 1]) {
        if (k >= packets.length || k % LOSS_PERIOD === 3) continue;
        const p = { header: { marker: false, payloadType: 111, sequenceNumber: 500 + k, timestamp: k * frame, ssrc: 0xb0, csrcs: [] }, payload: packets[k]!, paddingSize: 0 };
        fec.fromBrowser(p);
        plc.fromBrowser(p);
      }
      if (n > 0) clock.advance(2 * FRAME_MS);
      else {
        clock.advance(5);
        fec.start();
        plc.start();
        clock.advance(2 * FRAME_MS - 5);
      }
    }
    clock.advance(10 * FRAME_MS);
    fec.stop();
    plc.stop();
    const reference = speechLike(8000, seconds);
    const snrFec = medianSnr(reference, placed(withFec), 8000);
    const snrPlc = medianSnr(reference, placed(concealOnly), 8000);
    const figures = `SNR with FEC ${snrFec.toFixed(1)} dB, concealment only ${snrPlc.toFixed(1)} dB; stats ${JSON.stringify(fec.stats())} / ${JSON.stringify(plc.stats())}`;
    t.diagnostic(figures);
    assert.ok(fec.stats().recovered >= 10, `lost frames rebuilt from FEC: ${figures}`);
    assert.equal(plc.stats().recovered, 0, figures);
    assert.ok(snrFec >= snrPlc + 5, figures);
  });
});

describe('Opus DTX towards the browser (RFC 7587 §6.1 usedtx)', () => {
  /** 0.4 s of speech-like audio, 1 s of silence, 0.4 s of speech-like audio from SIP, 20 ms a packet. */
  function feed(t: Transcoder): void {
    const speech = speechLike(8000, 0.4);
    const pcm = new Int16Array(8000 * 1.8);
    pcm.set(speech);
    pcm.set(speech, 8000 * 1.4);
    for (let n = 0; n < pcm.length / 160; n++) {
      t.fromSip({ header: { marker: false, payloadType: 0, sequenceNumber: n, timestamp: n * 160, ssrc: 0x5e, csrcs: [] }, payload: encodeG711('PCMU', pcm.subarray(n * 160, (n + 1) * 160)), paddingSize: 0 });
    }
  }

  it('usedtx=1: the silence sends almost nothing, timestamps keep its time and sequence numbers run on', () => {
    const toBrowser: TranscodedFrame[] = [];
    const t = transcoder({ ...OPUS, fmtp: 'minptime=10;useinbandfec=1;usedtx=1' }, [], toBrowser);
    feed(t);
    const frames = 90;
    assert.ok(toBrowser.length < frames - 35, `of ${frames} frames, ${toBrowser.length} sent (${t.stats().dtxFrames} DTX)`);
    assert.equal(t.stats().dtxFrames, frames - toBrowser.length);
    for (let i = 1; i < toBrowser.length; i++) {
      assert.equal(toBrowser[i]!.sequenceNumber, (toBrowser[0]!.sequenceNumber + i) & 0xffff, 'consecutive sequence numbers');
    }
    const last = toBrowser.at(-1)!;
    assert.equal((last.timestamp - toBrowser[0]!.timestamp) >>> 0, (frames - 1) * 960, 'the last frame stays at its time');
  });

  it('a DTX pause from the browser (no packets for 1 s, sequence numbers running on) is silence: at most its first 20 ms concealed, no added delay', () => {
    const clock = new FakeClock();
    const toSip: Array<TranscodedFrame & { at: number }> = [];
    const t = new Transcoder({ browser: { ...OPUS }, sip: { ...PCMU }, toSip: (f) => toSip.push({ ...f, at: clock.now() }), toBrowser: () => undefined, clock });
    const encode = browserEncoder();
    const speech = speechLike(48000, 0.4);
    const frame = 960;
    let seq = 7000;
    const send = (n: number) => t.fromBrowser({ header: { marker: false, payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: n * frame, ssrc: 0xb0, csrcs: [] }, payload: encode(speech.subarray((n % 20) * frame, (n % 20 + 1) * frame)), paddingSize: 0 });
    t.start();
    clock.advance(5);
    for (let n = 0; n < 20; n++, clock.advance(FRAME_MS)) send(n);
    const beforePause = toSip.length;
    clock.advance(1000);
    const duringPause = toSip.length - beforePause;
    const resumedAt = clock.now();
    for (let n = 70; n < 90; n++, clock.advance(FRAME_MS)) send(n);
    clock.advance(5 * FRAME_MS);
    t.stop();
    const afterPause = toSip.slice(beforePause + duringPause);
    assert.ok(duringPause <= 1, `${duringPause} frames sent to SIP during the pause`);
    assert.ok(t.stats().jitter.lost <= 2, `only the first 20 ms of the pause and of the end concealed: ${JSON.stringify(t.stats())}`);
    assert.equal(afterPause.length, 21, "every packet after the pause is played, then the end's first 20 ms concealed");
    assert.ok(afterPause[0]!.at - resumedAt <= 2 * FRAME_MS, `first frame after the pause out ${afterPause[0]!.at - resumedAt} ms after it arrived`);
    assert.equal(afterPause[19]!.at - afterPause[0]!.at, 19 * FRAME_MS, 'and the rest at the same delay');
  });

  it('without usedtx: every frame is sent', () => {
    const toBrowser: TranscodedFrame[] = [];
    const t = transcoder({ ...OPUS }, [], toBrowser);
    feed(t);
    assert.equal(toBrowser.length, 90);
  });
});
