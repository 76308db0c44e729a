/**
 * G.711 (ITU-T G.711, RFC 3551 §4.5.14) between 16-bit linear PCM and its two 8-bit laws. The relay passes G.711
 * through untouched; callhook decodes it only where it makes or hears audio itself: the sound it plays into a call
 * and the recording of a call. Decoding is a 256-entry table per law; encoding computes the segment, since a sound
 * is encoded once per frame sent, not per packet relayed.
 */
import type { G711Name } from '../codecs.ts';

/** µ-law adds this bias before finding the segment, so the segments double in size from the first (G.711 Table 2a). */
const ULAW_BIAS = 0x84;
/** The largest magnitude µ-law encodes: 32767 minus the bias, rounded to its 8-segment grid. */
const ULAW_CLIP = 32635;

function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function linearToUlaw(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  // The segment is the position of the highest bit above bit 7 (s is at least the bias, 0x84).
  const exponent = 31 - Math.clz32(s) - 7;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** A-law sends its bits inverted at even positions (G.711 §3.3: "even bit inversion"). */
const ALAW_EVEN_BITS = 0x55;

function alawToLinear(byte: number): number {
  const a = byte ^ ALAW_EVEN_BITS;
  const segment = (a & 0x70) >> 4;
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function linearToAlaw(sample: number): number {
  // The sign bit is 1 for positive values in A-law (the opposite of µ-law).
  const positive = sample >= 0;
  const s = positive ? sample : -sample - 1;
  const segment = s < 0x100 ? 0 : 31 - Math.clz32(s) - 7;
  if (segment > 7) return (0x7f | (positive ? 0x80 : 0)) ^ ALAW_EVEN_BITS;
  const mantissa = segment < 2 ? (s >> 4) & 0x0f : (s >> (segment + 3)) & 0x0f;
  return ((segment << 4) | mantissa | (positive ? 0x80 : 0)) ^ ALAW_EVEN_BITS;
}

const DECODE: Readonly<Record<G711Name, Int16Array>> = {
  PCMU: Int16Array.from({ length: 256 }, (_, b) => ulawToLinear(b)),
  PCMA: Int16Array.from({ length: 256 }, (_, b) => alawToLinear(b)),
};

const ENCODE: Readonly<Record<G711Name, (sample: number) => number>> = { PCMU: linearToUlaw, PCMA: linearToAlaw };

/** G.711 bytes of `law` as 16-bit linear samples. */
export function decodeG711(law: G711Name, payload: Uint8Array): Int16Array {
  const table = DECODE[law];
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i]!]!;
  return out;
}

/** 16-bit linear samples as G.711 bytes of `law`. */
export function encodeG711(law: G711Name, samples: Int16Array): Buffer {
  const encode = ENCODE[law];
  const out = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encode(samples[i]!);
  return out;
}
