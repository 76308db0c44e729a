/**
 * The media library alone in a child process for bench/media-relay.ts, so its CPU and memory are measured apart
 * from the load client: per call one WebRTC leg (werift), one RTP leg and one bridge, exactly as the gateway wires
 * them, with the SIP side's answer made up from the echo peer's port (no SIP signalling is involved).
 *
 * IPC: {type:'call', id, offer, phonePort} → {type:'answered', id, answer} (or {type:'failed', id, error});
 * 'stats' → {type:'stats', cpuUs, rss, heapUsed, calls, connected, skippedTicks, lateDropped, forwarded, wakeups}; 'stop' closes every
 * call and exits.
 */
import { readFileSync } from 'node:fs';
import { LOOPBACK } from './media-peers.ts';
import {
  DataChannelEngine, MediaBridge, parseSdp, PortPairAllocator, RtpLeg, SipSdpSession, type WebRtcLeg,
} from '../src/media/index.ts';
import { NativeEngine } from '../src/media/native-engine.ts';
import { WeriftEngine } from '../src/media/werift-engine.ts';
import { freePort } from '../test/support/ports.ts';

export interface RelayServerStats {
  type: 'stats';
  /** user + system CPU time since start, µs */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  calls: number;
  connected: number;
  /** Transcoded calls: playout ticks the relay skipped because it fell behind (its own drops), summed. */
  skippedTicks: number;
  /** Transcoded calls: browser packets the jitter buffers dropped as late or beyond their depth (late arrival), summed. */
  lateDropped: number;
  /** Packets the bridges sent on, both ways, summed: the relay's work, to weigh its CPU by. */
  forwarded: number;
  /**
   * The main thread's voluntary context switches (Linux's /proc/self/status): each is the event loop going to sleep
   * in epoll and being woken again, a cost paid per wake-up whatever the work it brings.
   */
  wakeups: number;
}

interface CallRequest {
  type: 'call';
  id: number;
  offer: string;
  phonePort: number;
}

const webrtcPorts = new PortPairAllocator('WebRTC ports', 55000, 59999);
const rtpPorts = new PortPairAllocator('RTP ports', 50000, 54999);
// MEDIA_BENCH_ENGINE=werift|libdatachannel (default libdatachannel, callhook's default); the argument, from
// bench/media-relay.ts: `one-port` (every browser leg on one UDP port, ICE UDP mux) or `port-pairs`.
const engine = process.env['MEDIA_BENCH_ENGINE'] === 'werift'
  ? new WeriftEngine({ localAddress: LOOPBACK, ports: webrtcPorts })
  : process.env['MEDIA_BENCH_ENGINE'] === 'native'
  ? NativeEngine.load({ localAddress: LOOPBACK, ports: webrtcPorts })
  : await DataChannelEngine.load({
      localAddress: LOOPBACK, ports: webrtcPorts, ...(process.argv[2] === 'one-port' && { udpMuxPort: await freePort('udp') }),
    });
const calls: Array<{ leg: WebRtcLeg; bridge?: MediaBridge }> = [];
// MEDIA_BENCH_LEGS=webrtc-echo: the browser leg alone, each packet from the browser sent straight back to it (no RTP
// leg, no bridge), to weigh what the WebRTC side of a call costs by itself.
const webrtcEcho = process.env['MEDIA_BENCH_LEGS'] === 'webrtc-echo';
let echoed = 0;
// MEDIA_BENCH_CODEC=opus: the browser leg uses Opus and each call is transcoded to the phone's PCMU (bench/transcode.ts).
const transcode = process.env['MEDIA_BENCH_CODEC'] === 'opus';

async function call(r: CallRequest): Promise<string> {
  // opusRate: as for a call whose SIP side has PCMU only (src/media/media-session.ts).
  const leg = engine.createLeg({ codecs: [transcode ? 'OPUS' : 'PCMU'], opusRate: 8000 });
  const answer = await leg.setRemoteOffer(r.offer);
  if (webrtcEcho) {
    leg.onRtp((packet) => {
      leg.sendRtp(packet);
      echoed++;
    });
    calls.push({ leg });
    return answer;
  }
  const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports: rtpPorts });
  const sip = new SipSdpSession({ address: LOOPBACK, port: rtp.localPort, codecs: ['PCMU'] });
  sip.createOffer();
  const phoneAnswer = parseSdp([
    'v=0', 'o=phone 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${r.phonePort} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv',
  ].join('\r\n') + '\r\n');
  calls.push({ leg, bridge: new MediaBridge({ webrtc: leg, rtp, sip: sip.readAnswer(phoneAnswer), transcode }) });
  return answer;
}

process.on('message', (m: unknown) => {
  if (m === 'stats') {
    global.gc?.();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const bridges = calls.flatMap((c) => c.bridge?.stats() ?? []);
    const transcoders = bridges.flatMap((b) => b.transcoder ?? []);
    const stats: RelayServerStats = {
      type: 'stats', cpuUs: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed, calls: calls.length,
      connected: calls.filter((c) => c.leg.state === 'connected').length,
      skippedTicks: transcoders.reduce((n, t) => n + t.skippedTicks, 0),
      lateDropped: transcoders.reduce((n, t) => n + t.jitter.dropped, 0),
      forwarded: echoed + bridges.reduce((n, b) => n + b.toSip.forwarded + b.toWebrtc.forwarded, 0),
      wakeups: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN),
    };
    process.send!(stats);
  } else if (m === 'stop') {
    void Promise.all(calls.map((c) => c.bridge?.close() ?? c.leg.close())).then(() => process.exit(0));
  } else if ((m as CallRequest).type === 'call') {
    const r = m as CallRequest;
    call(r).then(
      (answer) => process.send!({ type: 'answered', id: r.id, answer }),
      (err: unknown) => process.send!({ type: 'failed', id: r.id, error: String(err) }),
    );
  }
});
process.send!({ type: 'ready' });
