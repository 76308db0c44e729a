/**
 * SRTP on the SIP side (issue 13): the CPU one 20 ms G.711 packet costs to protect (callhook → SIP) and to
 * unprotect (SIP → callhook) with src/media/srtp (Node's AES-128-CTR and HMAC-SHA1, a new cipher and HMAC per
 * packet), on one core, best and median of 10 batches. From it, the CPU an SRTP call adds over a plain one: 50
 * packets/s each way, so 50 protects and 50 unprotects per second.
 *
 *   node --import tsx bench/srtp.ts
 */
import { randomBytes } from 'node:crypto';
import { serializeRtp } from '../src/media/rtp/packet.ts';
import { SrtpContext, type SrtpSuite } from '../src/media/srtp/index.ts';
import { batchTimes, BATCH, machine } from './hooks-common.ts';

const BATCHES = 10;
const PACKETS_PER_SECOND = 50;

console.log(`machine: ${machine()}, node ${process.version}`);
console.log('suite                   | protect best / median | unprotect best / median | added CPU per call (median)');
for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as SrtpSuite[]) {
  const keys = { suite, masterKey: randomBytes(16), masterSalt: randomBytes(14) };
  const sender = new SrtpContext(keys);
  const packets = Array.from({ length: 1 << 16 }, (_, seq) => serializeRtp({
    header: { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0x1234, csrcs: [] },
    payload: Buffer.alloc(160, 0xd5), paddingSize: 0,
  }));
  const protectedPackets: Buffer[] = [];
  const protect = batchTimes((i) => {
    const p = sender.protectRtp(packets[i & 0xffff]!);
    if (protectedPackets.length < (BATCHES + 1) * BATCH) protectedPackets.push(p);
  });
  // The receiver sees each packet once, in order, as from a peer (its own context: no replays).
  const receiver = new SrtpContext(keys);
  const unprotect = batchTimes((i) => {
    if (receiver.unprotectRtp(protectedPackets[i]!) === undefined) throw new Error(`packet ${i} did not unprotect`);
  });
  const perCall = (PACKETS_PER_SECOND * (protect.median + unprotect.median)) / 1e6 * 100;
  console.log([
    suite.padEnd(23),
    `${protect.best.toFixed(2)} / ${protect.median.toFixed(2)} µs`.padStart(21),
    `${unprotect.best.toFixed(2)} / ${unprotect.median.toFixed(2)} µs`.padStart(23),
    `${perCall.toFixed(3)} % of a core`.padStart(27),
  ].join(' | '));
}
