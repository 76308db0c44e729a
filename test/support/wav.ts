/**
 * WAV files for tests of played sounds and recordings: a 16-bit PCM mono file of a signal, and the samples of a
 * 16-bit PCM file's channels. Written here (not with src/media/audio/wav.ts) so a test checks the server's WAV
 * handling against an independent reading of the format.
 */

/** A mono 16-bit PCM WAV of `samples` at `rate`. */
export function pcmWav(samples: Int16Array, rate: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

export interface ReadPcm {
  channels: number;
  rate: number;
  /** One array per channel. */
  samples: Int16Array[];
}

/** The channels of a 16-bit PCM WAV whose `data` chunk follows a 16-byte `fmt ` chunk (what callhook writes). */
export function readPcmWav(file: Buffer): ReadPcm {
  if (file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 16) !== 'WAVEfmt ') throw new Error('not a canonical WAV');
  const channels = file.readUInt16LE(22);
  const rate = file.readUInt32LE(24);
  if (file.readUInt16LE(34) !== 16 || file.toString('latin1', 36, 40) !== 'data') throw new Error('not 16-bit PCM');
  const bytes = Math.min(file.readUInt32LE(40), file.length - 44);
  const frames = Math.floor(bytes / (2 * channels));
  const samples = Array.from({ length: channels }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) samples[c]![i] = file.readInt16LE(44 + (i * channels + c) * 2);
  return { channels, rate, samples };
}

/** A test signal sampled at `rate`: three tones below 4 kHz (G.711's band) whose mix changes over time, at about -10 dBFS. */
export function testSignal(seconds: number, rate: number): Int16Array {
  const n = Math.round(seconds * rate);
  return Int16Array.from({ length: n }, (_, i) => {
    const t = i / rate;
    const v = 0.4 * Math.sin(2 * Math.PI * 440 * t) + 0.3 * Math.sin(2 * Math.PI * (700 + 500 * t) * t) + 0.2 * Math.sin(2 * Math.PI * 1900 * t);
    return Math.round(v * 0.33 * 32767);
  });
}

/** The span from the first to the last sample louder than `threshold`: [start, end). */
export function audibleSpan(samples: Int16Array, threshold = 300): [number, number] {
  let start = 0;
  while (start < samples.length && Math.abs(samples[start]!) <= threshold) start++;
  let end = samples.length;
  while (end > start && Math.abs(samples[end - 1]!) <= threshold) end--;
  return [start, end];
}

/** Pearson correlation of `a` and `b` over their common length. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let sa = 0, sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n, mb = sb / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma, y = b[i]! - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}
