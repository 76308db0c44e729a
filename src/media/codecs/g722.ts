/**
 * G.722 (ITU-T G.722, 7 kHz audio coding within 64 kbit/s) in its 64 kbit/s mode: 16-bit PCM at 16 kHz in, one
 * octet per pair of samples out, and back. No maintained npm package implements it (docs/architecture.md
 * "Transcoding"); this one is written from the Recommendation's block description (§3 encoder, §4 decoder, §6
 * computational details) and is checked bit-exact against libspandsp, the implementation SIP phones such as baresip
 * use (test/unit/g722.test.ts).
 *
 * The structure (§1.2): a quadrature mirror filter (QMF, §3.1/§4.4) splits the 16 kHz signal into two 8 kHz
 * sub-bands; the lower one is coded with 6 bits of sub-band ADPCM, the higher with 2. Each band's ADPCM has a
 * backward-adaptive quantiser scale (LOGSCL/SCALEL, LOGSCH/SCALEH) and an adaptive predictor of two poles and six
 * zeros (block 4, §3.6). Values are the Recommendation's fixed-point integers (16-bit, Q15 or Q14 as noted); every
 * step saturates where it says so, since bit-exactness is what lets two implementations interoperate.
 */

/** Transmit and receive QMF coefficients h(0)…h(23) (§3.1 table 3 / §4.4): symmetric, h(i) = h(23 − i). */
const QMF = [3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3];

/** Lower band: the quantiser's decision levels (table 6, scaled by 2^-12 of the scale factor). */
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919];
/** Lower band: the 6-bit code of quantiser interval `mil` (1…30) for a negative and a positive difference. */
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32];
/** Lower band: inverse quantiser outputs for the 4-bit code that drives adaptation (INVQAL, table 7). */
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
/** Lower band: inverse quantiser outputs for the full 6-bit code that the decoder plays (INVQBL, table 6). */
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/** Lower band: the 4-bit code's magnitude class (RL42) and its log-scale-factor multiplier (WL, table 8). */
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
/** Higher band: its one decision level, 2-bit codes, inverse quantiser and log-scale-factor multipliers (tables 9–10). */
const H_DECISION = 564;
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const QM2 = [-7408, -1616, 7408, 1616];
const RH2 = [2, 1, 2, 1];
const WH = [0, -214, 798];
/** The scale factor's antilog table (ILB, §3.5 SCALEL), shared by both bands. */
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];

function sat(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** The 16-bit sign as the Recommendation takes it (x >> 15): 0 for x ≥ 0, −1 below. */
function sign(x: number): number {
  return x >> 15;
}

/**
 * One sub-band's ADPCM state: its log scale factor and scale factor, and the adaptive predictor (block 4): the
 * signal estimate s, the zero section's output sz, pole coefficients a1 a2 (Q14), zero coefficients b1…b6 (Q14),
 * and the delayed quantised differences d, partially reconstructed signals p and reconstructed signals r.
 */
class SubBand {
  nb = 0;
  det: number;
  s = 0;
  sz = 0;
  a1 = 0;
  a2 = 0;
  readonly b = [0, 0, 0, 0, 0, 0, 0];
  readonly d = [0, 0, 0, 0, 0, 0, 0];
  p1 = 0;
  p2 = 0;
  r1 = 0;
  r2 = 0;

  /** `det` starts at 32 in the lower band and 8 in the higher (§6.2.1 reset). */
  constructor(det: number, private readonly nbMax: number, private readonly scaleShift: number) {
    this.det = det;
  }

  /** LOGSCL / LOGSCH then SCALEL / SCALEH: the next scale factor from the multiplier of the code just sent. */
  adaptScale(w: number): void {
    let nb = ((this.nb * 32512) >> 15) + w;
    if (nb < 0) nb = 0;
    else if (nb > this.nbMax) nb = this.nbMax;
    this.nb = nb;
    const mantissa = ILB[(nb >> 6) & 31]!;
    const shift = this.scaleShift - (nb >> 11);
    this.det = (shift < 0 ? mantissa << -shift : mantissa >> shift) << 2;
  }

  /** Block 4: the predictor updated with the quantised difference `dq`, giving the next estimate `s`. */
  predict(dq: number): void {
    // RECONS and PARREC.
    const r = sat(this.s + dq);
    const p = sat(this.sz + dq);

    // UPPOL2: a2 ← a2(1 − 2^-7) + 2^-7 sgn(p)sgn(p2) − 2^-7 f(a1) sgn(p)sgn(p1), within ±0.75.
    const sp = sign(p);
    const f = sat(this.a1 << 2);
    let a2 = sign(this.p1) === sp ? -f : f;
    if (a2 > 32767) a2 = 32767;
    a2 = (a2 >> 7) + (sign(this.p2) === sp ? 128 : -128) + ((this.a2 * 32512) >> 15);
    if (a2 > 12288) a2 = 12288;
    else if (a2 < -12288) a2 = -12288;

    // UPPOL1: a1 ← a1(1 − 2^-8) + 3·2^-8 sgn(p)sgn(p1), within ±(1 − 2^-4 − a2).
    let a1 = sat((sign(this.p1) === sp ? 192 : -192) + ((this.a1 * 32640) >> 15));
    const a1Limit = sat(15360 - a2);
    if (a1 > a1Limit) a1 = a1Limit;
    else if (a1 < -a1Limit) a1 = -a1Limit;

    // UPZERO: bi ← bi(1 − 2^-8) + 2^-7 sgn(dq)sgn(di), no step when dq is 0.
    const step = dq === 0 ? 0 : 128;
    const sd = sign(dq);
    const { b, d } = this;
    for (let i = 1; i <= 6; i++) b[i] = sat((sign(d[i]!) === sd ? step : -step) + ((b[i]! * 32640) >> 15));

    // DELAYA.
    for (let i = 6; i > 1; i--) d[i] = d[i - 1]!;
    d[1] = dq;
    this.p2 = this.p1;
    this.p1 = p;
    this.r2 = this.r1;
    this.r1 = r;
    this.a1 = a1;
    this.a2 = a2;

    // FILTEP, FILTEZ, PREDIC.
    const spole = sat(((a1 * sat(r + r)) >> 15) + ((a2 * sat(this.r2 + this.r2)) >> 15));
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat(d[i]! + d[i]!)) >> 15;
    this.sz = sat(sz);
    this.s = sat(spole + this.sz);
  }
}

function lowerBand(): SubBand {
  return new SubBand(32, 18432, 8);
}

function higherBand(): SubBand {
  return new SubBand(8, 22528, 10);
}

/** One direction's G.722 encoder: 16 kHz PCM to 64 kbit/s G.722, state kept across calls. */
export class G722Encoder {
  private readonly low = lowerBand();
  private readonly high = higherBand();
  /** The transmit QMF's 24-sample delay line, newest last. */
  private readonly x = new Int32Array(24);

  /** `pcm` (an even number of samples) to one octet per pair. */
  encode(pcm: Int16Array): Buffer {
    const out = Buffer.allocUnsafe(pcm.length >> 1);
    const { x, low, high } = this;
    for (let n = 0; n < out.length; n++) {
      x.copyWithin(0, 2);
      x[22] = pcm[2 * n]!;
      x[23] = pcm[2 * n + 1]!;
      // Transmit QMF (§3.1): xA over the even taps, xB over the odd; the lower band is their sum, the higher their
      // difference. x[k] is x(j − 23 + k), and h is symmetric, so x[k] meets h(k).
      let xa = 0;
      let xb = 0;
      for (let k = 0; k < 24; k += 2) {
        xb += x[k]! * QMF[k]!;
        xa += x[k + 1]! * QMF[k + 1]!;
      }
      const xl = (xa + xb) >> 14;
      const xh = (xa - xb) >> 14;

      // Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL/SCALEL, block 4.
      const el = sat(xl - low.s);
      const wd = el >= 0 ? el : -(el + 1);
      let mil = 1;
      while (mil < 30 && wd >= (Q6[mil]! * low.det) >> 12) mil++;
      const il = el < 0 ? ILN[mil]! : ILP[mil]!;
      const ril = il >> 2;
      const dl = (low.det * QM4[ril]!) >> 15;
      low.adaptScale(WL[RL42[ril]!]!);
      low.predict(dl);

      // Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH/SCALEH, block 4.
      const eh = sat(xh - high.s);
      const wh = eh >= 0 ? eh : -(eh + 1);
      const mih = wh >= (H_DECISION * high.det) >> 12 ? 2 : 1;
      const ih = eh < 0 ? IHN[mih]! : IHP[mih]!;
      const dh = (high.det * QM2[ih]!) >> 15;
      high.adaptScale(WH[RH2[ih]!]!);
      high.predict(dh);

      out[n] = (ih << 6) | il;
    }
    return out;
  }
}

/** One direction's G.722 decoder: 64 kbit/s G.722 to 16 kHz PCM, state kept across calls. */
export class G722Decoder {
  private readonly low = lowerBand();
  private readonly high = higherBand();
  /** The receive QMF's delay line: the sum and difference of the bands, newest last. */
  private readonly x = new Int32Array(24);

  /** Each octet to two samples. */
  decode(payload: Uint8Array): Int16Array {
    const out = new Int16Array(payload.length * 2);
    const { x, low, high } = this;
    for (let n = 0; n < payload.length; n++) {
      const code = payload[n]!;
      const il = code & 0x3f;
      const ih = code >> 6;

      // Lower band: INVQBL gives the output, INVQAL the predictor's input (§4.2).
      const ril = il >> 2;
      let rl = low.s + ((low.det * QM6[il]!) >> 15);
      if (rl > 16383) rl = 16383;
      else if (rl < -16384) rl = -16384;
      const dl = (low.det * QM4[ril]!) >> 15;
      low.adaptScale(WL[RL42[ril]!]!);
      low.predict(dl);

      // Higher band.
      const dh = (high.det * QM2[ih]!) >> 15;
      let rh = high.s + dh;
      if (rh > 16383) rh = 16383;
      else if (rh < -16384) rh = -16384;
      high.adaptScale(WH[RH2[ih]!]!);
      high.predict(dh);

      // Receive QMF (§4.4): the band sum and difference interleaved; the even taps give the earlier sample out.
      x.copyWithin(0, 2);
      x[22] = rl + rh;
      x[23] = rl - rh;
      let even = 0;
      let odd = 0;
      for (let k = 0; k < 24; k += 2) {
        odd += x[k]! * QMF[k]!;
        even += x[k + 1]! * QMF[k + 1]!;
      }
      out[2 * n] = sat(even >> 11);
      out[2 * n + 1] = sat(odd >> 11);
    }
    return out;
  }
}
