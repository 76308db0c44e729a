/**
 * The per-frame cost of what a G.722 call transcodes (issue 15): G.722 encode and decode (src/media/codecs/g722.ts),
 * G.711 decoding into a fresh array per packet and into a reused one (src/media/codecs/g711.ts), and the 8 ⇄ 16 kHz
 * conversion between G.711 and G.722 — the hand-written half-band filter
 * (src/media/codecs/halfband.ts) against libsamplerate's streaming converter (@alexanderolsen/libsamplerate-js,
 * SRC_SINC_FASTEST, its cheapest sinc) on the same 20 ms frames. The figure is the mean CPU time per 20 ms frame,
 * after a warm-up, and the share of one core that 100 calls would take (each call converts 50 frames a second each
 * way).
 *
 *   node --import tsx bench/transcode-codecs.ts [frames=20000]
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { decodeG711, encodeG711 } from '../src/media/codecs/g711.ts';
import { G722Decoder, G722Encoder } from '../src/media/codecs/g722.ts';
import { Downsampler, Upsampler } from '../src/media/codecs/halfband.ts';
import { machine } from './hooks-common.ts';

const frames = Number(process.argv[2] ?? 20000);

/** Voice-like audio: two tones and noise, `samples` long. */
function voice(samples: number, rate: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => 6000 * Math.sin((2 * Math.PI * 310 * i) / rate) + 3000 * Math.sin((2 * Math.PI * 1270 * i) / rate) + (Math.random() - 0.5) * 1000);
}

/** Mean µs per call of `step` over `frames` frames, after frames / 10 of warm-up. */
function time(step: (n: number) => void): number {
  for (let n = 0; n < frames / 10; n++) step(n);
  const start = process.cpuUsage();
  for (let n = 0; n < frames; n++) step(n);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / frames;
}

function report(name: string, us: number): void {
  console.log(`${name.padEnd(44)} ${us.toFixed(2).padStart(7)} µs per 20 ms frame; 100 calls ≈ ${((us * 50 * 100) / 1e6 * 100).toFixed(2)} % of a core`);
}

console.log(`G.722 and 8 ⇄ 16 kHz conversion, ${frames} frames — ${machine()}, Node ${process.version}`);
const wide = voice(320 * 50, 16000);
const narrow = voice(160 * 50, 8000);
const wideFrame = (n: number) => wide.subarray((n % 50) * 320, (n % 50 + 1) * 320);
const narrowFrame = (n: number) => narrow.subarray((n % 50) * 160, (n % 50 + 1) * 160);

const encoder = new G722Encoder();
report('G.722 encode (320 samples → 160 octets)', time((n) => encoder.encode(wideFrame(n))));
const encoded = Array.from({ length: 50 }, (_, n) => new G722Encoder().encode(wideFrame(n)));
const decoder = new G722Decoder();
report('G.722 decode', time((n) => decoder.decode(encoded[n % 50]!)));

const mulaw = Array.from({ length: 50 }, (_, n) => encodeG711('PCMU', narrowFrame(n)));
report('G.711 decode, a fresh array per packet', time((n) => decodeG711('PCMU', mulaw[n % 50]!)));
const reused = new Int16Array(160);
report('G.711 decode into a reused array', time((n) => decodeG711('PCMU', mulaw[n % 50]!, reused)));
const up = new Upsampler();
const down = new Downsampler();
report('half-band 8 → 16 kHz', time((n) => up.process(narrowFrame(n))));
report('half-band 16 → 8 kHz', time((n) => down.process(wideFrame(n))));

for (const [from, to, frame] of [[8000, 16000, narrowFrame], [16000, 8000, wideFrame]] as const) {
  const src = await libsamplerate.create(1, from, to, { converterType: libsamplerate.ConverterType.SRC_SINC_FASTEST });
  // As a call would: 16-bit frames in, converted to float for the library and back.
  report(`libsamplerate SINC_FASTEST ${from / 1000} → ${to / 1000} kHz`, time((n) => {
    const out = src.full(Float32Array.from(frame(n), (s) => s / 32768));
    Int16Array.from(out, (v) => Math.round(v * 32768));
  }));
  src.destroy();
}
