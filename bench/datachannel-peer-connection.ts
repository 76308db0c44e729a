/**
 * What one peer connection of the libdatachannel engine costs on the main thread, call by call (issue 18, call
 * setup): the answer path of an outgoing call (src/media/datachannel-engine.ts `answer`) made N times against a
 * werift browser's offer, without a remote peer (no ICE checks, no DTLS: those run in libdatachannel's threads,
 * which the kit's setup measurement reports per thread). Prints the CPU of each synchronous node-datachannel call,
 * and of this process's other threads while the N connections were made.
 *
 *   node --import tsx bench/datachannel-peer-connection.ts [N=200] [extra PeerConnection options as JSON]
 *
 * e.g. '{"enableIceUdpMux":true}' or '{"mtu":1200}' to weigh an option.
 */
import nodeDataChannel from 'node-datachannel';
import { loadavg } from 'node:os';
import { BrowserPeer } from './media-peers.ts';
import { freePort } from '../test/support/ports.ts';
import { threadCpu } from './compare/servers.ts';

const n = Number(process.argv[2] ?? 200);
const extra = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;

const spent: Record<string, number> = {};
function step<T>(name: string, f: () => T): T {
  const before = process.cpuUsage();
  const result = f();
  const d = process.cpuUsage(before);
  spent[name] = (spent[name] ?? 0) + (d.user + d.system) / 1000;
  return result;
}

const offer = await new BrowserPeer().createOffer();
const made: { pc: nodeDataChannel.PeerConnection; track: nodeDataChannel.Track }[] = [];
const threads0 = threadCpu(process.pid);
for (let i = 0; i < n; i++) {
  const port = await freePort('udp');
  const pc = step('new PeerConnection', () => new nodeDataChannel.PeerConnection(`pc-${i}`, {
    iceServers: [], bindAddress: '127.0.0.1', portRangeBegin: port, portRangeEnd: port, disableAutoNegotiation: true, ...extra,
  }));
  step('callbacks', () => {
    pc.onStateChange(() => {});
    pc.onIceStateChange(() => {});
    pc.onGatheringStateChange(() => {});
  });
  const track = step('addTrack', () => {
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addAudioCodec(0, 'PCMU/8000');
    audio.addAudioCodec(8, 'PCMA/8000');
    audio.addAudioCodec(126, 'telephone-event/8000', '0-16');
    audio.addSSRC(1234, 'callhook');
    const t = pc.addTrack(audio);
    t.onOpen(() => {});
    t.onMessage(() => {});
    t.onClosed(() => {});
    return t;
  });
  step('setRemoteDescription', () => pc.setRemoteDescription(offer, 'offer'));
  step('setLocalDescription', () => pc.setLocalDescription('answer'));
  for (let waited = 0; pc.gatheringState() !== 'complete' && waited < 5000; waited++) await new Promise((r) => setTimeout(r, 1));
  step('localDescription', () => pc.localDescription());
  made.push({ pc, track });
}
const threads1 = threadCpu(process.pid);
for (const { pc, track } of made) step('close', () => { track.close(); pc.close(); });

console.log(`${n} peer connections, options ${JSON.stringify(extra)}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const total = Object.values(spent).reduce((a, b) => a + b, 0);
console.log(`main thread, ms per connection: ${Object.entries(spent).map(([k, v]) => `${k} ${(v / n).toFixed(3)}`).join(', ')}; all ${(total / n).toFixed(2)}`);
console.log(`threads, ms per connection while they were made: ${[...threads1].map(([k, v]) => `${k} ${(((v - (threads0.get(k) ?? 0)) * 1000) / n).toFixed(2)}`).join(', ')}`);
process.exit(0);
