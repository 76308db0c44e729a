/**
 * The Opus encoder towards the browser, setting by setting (issue 15, transcoded-call capacity): what each costs per
 * 20 ms frame and what it does to the audio. Each setting is callhook's encoder (src/media/codecs/opus.ts: complexity
 * 0, in-band FEC planned for 5 % loss, voice) with one thing changed: the bitrate (RFC 7587 §3.1.1 gives 8–12 kbit/s
 * for narrowband, 16–20 for wideband; callhook uses 24), or one more CTL. The input is what a G.711 (or G.722) call
 * feeds it: a 200 Hz to top-of-band sweep (3.4 kHz at 8 kHz PCM, through PCMU; 7 kHz at 16 kHz).
 *
 * Cost: CPU time per encoded frame, the median of rounds that take the settings in turn (so a loaded machine's drift
 * hits them alike), `calls` encoders of each setting used round-robin as a transcoding server would. Quality: the
 * sweep decoded at 48 kHz as a browser does, its SNR against the sweep sent (the median over the 40 ms windows of
 * its middle half second), as test/integration/media-transcode.test.ts reads it.
 *
 *   node --import tsx bench/opus-encoder-settings.ts [pcmRate=8000] [calls=100] [frames=200]
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { decodeG711, encodeG711 } from '../src/media/codecs/g711.ts';
import { LibopusDecoder } from '../src/media/codecs/libopus-decoder.ts';
import { delaySamples, snrDb, sweep } from '../test/support/audio-analysis.ts';
import { machine } from './hooks-common.ts';

const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as typeof import('@discordjs/opus');
const pcmRate = Number(process.argv[2] ?? 8000);
const calls = Number(process.argv[3] ?? 100);
const framesPerRound = Number(process.argv[4] ?? 200);
const ROUNDS = 7;
const SECONDS = 1.6;

/** libopus CTLs (opus_defines.h). */
const CTL = {
  APPLICATION: 4000, BITRATE: 4002, VBR: 4006, COMPLEXITY: 4010, INBAND_FEC: 4012, PACKET_LOSS_PERC: 4014,
  SIGNAL: 4024, LSB_DEPTH: 4036, FORCE_MODE: 11002,
};
const APPLICATION_VOIP = 2048;
const SIGNAL_VOICE = 3001;
const MODE_SILK_ONLY = 1000;

type Settings = Array<[number, number]>;
const callhook = (bitrate = 24_000): Settings => [
  [CTL.BITRATE, bitrate], [CTL.COMPLEXITY, 0], [CTL.INBAND_FEC, 1], [CTL.PACKET_LOSS_PERC, 5], [CTL.SIGNAL, SIGNAL_VOICE],
];
const bitrates = pcmRate === 8000 ? [24_000, 16_000, 12_000, 10_000] : [24_000, 20_000, 16_000];
const CASES: Record<string, Settings> = {
  ...Object.fromEntries(bitrates.map((b) => [`${b / 1000} kbit/s${b === 24_000 ? ' (callhook)' : ''}`, callhook(b)])),
  'VOIP application': [[CTL.APPLICATION, APPLICATION_VOIP], ...callhook()],
  'LSB depth 16': [...callhook(), [CTL.LSB_DEPTH, 16]],
  'SILK only': [...callhook(), [CTL.FORCE_MODE, MODE_SILK_ONLY]],
  'CBR': [...callhook(), [CTL.VBR, 0]],
  'no FEC': [...callhook(), [CTL.INBAND_FEC, 0]],
};

function encoder(settings: Settings): InstanceType<typeof OpusEncoder> {
  const e = new OpusEncoder(pcmRate, 1);
  for (const [ctl, value] of settings) e.applyEncoderCTL(ctl, value);
  return e;
}

const top = pcmRate === 8000 ? 3400 : 7000;
/** The input: the sweep (through PCMU at 8 kHz), 20 ms a frame. */
const input = pcmRate === 8000 ? decodeG711('PCMU', encodeG711('PCMU', sweep(200, top, pcmRate, SECONDS, 12000))) : sweep(200, top, pcmRate, SECONDS, 12000);
const frame = pcmRate / 50;
const frames = Array.from({ length: input.length / frame }, (_, n) => Buffer.from(input.slice(n * frame, (n + 1) * frame).buffer));

/** SNR (dB) at a 48 kHz decoder of the sweep through one encoder of `settings`, and its mean packet size. */
function quality(settings: Settings): { snr: number; bytes: number } {
  const e = encoder(settings);
  const d = new LibopusDecoder(48000);
  const out = new Int16Array(frames.length * 960);
  let bytes = 0;
  frames.forEach((pcm, n) => {
    const packet = e.encode(pcm);
    bytes += packet.length;
    out.set(d.decode(packet), n * 960);
  });
  const reference = sweep(200, top, 48000, SECONDS, 12000);
  const lag = delaySamples(reference.subarray(12000), out.subarray(12000), 9600, 12000);
  const snrs: number[] = [];
  // The middle half second, 40 ms windows, as the quality test reads it.
  for (let from = 24000; from + 1920 <= 48000; from += 1920) snrs.push(snrDb(reference, out, lag, from, 1920));
  return { snr: median(snrs), bytes: bytes / frames.length };
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

console.log(`Opus encoder settings at ${pcmRate} Hz PCM, ${calls} encoders each — ${machine()}, node ${process.version}`);
const names = Object.keys(CASES);
const encoders = names.map((n) => Array.from({ length: calls }, () => encoder(CASES[n]!)));
const perFrame = names.map(() => [] as number[]);
for (let round = 0; round <= ROUNDS; round++) {
  names.forEach((_, k) => {
    const before = process.cpuUsage();
    for (let f = 0; f < framesPerRound; f++) for (const e of encoders[k]!) e.encode(frames[f % frames.length]!);
    const used = process.cpuUsage(before);
    if (round > 0) perFrame[k]!.push((used.user + used.system) / (framesPerRound * calls)); // round 0 warms up
  });
}
names.forEach((name, k) => {
  const q = quality(CASES[name]!);
  console.log(`${name}: ${median(perFrame[k]!).toFixed(1)} µs per frame (rounds ${Math.min(...perFrame[k]!).toFixed(1)}–${Math.max(...perFrame[k]!).toFixed(1)}), ${q.bytes.toFixed(0)} bytes a packet, sweep SNR ${q.snr.toFixed(1)} dB`);
});
console.log(`load average at the end ${loadavg()[0]!.toFixed(2)}`);
