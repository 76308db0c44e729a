/**
 * The CPU of transcoding alone (issue 15): N calls' Transcoders (src/media/transcoder.ts, Opus browser ⇄ PCMU, the
 * browser's fmtp `useinbandfec=1`) in this one process, with no network, no SRTP and no bridge, so what the
 * transcoder itself costs per call is measured apart from the packet path every call shares (bench/transcode.ts
 * measures the whole relay). Each call gets a browser packet and a PCMU packet from the SIP side every 20 ms, the
 * calls' turns spread over the 20 ms as in bench/media-relay.ts; what the transcoders send is counted and dropped.
 * The browser's packets are encoded as Chrome encodes for our SDP's `maxplaybackrate` (bench/opus-tone.ts): 8000,
 * what callhook asks for when the SIP side is G.711, by default; 48000 is a browser not told (fullband).
 *
 * The figures: the process's CPU time (user + system) over a window, as % of one core and per call, and per frame
 * sent (either way), with the load average. A starved process skips playout ticks and so sends fewer frames; the
 * per-frame figure stays comparable across runs on a loaded machine, unlike a wall-clock rate.
 *
 *   node --import tsx bench/transcoder-cpu.ts [calls=100] [windowSeconds=10] [runs=2] [maxplaybackrate=8000]
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeG711 } from '../src/media/codecs/g711.ts';
import { OPUS, PCMU } from '../src/media/codecs.ts';
import type { RtpPacket } from '../src/media/rtp/packet.ts';
import { Transcoder } from '../src/media/transcoder.ts';
import { machine } from './hooks-common.ts';
import { opusTone } from './opus-tone.ts';

const calls = Number(process.argv[2] ?? 100);
const windowSeconds = Number(process.argv[3] ?? 10);
const runs = Number(process.argv[4] ?? 2);
const playbackRate = Number(process.argv[5] ?? 8000);
const SETTLE_MS = 2_000;
const TICK_MS = 2;
const SLOTS = 10;

const opus = opusTone(playbackRate);
/** A second of a 1 kHz tone from the SIP side, 20 ms a packet. */
const pcmu = Array.from({ length: 50 }, (_, f) => encodeG711('PCMU', Int16Array.from({ length: 160 }, (_, i) => 8000 * Math.sin((2 * Math.PI * 1000 * (f * 160 + i)) / 8000))));

const sent = { toSip: 0, toBrowser: 0 };
const transcoders = Array.from({ length: calls }, () => new Transcoder({
  browser: { ...OPUS, fmtp: 'minptime=10;useinbandfec=1' }, sip: { ...PCMU },
  toSip: () => void sent.toSip++, toBrowser: () => void sent.toBrowser++,
}));

function packet(payloadType: number, seq: number, timestamp: number, payload: Buffer): RtpPacket {
  return { header: { marker: false, payloadType, sequenceNumber: seq & 0xffff, timestamp: timestamp >>> 0, ssrc: 0x5eed, csrcs: [] }, payload, paddingSize: 0 };
}

/** Sends every slot that is due, catching up when a timer fired late, so each call gets 50 packets/s each way. */
let slotCount = 0;
let nextSlotAt = performance.now();
const seqs = new Array<number>(calls).fill(0);
function tick(): void {
  while (performance.now() >= nextSlotAt) {
    const slot = slotCount++ % SLOTS;
    nextSlotAt += TICK_MS;
    for (let i = slot; i < calls; i += SLOTS) {
      const n = seqs[i]!++;
      transcoders[i]!.fromBrowser(packet(111, n, n * 960, opus[n % opus.length]!));
      transcoders[i]!.fromSip(packet(0, n, n * 160, pcmu[n % pcmu.length]!));
    }
  }
}

console.log(`transcoder CPU, ${calls} calls Opus (maxplaybackrate ${playbackRate}) ⇄ PCMU in one process — ${machine()}, node ${process.version}`);
for (const t of transcoders) t.start();
const ticker = setInterval(tick, TICK_MS);
await sleep(SETTLE_MS);
for (let run = 1; run <= runs; run++) {
  const before = { cpu: process.cpuUsage(), at: performance.now(), ...sent, skipped: skippedTicks() };
  const load = loadavg()[0]!;
  await sleep(windowSeconds * 1000);
  const used = process.cpuUsage(before.cpu);
  const elapsedMs = performance.now() - before.at;
  const cpu = ((used.user + used.system) / 1000 / elapsedMs) * 100;
  const expected = (calls * elapsedMs) / 20;
  const frames = sent.toSip - before.toSip + sent.toBrowser - before.toBrowser;
  console.log(
    `run ${run}: ${cpu.toFixed(1)} % of one core, ${(cpu / calls).toFixed(3)} % per call, ${((used.user + used.system) / frames).toFixed(1)} µs per frame sent; ` +
    `frames to SIP ${((sent.toSip - before.toSip) / expected * 100).toFixed(1)} %, to browser ${((sent.toBrowser - before.toBrowser) / expected * 100).toFixed(1)} % of due; ` +
    `ticks skipped ${skippedTicks() - before.skipped}; load average ${load.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
  );
}
clearInterval(ticker);
for (const t of transcoders) t.stop();

function skippedTicks(): number {
  return transcoders.reduce((n, t) => n + t.stats().skippedTicks, 0);
}
