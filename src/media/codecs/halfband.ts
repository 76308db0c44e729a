/**
 * 8 ⇄ 16 kHz conversion for a call between G.711 and G.722 (the only pair of rates a transcoded call converts
 * between: Opus is encoded and decoded by libopus at the SIP codec's rate itself). A half-band low-pass FIR cut at
 * 4 kHz, run polyphase: half its taps are zero and its centre tap is ½, so each output sample costs 32
 * multiply-adds. Hand-written rather than libsamplerate (which callhook uses for sounds, src/media/audio/resample.ts)
 * because a call converts 20 ms at a time and synchronously: bench/resample.ts measures this filter against
 * libsamplerate's streaming converter, and test/unit/media-halfband.test.ts checks its output against
 * libsamplerate's best sinc converter.
 *
 * The filter: a windowed sinc of 63 taps (Kaiser window, β = 6: about 60 dB of stopband, flat to 3.4 kHz, the top
 * of G.711's band), delaying by 31 samples at 16 kHz (1.9 ms).
 */

/** Taps either side of the centre. Odd, so the centre tap falls on an odd index of the 16 kHz stream. */
const HALF = 31;
const KAISER_BETA = 6;

/** I0, the zeroth-order modified Bessel function of the first kind (its power series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/**
 * The non-zero side taps h(2j) for j = 0…HALF (the taps at an even distance from the centre are zero, the centre
 * is ½): sin(π d / 2) / (π d) windowed, with d the distance from the centre.
 */
const TAPS = Float64Array.from({ length: HALF + 1 }, (_, j) => {
  const d = 2 * j - HALF;
  const w = besselI0(KAISER_BETA * Math.sqrt(1 - (d / HALF) ** 2)) / besselI0(KAISER_BETA);
  return (Math.sin((Math.PI * d) / 2) / (Math.PI * d)) * w;
});

function toInt16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** `history` followed by `frame`, as numbers, and the new history (the last `keep` samples of the two). */
function withHistory(history: Float64Array, frame: Int16Array): Float64Array {
  const all = new Float64Array(history.length + frame.length);
  all.set(history);
  all.set(frame, history.length);
  history.set(all.subarray(all.length - history.length));
  return all;
}

/** 8 kHz to 16 kHz, one call direction: each frame in gives twice its samples out. */
export class Upsampler {
  /** The last HALF + 1 input samples. */
  private readonly history = new Float64Array(HALF + 1);

  process(frame: Int16Array): Int16Array {
    const x = withHistory(this.history, frame);
    const out = new Int16Array(frame.length * 2);
    for (let n = 0; n < frame.length; n++) {
      const newest = n + HALF + 1;
      // Zero-stuffing puts the input on the even taps of one output and on the centre tap of the other; the ×2
      // restores the level that the inserted zeros halve.
      let acc = 0;
      for (let j = 0; j <= HALF; j++) acc += TAPS[j]! * x[newest - j]!;
      out[2 * n] = toInt16(2 * acc);
      out[2 * n + 1] = x[newest - (HALF - 1) / 2]!;
    }
    return out;
  }
}

/** 16 kHz to 8 kHz, one call direction: each frame (of an even length) in gives half its samples out. */
export class Downsampler {
  /** The last 2·HALF input samples. */
  private readonly history = new Float64Array(2 * HALF);

  process(frame: Int16Array): Int16Array {
    const v = withHistory(this.history, frame);
    const out = new Int16Array(frame.length >> 1);
    for (let n = 0; n < out.length; n++) {
      const newest = 2 * HALF + 2 * n + 1;
      let acc = 0.5 * v[newest - HALF]!;
      for (let j = 0; j <= HALF; j++) acc += TAPS[j]! * v[newest - 2 * j]!;
      out[n] = toInt16(acc);
    }
    return out;
  }
}
