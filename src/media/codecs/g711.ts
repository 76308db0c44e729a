/**
 * G.711 (ITU-T G.711 §2, §3): 16-bit linear PCM to 8-bit µ-law or A-law and back, one byte per sample at 8000 Hz.
 * Decoding is a 256-entry table; encoding follows the segment (chord) rule of the Recommendation's tables 1a and 2a
 * on the 14-bit (µ-law) or 13-bit (A-law) magnitude that G.711 defines, i.e. the top bits of 16-bit PCM, once per
 * sample value into a table that calls then look up.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** µ-law byte of one 16-bit sample (G.711 table 2a; the sign bit set for positive values, all bits inverted). */
export function mulawOf(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(sign ? -sample : sample, MULAW_CLIP) + MULAW_BIAS;
  let segment = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && segment > 0; mask >>= 1) segment--;
  magnitude = (magnitude >> (segment + 3)) & 0x0f;
  return ~(sign | (segment << 4) | magnitude) & 0xff;
}

/** A-law byte of one 16-bit sample (G.711 table 1a; even bits inverted, 0x55). */
export function alawOf(sample: number): number {
  const sign = sample >= 0 ? 0x80 : 0;
  const magnitude = Math.min(sample >= 0 ? sample : -sample - 1, 0x7fff) >> 3;
  let code: number;
  if (magnitude < 32) code = magnitude >> 1;
  else {
    let segment = 1;
    while (magnitude >> (segment + 5) !== 0 && segment < 7) segment++;
    code = (segment << 4) | ((magnitude >> segment) & 0x0f);
  }
  return (sign | code) ^ 0x55;
}

function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? MULAW_BIAS - t : t - MULAW_BIAS;
}

function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = segment === 0 ? t + 8 : (t + 0x108) << (segment - 1);
  return a & 0x80 ? t : -t;
}

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, b) => mulawToLinear(b));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, b) => alawToLinear(b));

export type G711Law = 'PCMU' | 'PCMA';

/**
 * 8-bit G.711 bytes to 16-bit PCM, into `out` when given (as long as the payload): a transcoded call decodes 50
 * packets a second, and a fresh array each time costs about twice the decoding itself (docs/benchmarks.md).
 */
export function decodeG711(law: G711Law, payload: Uint8Array, out = new Int16Array(payload.length)): Int16Array {
  const table = law === 'PCMU' ? MULAW_TABLE : ALAW_TABLE;
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i]!]!;
  return out;
}

/**
 * The G.711 byte of every 16-bit sample, indexed by the sample's two's-complement bits (64 KiB a law): a transcoded
 * call encodes 8000 samples a second each, and a lookup costs a fraction of the segment search. Made at the first
 * encoding in that law.
 */
const encodeTables: Partial<Record<G711Law, Uint8Array>> = {};

function encodeTable(law: G711Law): Uint8Array {
  const of = law === 'PCMU' ? mulawOf : alawOf;
  return (encodeTables[law] ??= Uint8Array.from({ length: 0x10000 }, (_, bits) => of((bits << 16) >> 16)));
}

/** 16-bit PCM to 8-bit G.711 bytes. */
export function encodeG711(law: G711Law, pcm: Int16Array): Buffer {
  const table = encodeTable(law);
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[pcm[i]! & 0xffff]!;
  return out;
}
