/**
 * What one datagram costs libdatachannel's ICE thread (libjuice) against the number of peer connections it serves
 * (issue 18, CPU per bridged call). In libjuice's default mode one thread polls the sockets of all agents, and each
 * wake-up goes over all of them (poll(2) on every socket, then each agent's bookkeeping); with `enableIceUdpMux`
 * all agents share one socket (and the first connection's port), and the thread goes over the agents only.
 *
 * Per measure: C peer connections with their local description set (each ICE agent bound, on its own port, or on
 * one shared port with `mux`), then this process sends D datagrams of 172 bytes (not STUN: libjuice reads and drops
 * them) to one of them, one per wake-up (it yields and sleeps 200 µs between sends), and prints the ICE thread's CPU
 * time (from /proc, so the machine's load does not count) per datagram. Rounds alternate the modes.
 *
 *   node --import tsx bench/datachannel-ice-poll.ts [calls=1,100,250] [datagrams=5000] [rounds=2]
 */
import nodeDataChannel from 'node-datachannel';
import { createSocket } from 'node:dgram';
import { loadavg } from 'node:os';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { threadCpu } from './compare/servers.ts';
import { freeUdpRange } from '../test/support/ports.ts';

const callCounts = (process.argv[2] ?? '1,100,250').split(',').map(Number);
const datagrams = Number(process.argv[3] ?? 5_000);
const rounds = Number(process.argv[4] ?? 2);
const LOOPBACK = '127.0.0.1';
const THREAD = { poll: 'juice poll', mux: 'juice mux' } as const;
type Mode = keyof typeof THREAD;

/** µs of the ICE thread per datagram sent to one of `calls` agents. */
async function perDatagram(calls: number, mode: Mode): Promise<number> {
  const first = await freeUdpRange(mode === 'mux' ? 1 : calls);
  const pcs = Array.from({ length: calls }, (_, i) => {
    const port = mode === 'mux' ? first : first + i;
    const pc = new nodeDataChannel.PeerConnection(`ice-${i}`, {
      iceServers: [], bindAddress: LOOPBACK, portRangeBegin: port, portRangeEnd: port, disableAutoNegotiation: true,
      enableIceUdpMux: mode === 'mux',
    });
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addAudioCodec(0, 'PCMU/8000');
    pc.addTrack(audio);
    pc.setLocalDescription('offer');
    return pc;
  });
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  const datagram = Buffer.alloc(172, 0x80);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const before = threadCpu(process.pid).get(THREAD[mode]) ?? 0;
  for (let i = 0; i < datagrams; i++) {
    socket.send(datagram, first, LOOPBACK);
    await yieldTurn();
    Atomics.wait(pause, 0, 0, 0.2);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const us = (((threadCpu(process.pid).get(THREAD[mode]) ?? 0) - before) * 1e6) / datagrams;
  socket.close();
  for (const pc of pcs) pc.close();
  // libdatachannel releases the agents (and the mux's socket and thread) in its own threads.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return us;
}

console.log(`${datagrams} datagrams per measure; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let round = 1; round <= rounds; round++) {
  for (const calls of callCounts) {
    const row: string[] = [];
    for (const mode of round % 2 === 1 ? (['poll', 'mux'] as const) : (['mux', 'poll'] as const)) {
      row.push(`${mode} ${(await perDatagram(calls, mode)).toFixed(0)} µs`);
    }
    console.log(`round ${round}, ${calls} peer connections: ${row.join(', ')} of the ICE thread per datagram; load average ${loadavg()[0]!.toFixed(2)}`);
  }
}
process.exit(0);
