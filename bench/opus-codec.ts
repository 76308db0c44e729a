/**
 * Opus libraries compared (issue 15, "chosen by measurement"): the CPU time to encode and decode one 20 ms frame of
 * mono voice-like audio (two tones plus noise, 24 kbit/s, VOIP application with in-band FEC on, as towards a
 * browser) in @discordjs/opus (libopus as a native addon) and opusscript (libopus compiled to WebAssembly), at the
 * PCM rates a transcoder would use (48 kHz; 16 kHz for G.722 and 8 kHz for G.711, where libopus converts the rate
 * itself) and at encoder complexity 10 (libopus's default) and 5, and 5 down to 0 at 16 and 8 kHz. One encoder and decoder per case, `frames` frames
 * each, after a warm-up; the figure is the mean per frame and the share of one core that 100 calls would take (each
 * call encodes and decodes 50 frames a second).
 *
 * The decoder callhook uses, libopus in WebAssembly from @evan/opus called through its C API
 * (src/media/codecs/libopus-decoder.ts, the one build here whose decode reads in-band FEC), is measured decoding the
 * same packets, and with every other frame rebuilt from the next packet's FEC data (opus_decode with decode_fec 1).
 *
 *   node --import tsx bench/opus-codec.ts [frames=5000]
 */
import { createRequire } from 'node:module';
import { LibopusDecoder } from '../src/media/codecs/libopus-decoder.ts';
import { machine } from './hooks-common.ts';

const require = createRequire(import.meta.url);
const frames = Number(process.argv[2] ?? 5000);
const BITRATE = 24000;
/** libopus CTLs (opus_defines.h): OPUS_SET_BITRATE, OPUS_SET_COMPLEXITY, OPUS_SET_INBAND_FEC, OPUS_SET_PACKET_LOSS_PERC. */
const SET_BITRATE = 4002;
const SET_COMPLEXITY = 4010;
const SET_INBAND_FEC = 4012;
const SET_PACKET_LOSS_PERC = 4014;

interface Codec {
  encode(pcm: Buffer): Buffer;
  decode(packet: Buffer): Buffer;
}

interface Case {
  rate: 48000 | 16000 | 8000;
  complexity: number;
}

function voiceLikeFrames(count: number, rate: number): Buffer[] {
  const FRAME = rate / 50;
  const RATE = rate;
  const out: Buffer[] = [];
  let seed = 1;
  for (let f = 0; f < count; f++) {
    const b = Buffer.alloc(FRAME * 2);
    for (let i = 0; i < FRAME; i++) {
      const t = (f * FRAME + i) / RATE;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed / 0x7fffffff - 0.5) * 2000;
      b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 300 * t) + 4000 * Math.sin(2 * Math.PI * 1700 * t) + noise), i * 2);
    }
    out.push(b);
  }
  return out;
}

function discordjs(c: Case): Codec {
  const { OpusEncoder } = require('@discordjs/opus') as typeof import('@discordjs/opus');
  const enc = new OpusEncoder(c.rate, 1);
  enc.applyEncoderCTL(SET_BITRATE, BITRATE);
  enc.applyEncoderCTL(SET_COMPLEXITY, c.complexity);
  enc.applyEncoderCTL(SET_INBAND_FEC, 1);
  enc.applyEncoderCTL(SET_PACKET_LOSS_PERC, 5);
  return { encode: (pcm) => enc.encode(pcm), decode: (p) => enc.decode(p) };
}

function opusscript(c: Case): Codec {
  const OpusScript = require('opusscript') as typeof import('opusscript');
  const enc = new OpusScript(c.rate, 1, OpusScript.Application.VOIP);
  enc.encoderCTL(SET_BITRATE, BITRATE);
  enc.encoderCTL(SET_COMPLEXITY, c.complexity);
  enc.encoderCTL(SET_INBAND_FEC, 1);
  enc.encoderCTL(SET_PACKET_LOSS_PERC, 5);
  return { encode: (pcm) => enc.encode(pcm, c.rate / 50), decode: (p) => enc.decode(p) };
}

function cpuUs(work: () => void, count: number): number {
  const t0 = process.cpuUsage();
  work();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / count;
}

/** The WebAssembly decoder on `packets` (from @discordjs/opus's encoder): normal decoding, then with FEC rebuilding. */
function measureWasmDecoder(label: string, rate: number, packets: Buffer[]): void {
  const frameSamples = rate / 50;
  const warm = new LibopusDecoder(rate);
  // A longer warm-up than the native codecs need: the engine compiles WebAssembly at a higher tier only after a while.
  for (let i = 0; i < 2000; i++) warm.decode(packets[i % packets.length]!);
  const decoder = new LibopusDecoder(rate);
  const decodeUs = cpuUs(() => packets.forEach((p) => decoder.decode(p)), packets.length);
  // Every other packet lost and rebuilt from the next one's FEC data, as the transcoder would (each packet is then
  // decoded normally too): the cost per frame of that stream.
  const fec = new LibopusDecoder(rate);
  const fecUs = cpuUs(() => packets.forEach((p, i) => (i % 2 === 1 && i + 1 < packets.length ? fec.recover(packets[i + 1]!, frameSamples) : fec.decode(p))), packets.length);
  console.log(`${`libopus wasm (@evan/opus) ${label}`.padEnd(30)} decode ${decodeUs.toFixed(1).padStart(6)} µs  per 20 ms frame; with every 2nd frame rebuilt from FEC ${fecUs.toFixed(1).padStart(6)} µs`);
}

function measure(name: string, codec: Codec, input: Buffer[]): Buffer[] {
  for (let i = 0; i < 200; i++) codec.decode(codec.encode(input[i % input.length]!));
  const packets: Buffer[] = [];
  const t0 = process.cpuUsage();
  for (const pcm of input) packets.push(codec.encode(pcm));
  const t1 = process.cpuUsage(t0);
  const t2 = process.cpuUsage();
  for (const p of packets) codec.decode(p);
  const t3 = process.cpuUsage(t2);
  const us = (u: NodeJS.CpuUsage) => (u.user + u.system) / input.length;
  const encodeUs = us(t1);
  const decodeUs = us(t3);
  const bytes = packets.reduce((n, p) => n + p.length, 0) / packets.length;
  // 100 calls × 50 frames/s × (encode + decode) µs = share of one core.
  const core100 = (100 * 50 * (encodeUs + decodeUs)) / 1e6;
  console.log(`${name.padEnd(30)} encode ${encodeUs.toFixed(1).padStart(6)} µs  decode ${decodeUs.toFixed(1).padStart(6)} µs  per 20 ms frame; ${bytes.toFixed(0)} bytes/packet; 100 calls ≈ ${(core100 * 100).toFixed(1)} % of a core`);
  return packets;
}

console.log(`Opus encode + decode, mono, ${BITRATE / 1000} kbit/s, FEC on, ${frames} frames — ${machine()}, Node ${process.version}`);
const cases: Case[] = [
  { rate: 48000, complexity: 10 }, { rate: 48000, complexity: 5 },
  // What the transcoder runs (src/media/codecs/opus.ts: complexity 1), against complexity 5 at the same rates.
  ...([16000, 8000] as const).flatMap((rate) => [5, 3, 2, 1, 0].map((complexity) => ({ rate, complexity }))),
];
for (const c of cases) {
  const input = voiceLikeFrames(frames, c.rate);
  const label = `${c.rate / 1000} kHz, c${c.complexity}`;
  const packets = measure(`@discordjs/opus ${label}`, discordjs(c), input);
  measure(`opusscript ${label}`, opusscript(c), input);
  measureWasmDecoder(label, c.rate, packets);
}
