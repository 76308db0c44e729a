/**
 * G.722 at 64 kbit/s (src/media/codecs/g722.ts) bit-exact against libspandsp, the implementation baresip and other
 * SIP phones use: the vectors in test/fixtures/g722/ were made by its make-vectors.py (which says how) from a signal
 * that reaches every quantiser interval, full-scale clipping included, and from random octets covering every code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/g722.ts';
import { dominantFrequency, tone } from '../support/audio-analysis.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/g722/${name}`, import.meta.url));
const pcmOf = (b: Buffer): Int16Array => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));

/** The first index where two sequences differ, or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('G.722 at 64 kbit/s against libspandsp', () => {
  it('encodes the vector signal to the same octets', () => {
    const input = pcmOf(fixture('input.pcm'));
    const expected = fixture('encoded.g722');
    // In 20 ms frames, as a call does: the encoder's state carries across them.
    const encoder = new G722Encoder();
    const frames: Buffer[] = [];
    for (let i = 0; i < input.length; i += 320) frames.push(encoder.encode(input.subarray(i, i + 320)));
    const got = Buffer.concat(frames);
    const at = firstDifference(got, expected);
    assert.equal(at, -1, `octet ${at} differs: ${got[at]} instead of ${expected[at]}`);
  });

  it('decodes every code to the same samples, saturating where libspandsp wraps around', () => {
    const codes = fixture('codes.g722');
    const expected = pcmOf(fixture('decoded.pcm'));
    const decoder = new G722Decoder();
    const parts: Int16Array[] = [];
    for (let i = 0; i < codes.length; i += 160) parts.push(decoder.decode(codes.subarray(i, i + 160)));
    const got = Int16Array.from(parts.flatMap((p) => [...p]));
    // Random codes can drive the receive QMF past 16 bits; libspandsp then wraps (a full-scale click of the wrong
    // sign), where this decoder saturates. Such a sample differs; every other one must match.
    const wrapped = (i: number): boolean => {
      const beyond = got[i] === 32767 ? expected[i]! + 65536 : got[i] === -32768 ? expected[i]! - 65536 : 0;
      return beyond > 32767 || beyond < -32768;
    };
    let at = -1;
    let saturated = 0;
    for (let i = 0; i < expected.length && at < 0; i++) {
      if (got[i] === expected[i]) continue;
      if (wrapped(i)) saturated++;
      else at = i;
    }
    assert.equal(got.length, expected.length);
    assert.equal(at, -1, `sample ${at} differs: ${got[at]} instead of ${expected[at]}`);
    assert.ok(saturated < 100, `${saturated} samples saturated`);
  });

  it('carries a 7 kHz tone (wideband: above what 8 kHz sampling can hold)', () => {
    const encoded = new G722Encoder().encode(tone(7000, 16000, 0.5, 12000));
    const hz = dominantFrequency({ sampleRate: 16000, samples: new G722Decoder().decode(encoded) });
    assert.ok(Math.abs(hz - 7000) < 20, `${hz} Hz`);
  });
});
