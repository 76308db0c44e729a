/**
 * The 8 ⇄ 16 kHz half-band converter of G.711 ⇄ G.722 calls (src/media/codecs/halfband.ts) against libsamplerate's
 * best sinc converter (the maintained resampler callhook uses for sounds): over G.711's band the two agree to within
 * the SNR below, frame by frame as a call converts; and what 8 kHz cannot hold is filtered out, not folded back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { Downsampler, Upsampler } from '../../src/media/codecs/halfband.ts';
import { delaySamples, rms, snrDb, sweep, tone } from '../support/audio-analysis.ts';

/** `samples` at `from` Hz converted to `to` Hz by libsamplerate's SRC_SINC_BEST_QUALITY, in one go. */
async function reference(samples: Int16Array, from: number, to: number): Promise<Int16Array> {
  const converter = await libsamplerate.create(1, from, to, { converterType: libsamplerate.ConverterType.SRC_SINC_BEST_QUALITY });
  try {
    return Int16Array.from(converter.simple(Float32Array.from(samples, (s) => s / 32768)), (v) => Math.round(v * 32768));
  } finally {
    converter.destroy();
  }
}

/** `samples` through `convert` in 20 ms frames of `frame` samples. */
function inFrames(samples: Int16Array, frame: number, convert: (f: Int16Array) => Int16Array): Int16Array {
  const parts: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) parts.push(...convert(samples.subarray(i, i + frame)));
  return Int16Array.from(parts);
}

/** SNR of `ours` against libsamplerate's `theirs` over the middle half second, at the best lag (ours is later). */
function agreement(theirs: Int16Array, ours: Int16Array, rate: number): number {
  const from = rate / 4;
  const lag = delaySamples(theirs.subarray(from), ours.subarray(from), 100, rate / 10);
  return snrDb(theirs, ours, lag, from, rate / 2);
}

const MIN_AGREEMENT_DB = 60;

describe('8 ⇄ 16 kHz half-band conversion against libsamplerate', () => {
  it(`8 → 16 kHz: a 200–3400 Hz sweep agrees to ≥ ${MIN_AGREEMENT_DB} dB`, async () => {
    const input = sweep(200, 3400, 8000, 1, 12000);
    const up = new Upsampler();
    const snr = agreement(await reference(input, 8000, 16000), inFrames(input, 160, (f) => up.process(f)), 16000);
    assert.ok(snr >= MIN_AGREEMENT_DB, `${snr.toFixed(1)} dB`);
  });

  it(`16 → 8 kHz: a 200–3400 Hz sweep agrees to ≥ ${MIN_AGREEMENT_DB} dB`, async () => {
    const input = sweep(200, 3400, 16000, 1, 12000);
    const down = new Downsampler();
    const snr = agreement(await reference(input, 16000, 8000), inFrames(input, 320, (f) => down.process(f)), 8000);
    assert.ok(snr >= MIN_AGREEMENT_DB, `${snr.toFixed(1)} dB`);
  });

  it('16 → 8 kHz: a 6 kHz tone (above 4 kHz) is removed, not aliased to 2 kHz: ≥ 60 dB down', () => {
    const down = new Downsampler();
    const out = inFrames(tone(6000, 16000, 0.5, 12000), 320, (f) => down.process(f));
    const attenuation = 20 * Math.log10(rms(tone(6000, 16000, 0.5, 12000)) / Math.max(rms(out.subarray(100)), 1e-9));
    assert.ok(attenuation >= 60, `${attenuation.toFixed(1)} dB`);
  });
});
