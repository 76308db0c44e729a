/**
 * Where a relayed packet's CPU goes (issue 18): the JavaScript steps the relay takes for one 20 ms PCMU packet
 * (172 bytes of RTP), each on one core, against the cost of moving one datagram through Node's UDP socket — the
 * yardstick, since every relayed packet is received once and sent once. Best and median of 10 batches, CPU time of
 * this process (not skewed by the machine's load).
 *
 * - parse: `parseRtp` of a received packet (every packet, on both legs);
 * - towards the browser: the bridge's header rewrite (RtpStreamRewriter) and `writeRtp` into the leg's reused buffer;
 * - towards SIP: the same rewrite, and `serializeRtp` into a new buffer (the socket keeps it until it is sent);
 * - one datagram through `dgram` on loopback: `send` to a socket of this process and its 'message' event, naming the
 *   address with each send, and again from a socket connected to the receiver (./src/media/latched-destination.ts).
 *
 * The rest of a relayed packet's cost is native: SRTP and the send inside libdatachannel (`sendMessageBinary`), its
 * receive threads, and the socket system calls; docs/benchmarks.md gives the profile's split.
 *
 *   node --import tsx bench/rtp-packet-path.ts
 */
import { createSocket } from 'node:dgram';
import { NO_CSRCS, parseRtp, RtpStreamRewriter, serializeRtp, writeRtp, type RtpPacket } from '../src/media/rtp/index.ts';
import { batchTimes, BATCH, machine } from './hooks-common.ts';

const BATCHES = 10;
/** Datagrams sent before the loop yields, so the receiving socket drains them (its buffer holds many more). */
const BURST = 50;

const received = Buffer.alloc(172, 0xd5);
received[0] = 0x80; // V=2, no padding, extension or CSRC
received[1] = 0; // PCMU
received.writeUInt32BE(0x5eed, 8);

/** The received packet with sequence number and timestamp of packet `n`, parsed: what a leg hands the bridge. */
function receive(n: number): RtpPacket {
  received.writeUInt16BE(n & 0xffff, 2);
  received.writeUInt32BE((n * 160) >>> 0, 4);
  return parseRtp(received);
}

/** The outgoing packet the bridge makes: rewritten header, the other leg's payload type, the payload as it came. */
function forward(rewriter: RtpStreamRewriter, p: RtpPacket): RtpPacket {
  const h = p.header;
  const w = rewriter.rewrite(h.ssrc, h.sequenceNumber, h.timestamp, h.marker, performance.now());
  return {
    header: { marker: w.marker, payloadType: 0, sequenceNumber: w.sequenceNumber, timestamp: w.timestamp, ssrc: w.ssrc, csrcs: NO_CSRCS },
    payload: p.payload,
    paddingSize: 0,
  };
}

let sink = 0;
const toBrowser = new RtpStreamRewriter({ ssrc: 1, clockRate: 8000, frameTicks: 160 });
const toSip = new RtpStreamRewriter({ ssrc: 2, clockRate: 8000, frameTicks: 160 });
const out = Buffer.allocUnsafe(1400);

const steps: Array<[string, (n: number) => void]> = [
  ['parse', (n) => { sink += receive(n).payload.length; }],
  ['parse + rewrite + writeRtp (towards the browser)', (n) => { sink += writeRtp(forward(toBrowser, receive(n)), out); }],
  ['parse + rewrite + serializeRtp (towards SIP)', (n) => { sink += serializeRtp(forward(toSip, receive(n))).length; }],
];

console.log(`machine: ${machine()}, node ${process.version}`);
for (const [name, run] of steps) {
  const t = batchTimes(run, BATCHES);
  console.log(`${name.padEnd(50)} ${t.best.toFixed(3)} / ${t.median.toFixed(3)} µs (best / median)`);
}

// One datagram through Node's UDP socket, sent and received on loopback: to an address given with each send (the
// RTP leg before it latches), and on a socket connected to the receiver (the RTP leg once it latched).
const receiver = createSocket('udp4');
const sender = createSocket('udp4');
await Promise.all([new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r)), new Promise<void>((r) => sender.bind(0, '127.0.0.1', r))]);
receiver.on('message', (m) => { sink += m.length; });
const port = receiver.address().port;
const datagram = serializeRtp(receive(0));

async function datagramCost(name: string, send: () => void): Promise<void> {
  const udp: number[] = [];
  for (let b = 0; b <= BATCHES; b++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < BATCH; i += BURST) {
      for (let j = 0; j < BURST; j++) send();
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    const used = process.cpuUsage(t0);
    if (b > 0) udp.push((used.user + used.system) / BATCH); // batch 0 warms up
  }
  udp.sort((a, b) => a - b);
  console.log(`${name.padEnd(50)} ${udp[0]!.toFixed(3)} / ${udp[Math.floor(BATCHES / 2)]!.toFixed(3)} µs (best / median)`);
}

await datagramCost('one datagram: dgram send + receive on loopback', () => sender.send(datagram, port, '127.0.0.1'));
await new Promise<void>((r) => sender.connect(port, '127.0.0.1', r));
await datagramCost('the same from a connected socket', () => sender.send(datagram));
sender.close();
receiver.close();
if (sink === 0) throw new Error('nothing measured');
