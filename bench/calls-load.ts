/**
 * What the call benches share (bench/calls-concurrent.ts, bench/calls-setup.ts): callhook in a child process
 * (bench/server-process.ts, so its CPU and memory are its own), a sipp UAS answering every call with `-rtp_echo`
 * (test/support/sipp/uas-answer.xml), and a load client of werift peers playing browsers over the WCS protocol
 * (test/support/webrtc-client.ts), one WebSocket session per call, as browsers have.
 *
 * With `srtp`, every session asks for `sipSrtp: required` and sipp answers with SDES (uas-answer-srtp.xml, which
 * hands the caller's key back, so its echo is valid SRTP): callhook then protects and unprotects every SIP-side packet.
 *
 * Audio: every call sends one 160-byte G.711 packet per 20 ms tick (one timer for all calls). The first 8 bytes of
 * each payload carry its send time, so the echo that comes back (browser → callhook → sipp → callhook → browser)
 * gives the round trip through the relay twice; the payload is never touched on the way.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSipp, scenarioFile, type SippProcess } from '../test/support/sipp.ts';
import { WebRtcClient, type ClientCall } from '../test/support/webrtc-client.ts';
import type { ServerStats } from './server-process.ts';
import { loopbackServerSettings } from './hooks-common.ts';

const FRAME_BYTES = 160;
export const TICK_MS = 20;

export interface BenchCall {
  client: WebRtcClient;
  call: ClientCall;
  /** `call` sent → ESTABLISHED with DTLS up at the browser, ms. */
  setupMs: number;
  seq: number;
}

/**
 * A measuring window: the packets sent while it is open, and the echoes of exactly those packets (recognised by
 * the send time in their payload), however late they come back. Round trips of those echoes, in ms.
 */
export interface Window {
  start: number;
  end: number;
  sent: number;
  echoed: number;
  roundTrips: number[];
}

export function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type?: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

export class CallBench {
  readonly calls: BenchCall[] = [];
  private window: Window | undefined;
  private ticker: NodeJS.Timeout | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly sipp: SippProcess,
    private readonly wsUrl: string,
    private readonly dataDir: string,
    private readonly srtp: boolean,
  ) {}

  static async start(options: { srtp?: boolean } = {}): Promise<CallBench> {
    const srtp = options.srtp ?? false;
    const sipp = await runSipp({
      scenarioFile: scenarioFile(srtp ? 'uas-answer-srtp' : 'uas-answer'), mode: 'uas', transport: 'u1', calls: 1_000_000,
      extraArgs: ['-rtp_echo'], timeoutMs: 3_600_000,
    });
    const dataDir = await mkdtemp(join(tmpdir(), 'callhook-bench-calls-'));
    const overrides = {
      ...(await loopbackServerSettings(dataDir)),
      // One hook per status to EchoApp is part of a call; the bench measures the relay, so hooks stay on.
      wsMessagesPerSecond: 100_000,
      wsMessagesPerSecondPerIp: 100_000,
      wsSessionsPerIp: 100_000,
      wsConnectionsPerIp: 100_000,
      // Every bench client comes from 127.0.0.1: the per-IP call limits (100 at once, 120 a minute) would cap the ramp.
      maxCallsPerIp: 100_000,
      callsPerIpPerMinute: 100_000,
      // Long runs: the inactivity watch must not end calls whose echo is late.
      rtpInactivityTimeoutMs: 0,
      // BENCH_WEBRTC_ENGINE=werift|libdatachannel: the engine measured (default: callhook's default).
      ...(process.env['BENCH_WEBRTC_ENGINE'] ? { webrtcEngine: process.env['BENCH_WEBRTC_ENGINE'] } : {}),
      // BENCH_TIMELINE=off: no per-session timelines (timelineKeepEnded 0), to measure what the recorder costs.
      ...(process.env['BENCH_TIMELINE'] === 'off' ? { timelineKeepEnded: 0 } : {}),
    };
    // BENCH_CPU_PROF=<dir>: callhook writes a V8 CPU profile there when it stops (node --cpu-prof).
    const profile = process.env['BENCH_CPU_PROF'];
    const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [JSON.stringify(overrides)], {
      execArgv: ['--expose-gc', '--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])],
    });
    const { wsPort } = await nextMessage<{ type: 'ready'; wsPort: number }>(child, 'ready');
    return new CallBench(child, sipp, `ws://127.0.0.1:${wsPort}/`, dataDir, srtp);
  }

  /** One call to the sipp UAS, up to ESTABLISHED with the browser's DTLS connected. */
  async place(): Promise<BenchCall> {
    const started = performance.now();
    const client = await WebRtcClient.connect(this.wsUrl, {
      sipLogin: `caller${this.calls.length}`, sipDomain: '127.0.0.1', sipPort: this.sipp.port, ...(this.srtp && { sipSrtp: 'required' }),
    });
    const call = await client.call('bob');
    await call.waitStatus('ESTABLISHED', 30_000);
    await call.connected(30_000);
    const c: BenchCall = { client, call, setupMs: performance.now() - started, seq: 0 };
    call.peer.onRtp((r) => {
      const w = this.window;
      if (w === undefined || r.payload.length < 8) return;
      const sentAt = r.payload.readDoubleLE(0);
      if (sentAt < w.start || sentAt > w.end) return;
      w.echoed++;
      w.roundTrips.push(r.at - sentAt);
    });
    this.calls.push(c);
    return c;
  }

  /** Starts every call sending: one packet per call per 20 ms tick. */
  startAudio(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      const now = performance.now();
      const w = this.window;
      for (const c of this.calls) {
        const payload = Buffer.alloc(FRAME_BYTES, 0xff);
        payload.writeDoubleLE(now, 0);
        const seq = c.seq++;
        c.call.peer.send(c.call.audioPayloadType, seq & 0xffff, (seq * FRAME_BYTES) >>> 0, payload);
        if (w !== undefined && now >= w.start && now <= w.end) w.sent++;
        // BrowserPeer keeps every packet it received; the bench only needs the counters.
        c.call.peer.received.length = 0;
      }
    }, TICK_MS);
  }

  stopAudio(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Opens a measuring window now; `closeWindow` ends it. */
  openWindow(): void {
    this.window = { start: performance.now(), end: Infinity, sent: 0, echoed: 0, roundTrips: [] };
  }

  /** Closes the window and waits `drainMs` for the echoes of its last packets. */
  async closeWindow(drainMs: number): Promise<Window> {
    const w = this.window!;
    w.end = performance.now();
    await new Promise((r) => setTimeout(r, drainMs));
    this.window = undefined;
    return w;
  }

  async stats(): Promise<ServerStats> {
    const reply = nextMessage<ServerStats>(this.child, 'stats');
    this.child.send('stats');
    return reply;
  }

  /** Hangs up every call and waits for their FINISH. */
  async hangUpAll(): Promise<void> {
    const calls = this.calls.splice(0);
    for (const c of calls) c.call.hangup();
    await Promise.all(calls.map((c) => c.call.waitEnd(30_000).catch(() => undefined)));
    for (const c of calls) await c.client.close();
  }

  async stop(): Promise<void> {
    this.stopAudio();
    for (const c of this.calls) await c.client.close();
    this.child.send('stop');
    await new Promise((r) => this.child.once('exit', r));
    await this.sipp.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** callhook's default port ranges (docs/configuration.md), which the bench keeps. */
const RTP_PORTS = [30000, 34999];
const WEBRTC_PORTS = [35000, 39999];
/** sipp's default media port: its -rtp_echo socket. */
const SIPP_MEDIA_PORT = 6000;

export interface UdpDrops {
  /** sipp's echo socket. */
  sipp: number;
  /** callhook's RTP legs. */
  rtp: number;
  /** callhook's WebRTC legs. */
  webrtc: number;
  /** Everything else on the machine (the load client's werift sockets among them). */
  other: number;
}

/**
 * Datagrams the kernel dropped because a socket's receive buffer was full (/proc/net/udp, `drops` column), by
 * whose socket it was: where packet loss happened, if it did.
 */
export function udpDrops(): UdpDrops {
  const drops: UdpDrops = { sipp: 0, rtp: 0, webrtc: 0, other: 0 };
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    const port = parseInt(fields[1]!.split(':')[1]!, 16);
    const n = Number(fields[12]);
    if (port === SIPP_MEDIA_PORT) drops.sipp += n;
    else if (port >= RTP_PORTS[0]! && port <= RTP_PORTS[1]!) drops.rtp += n;
    else if (port >= WEBRTC_PORTS[0]! && port <= WEBRTC_PORTS[1]!) drops.webrtc += n;
    else drops.other += n;
  }
  return drops;
}
