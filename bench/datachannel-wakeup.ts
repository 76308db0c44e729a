/**
 * What one wake-up of the event loop from another thread costs on the main thread, against the callbacks held on
 * node-datachannel peer connections and tracks (issue 18, CPU per bridged call). Each such callback is a N-API
 * thread-safe function with its own libuv async handle, and libuv visits every async handle of the loop on each
 * wake-up from any thread (uv__async_io), so with calls up, every packet a browser sends (delivered to JavaScript
 * through its track's message callback) pays for the callbacks of all calls.
 *
 * Per round: C idle peer connections, each with a track and the callbacks the libdatachannel leg set before (6: the
 * connection's state, ICE state and gathering state; the track's open, message and closed) or sets now (4: no
 * gathering, no open, see src/media/datachannel-engine.ts), then a worker thread posts W messages to the main thread,
 * one per wake-up (it sleeps 200 µs between posts), and the main thread's CPU time (from /proc, so the machine's
 * load does not count) per message is printed. Rounds alternate the two sets, so the load weighs on both alike.
 *
 *   node --import tsx bench/datachannel-wakeup.ts [calls=100,250] [messages=10000] [rounds=2]
 */
import nodeDataChannel from 'node-datachannel';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { threadCpu } from './compare/servers.ts';

const callCounts = (process.argv[2] ?? '100,250').split(',').map(Number);
const messages = Number(process.argv[3] ?? 10_000);
const rounds = Number(process.argv[4] ?? 2);
const SETS = { before: 6, now: 4 } as const;

/** The main thread's CPU time (user + system), seconds. */
const mainThreadSeconds = () => threadCpu(process.pid).get('main')!;

function openCalls(count: number, set: keyof typeof SETS): Array<{ pc: nodeDataChannel.PeerConnection; track: nodeDataChannel.Track }> {
  return Array.from({ length: count }, (_, i) => {
    const pc = new nodeDataChannel.PeerConnection(`wake-${i}`, { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
    pc.onStateChange(() => {});
    pc.onIceStateChange(() => {});
    if (set === 'before') pc.onGatheringStateChange(() => {});
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addAudioCodec(0, 'PCMU/8000');
    audio.addSSRC(1234, 'callhook');
    const track = pc.addTrack(audio);
    if (set === 'before') track.onOpen(() => {});
    track.onMessage(() => {});
    track.onClosed(() => {});
    return { pc, track };
  });
}

/** Main-thread µs per message a worker posts one per wake-up. */
async function perWakeUp(): Promise<number> {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < workerData; i++) {
      parentPort.postMessage(0);
      Atomics.wait(pause, 0, 0, 0.2);
    }
    parentPort.postMessage(1);
  `, { eval: true, workerData: messages });
  const before = mainThreadSeconds();
  let received = 0;
  await new Promise<void>((resolve) => worker.on('message', (last: number) => {
    if (last === 1) resolve();
    else received++;
  }));
  const us = ((mainThreadSeconds() - before) * 1e6) / received;
  await worker.terminate();
  return us;
}

console.log(`${messages} wake-ups per measure; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`no calls: ${(await perWakeUp()).toFixed(1)} µs of main-thread CPU per wake-up`);
for (let round = 1; round <= rounds; round++) {
  for (const calls of callCounts) {
    const row: string[] = [];
    for (const set of round % 2 === 1 ? (['before', 'now'] as const) : (['now', 'before'] as const)) {
      const open = openCalls(calls, set);
      row.push(`${SETS[set]} callbacks per call (${set}) ${(await perWakeUp()).toFixed(1)} µs`);
      for (const { pc, track } of open) {
        track.close();
        pc.close();
      }
    }
    console.log(`round ${round}, ${calls} calls: ${row.join(', ')}; load average ${loadavg()[0]!.toFixed(2)}`);
  }
}
process.exit(0);
