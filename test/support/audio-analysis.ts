/**
 * Measuring audio that went through a call: 16-bit PCM WAV files in and out (what baresip's sndfile module records,
 * what Chromium plays as its fake microphone), a tone generator, and the figures the codec tests check — the
 * dominant frequency (a radix-2 FFT with a Hann window), the signal-to-noise ratio against a reference, and the
 * delay between a reference and its received copy (cross-correlation).
 */

export interface Pcm {
  sampleRate: number;
  samples: Int16Array;
}

/** `durationS` of a sine at `hz`, peak `amplitude` (of 32767). */
export function tone(hz: number, sampleRate: number, durationS: number, amplitude = 16000): Int16Array {
  const out = new Int16Array(Math.round(sampleRate * durationS));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return out;
}

/**
 * A speech-like sweep: a sine whose frequency glides exponentially from `fromHz` to `toHz` over `durationS` (a
 * chirp covers the band a codec must carry, where a single tone tests one frequency).
 */
export function sweep(fromHz: number, toHz: number, sampleRate: number, durationS: number, amplitude = 16000): Int16Array {
  const out = new Int16Array(Math.round(sampleRate * durationS));
  const k = Math.log(toHz / fromHz) / durationS;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    // Phase of an exponential chirp: 2π f0 (e^{kt} − 1) / k.
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * fromHz * (Math.exp(k * t) - 1)) / k));
  }
  return out;
}

/** A mono 16-bit PCM WAV file (RIFF, WAVE_FORMAT_PCM). */
export function encodeWav(pcm: Pcm): Buffer {
  const data = Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(pcm.sampleRate, 24);
  header.writeUInt32LE(pcm.sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * The first channel of a 16-bit PCM WAV file. A `data` chunk whose size says 0 or more than the file holds (a
 * recorder still writing, or killed before it patched the header) is read to the end of the file.
 */
export function decodeWav(file: Buffer): Pcm {
  if (file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let offset = 12;
  let sampleRate = 0;
  let channels = 1;
  while (offset + 8 <= file.length) {
    const id = file.toString('latin1', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (file.readUInt16LE(body) !== 1 || file.readUInt16LE(body + 14) !== 16) throw new Error('not 16-bit PCM');
      channels = file.readUInt16LE(body + 2);
      sampleRate = file.readUInt32LE(body + 4);
    } else if (id === 'data') {
      const end = size === 0 || body + size > file.length ? file.length : body + size;
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = file.readInt16LE(body + i * 2 * channels);
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV file without a data chunk');
}

/** In-place iterative radix-2 FFT of `re` + i·`im` (length a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const r = re[i]!;
      re[i] = re[j]!;
      re[j] = r;
      const m = im[i]!;
      im[i] = im[j]!;
      im[j] = m;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** The frequency (Hz) of the strongest FFT bin of the largest power-of-two window from `samples`' middle. */
export function dominantFrequency(pcm: Pcm): number {
  let n = 1;
  while (n * 2 <= pcm.samples.length && n < 65536) n *= 2;
  if (n < 256) throw new Error(`too little audio for an FFT: ${pcm.samples.length} samples`);
  const start = Math.floor((pcm.samples.length - n) / 2);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = pcm.samples[start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  fft(re, im);
  let best = 1;
  let bestPower = 0;
  for (let k = 1; k < n / 2; k++) {
    const p = re[k]! * re[k]! + im[k]! * im[k]!;
    if (p > bestPower) {
      bestPower = p;
      best = k;
    }
  }
  return (best * pcm.sampleRate) / n;
}

/** Root mean square of a signal. */
export function rms(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/**
 * The lag (in samples, ≥ 0) at which `received` best matches `reference` (normalised cross-correlation over
 * `window` samples of the reference), searched up to `maxLag`.
 */
export function delaySamples(reference: ArrayLike<number>, received: ArrayLike<number>, maxLag: number, window: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = 0; lag <= maxLag && lag + window <= received.length; lag++) {
    let dot = 0;
    let energy = 0;
    for (let i = 0; i < window && i < reference.length; i++) {
      dot += reference[i]! * received[lag + i]!;
      energy += received[lag + i]! * received[lag + i]!;
    }
    const score = energy === 0 ? 0 : dot / Math.sqrt(energy);
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best;
}

/**
 * Signal-to-noise ratio (dB) of `received` against `reference` aligned at `lag` samples: the reference scaled to its
 * best fit (least squares) is the signal, what remains is the noise. Over `count` samples from `from`.
 */
export function snrDb(reference: ArrayLike<number>, received: ArrayLike<number>, lag: number, from: number, count: number): number {
  let dot = 0;
  let refEnergy = 0;
  for (let i = from; i < from + count; i++) {
    dot += reference[i]! * received[i + lag]!;
    refEnergy += reference[i]! * reference[i]!;
  }
  const gain = dot / refEnergy;
  let signal = 0;
  let noise = 0;
  for (let i = from; i < from + count; i++) {
    const s = gain * reference[i]!;
    const e = received[i + lag]! - s;
    signal += s * s;
    noise += e * e;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}
