/**
 * Media relay benchmark (issue 5, Speed): N concurrent bridged G.711 calls through callhook's media library
 * (bench/media-relay-server.ts, a child process: WebRTC leg + RTP leg + bridge per call) with this process as the
 * load: one werift peer per call playing the browser (DTLS-SRTP, 50 packets/s of 160-byte PCMU) and one UDP peer
 * per call playing the SIP phone, echoing every packet like `sipp -rtp_echo`.
 *
 * Calls are added in steps; at each step, after the relay settles, a measuring window gives the server's CPU (% of
 * one core), its memory per call over the idle baseline (RSS and JS heap after a GC), packet loss towards SIP and
 * over the round trip, and latency: browser → relay → phone one way, and the round trip browser → relay → phone →
 * relay → browser. Each packet carries its send time, and both peers live in this process, on one clock. The
 * latencies include the load client's own SRTP work and scheduling, so they bound the relay's from above. It stops
 * after the first step above 80 % of a core or with loss.
 *
 *   node --import tsx bench/media-relay.ts [maxCalls=400] [windowSeconds=10]
 *
 * MEDIA_BENCH_ENGINE=werift|libdatachannel|native chooses the WebRTC engine (default libdatachannel).
 * MEDIA_BENCH_WEBRTC_PORTS=one-port|port-pairs: libdatachannel's browser legs all on one UDP port (`webrtcPort`, ICE
 * UDP mux; the default here, and the only choice werift does not have), or a port pair per call; the first line
 * says which.
 * MEDIA_BENCH_CODEC=opus makes every call transcoded (bench/transcode.ts): the browser sends Opus (20 ms frames of a
 * tone, encoded once as Chrome encodes for the relay's answer: narrowband, as its maxplaybackrate is 8000), the
 * relay transcodes to and from the phone's PCMU. Payloads change on the way, so packets are counted by arrival time
 * in the window (loss is then within ±1 packet per call of exact) and no latency is measured. Their loss has two causes the relay reports apart: playout ticks it skipped because it fell
 * behind (its own capacity), and packets its jitter buffers dropped because they came late or in a burst (the load
 * client's lateness on a busy machine: it shares the cores). A transcoded step holds when the relay is within 80 %
 * of a core and skipped no tick; the loss is printed beside it. The relay's CPU is also given per packet its bridges
 * sent on (either way): a starved relay sends fewer, so that figure stays comparable on a loaded machine. How often
 * its event loop woke (the main thread's voluntary context switches) is printed too: each wake-up costs the kernel,
 * libuv and Node's entry into JavaScript whatever it brings. So is each of the relay's threads' CPU per packet relayed
 * (main: the JavaScript; `juice poll` or `juice mux`: libjuice's ICE thread, which reads the browsers' packets).
 * With MEDIA_BENCH_PROF=<dir>, the server process writes a V8 CPU profile there (--cpu-prof) when it exits.
 * MEDIA_BENCH_LEGS=webrtc-echo: the server holds the browser legs alone and sends each browser packet straight back
 * (no RTP leg, no phone): what the WebRTC side of a call costs by itself. Each line gives the server's CPU per
 * packet echoed back to a browser in both modes, the figure to set the two against (and against the comparison
 * kit's per echoed packet).
 * BENCH_NODE_ARGS adds options to the server's node (e.g. "--semi-space-growth-factor=1" to weigh a V8 flag's CPU).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { machine, percentile } from './hooks-common.ts';
import { BrowserPeer, g711Packet, LOOPBACK, UdpRtpPeer } from './media-peers.ts';
import type { RelayServerStats } from './media-relay-server.ts';
import { threadCpu, threadSeconds } from './compare/servers.ts';
import { maxPlaybackRate, opusTone } from './opus-tone.ts';

const maxCalls = Number(process.argv[2] ?? 400);
const windowSeconds = Number(process.argv[3] ?? 10);
/** MEDIA_BENCH_STEPS=50,100: these steps only, each measured whatever the one before it showed (A/B runs of CPU per call). */
const fixedSteps = process.env['MEDIA_BENCH_STEPS']?.split(',').map(Number);
const STEPS = fixedSteps ?? [25, 50, 100, 150, 200, 250, 300, 350, 400, 500, 600].filter((n) => n <= maxCalls);
const SETUP_CONCURRENCY = 10;
const SETTLE_MS = 3_000;
/** After a window closes, packets sent in it still arriving are waited for this long. */
const IN_FLIGHT_MS = 300;
const CPU_LIMIT = 80;
/** Calls send in turns spread over the 20 ms packet time, as calls that were not set up together would. */
const TICK_MS = 2;
const SLOTS = 10;
const MiB = 1024 * 1024;
const transcoded = process.env['MEDIA_BENCH_CODEC'] === 'opus';
const webrtcEcho = process.env['MEDIA_BENCH_LEGS'] === 'webrtc-echo';
/**
 * What the browser peers send in transcoded runs, by the `maxplaybackrate` of the relay's answer: a second of a 1 kHz
 * tone as Opus packets (48 kHz, 20 ms), encoded as Chrome encodes for that answer (bench/opus-tone.ts).
 */
const opusTones = new Map<number, Buffer[]>();
function opusFor(answer: string): Buffer[] {
  const rate = maxPlaybackRate(answer);
  if (!opusTones.has(rate)) opusTones.set(rate, opusTone(rate));
  return opusTones.get(rate)!;
}

interface Call {
  browser: BrowserPeer;
  phone: UdpRtpPeer;
  seq: number;
  /** The Opus packets it sends (transcoded runs). */
  opus: Buffer[];
}

/** Counters of the packets sent inside the current window (by their send time). */
const window = { start: Infinity, end: Infinity, sent: 0, atPhone: 0, back: 0, oneWay: [] as number[], roundTrip: [] as number[] };
const inWindow = (sentAt: number) => sentAt >= window.start && sentAt < window.end;

function nextMessage<T>(child: ChildProcess, match: (m: { type?: string; id?: number }) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type?: string; id?: number }) => {
      if (!match(m)) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

async function serverStats(child: ChildProcess): Promise<RelayServerStats> {
  const reply = nextMessage<RelayServerStats>(child, (m) => m.type === 'stats');
  child.send('stats');
  return reply;
}

let nextId = 0;
async function setUpCall(child: ChildProcess): Promise<Call> {
  const browser = new BrowserPeer();
  const phone = await UdpRtpPeer.open();
  phone.echo = true;
  phone.onRtp((r) => {
    if (transcoded) {
      if (inWindow(r.at)) window.atPhone++;
      return;
    }
    const sentAt = r.payload.readDoubleBE(0);
    if (!inWindow(sentAt)) return;
    window.atPhone++;
    window.oneWay.push(performance.now() - sentAt);
  });
  browser.onRtp((r) => {
    if (transcoded) {
      if (inWindow(r.at)) window.back++;
      return;
    }
    const sentAt = r.payload.readDoubleBE(0);
    if (!inWindow(sentAt)) return;
    window.back++;
    window.roundTrip.push(performance.now() - sentAt);
  });
  const id = nextId++;
  const offer = await browser.createOffer();
  const reply = nextMessage<{ type: string; answer?: string; error?: string }>(child, (m) => m.id === id);
  child.send({ type: 'call', id, offer, phonePort: phone.port });
  const r = await reply;
  if (r.type !== 'answered') throw new Error(`call ${id} failed: ${r.error}`);
  await browser.setAnswer(r.answer!);
  await browser.connected(20_000);
  return { browser, phone, seq: 0, opus: transcoded ? opusFor(r.answer!) : [] };
}

/** Sends every slot that is due, catching up when a timer fired late, so each call keeps 50 packets/s. */
let slotCount = 0;
let nextSlotAt = performance.now();
function tick(calls: Call[]): void {
  while (performance.now() >= nextSlotAt) {
    const slot = slotCount++ % SLOTS;
    nextSlotAt += TICK_MS;
    for (let i = slot; i < calls.length; i += SLOTS) {
      const c = calls[i]!;
      const sentAt = performance.now();
      if (transcoded) c.browser.send(111, c.seq & 0xffff, (c.seq * 960) >>> 0, c.opus[c.seq % c.opus.length]!);
      else {
        const payload = g711Packet(0, c.seq, 0).payload;
        payload.writeDoubleBE(sentAt, 0);
        c.browser.send(0, c.seq & 0xffff, (c.seq * 160) >>> 0, payload);
      }
      c.seq++;
      if (inWindow(sentAt)) window.sent++;
    }
  }
}

const webrtcPorts = ['werift', 'native'].includes(process.env['MEDIA_BENCH_ENGINE'] ?? '') ? 'port-pairs' : process.env['MEDIA_BENCH_WEBRTC_PORTS'] ?? 'one-port';
if (webrtcPorts !== 'one-port' && webrtcPorts !== 'port-pairs') throw new Error(`MEDIA_BENCH_WEBRTC_PORTS: one-port or port-pairs, not ${webrtcPorts}`);
console.log(`machine: ${machine()}, node ${process.version}; browser media: ${webrtcPorts === 'one-port' ? 'one UDP port for all browsers (webrtcPort, ICE UDP mux)' : 'a WebRTC port pair per call'}`);
const child = fork(fileURLToPath(new URL('./media-relay-server.ts', import.meta.url)), [webrtcPorts], {
  execArgv: [
    '--import', 'tsx', '--expose-gc',
    ...(process.env.MEDIA_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MEDIA_BENCH_PROF}`] : []),
    ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter((x) => x !== '') ?? []),
  ],
});
await nextMessage(child, (m) => m.type === 'ready');
const idle = await serverStats(child);
const calls: Call[] = [];
const ticker = setInterval(() => tick(calls), TICK_MS);
const rows: string[] = [];
let held = 0;
try {
  for (const target of STEPS) {
    const setupStart = performance.now();
    const toAdd = target - calls.length;
    for (let i = 0; i < toAdd; i += SETUP_CONCURRENCY) {
      const batch = await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, toAdd - i) }, () => setUpCall(child)));
      calls.push(...batch);
    }
    const setupS = (performance.now() - setupStart) / 1000;
    await sleep(SETTLE_MS);
    const before = await serverStats(child);
    const threadsBefore = threadCpu(child.pid!);
    const loadBefore = process.cpuUsage();
    Object.assign(window, { start: performance.now(), end: Infinity, sent: 0, atPhone: 0, back: 0, oneWay: [], roundTrip: [] });
    await sleep(windowSeconds * 1000);
    window.end = performance.now();
    const elapsedUs = (window.end - window.start) * 1000;
    const after = await serverStats(child);
    const threadsAfter = threadCpu(child.pid!);
    const load = process.cpuUsage(loadBefore);
    await sleep(IN_FLIGHT_MS);
    const cpu = ((after.cpuUs - before.cpuUs) / elapsedUs) * 100;
    const loadCpu = ((load.user + load.system) / elapsedUs) * 100;
    const lossToSip = webrtcEcho ? 0 : 1 - window.atPhone / window.sent;
    const lossRoundTrip = 1 - window.back / window.sent;
    const row = [
      `${target} calls (${after.connected} connected, set up at ${(toAdd / setupS).toFixed(1)}/s)`,
      `server CPU ${cpu.toFixed(1)} % (${(cpu / target).toFixed(3)} %/call, ${((after.cpuUs - before.cpuUs) / (after.forwarded - before.forwarded)).toFixed(1)} µs per packet relayed, ` +
        `${((after.cpuUs - before.cpuUs) / window.back).toFixed(1)} µs per packet echoed back to a browser)`,
      `by thread (µs per packet relayed): ${threadSeconds(threadsBefore, threadsAfter).map(([name, sec]) => `${name} ${(sec * 1e6 / (after.forwarded - before.forwarded)).toFixed(1)}`).join(', ')}`,
      `event loop woke ${((after.wakeups - before.wakeups) / (elapsedUs / 1e6)).toFixed(0)}/s`,
      `RSS ${((after.rss - idle.rss) / target / MiB).toFixed(2)} MiB/call, heap ${((after.heapUsed - idle.heapUsed) / target / MiB).toFixed(2)} MiB/call`,
      `${webrtcEcho ? '' : `loss to SIP ${(lossToSip * 100).toFixed(3)} %, `}round trip ${(lossRoundTrip * 100).toFixed(3)} % of ${window.sent}`,
      ...(transcoded ? [`relay fell behind ${after.skippedTicks - before.skippedTicks} ticks, dropped ${after.lateDropped - before.lateDropped} late packets`] : [
        ...(webrtcEcho ? [] : [`one way p50 ${percentile(window.oneWay, 50).toFixed(2)} ms p99 ${percentile(window.oneWay, 99).toFixed(2)} ms`]),
        `round trip p50 ${percentile(window.roundTrip, 50).toFixed(2)} ms p99 ${percentile(window.roundTrip, 99).toFixed(2)} ms`,
      ]),
      `load client CPU ${loadCpu.toFixed(0)} %`,
    ].join('; ');
    console.log(row);
    rows.push(row);
    const lossless = transcoded
      ? after.skippedTicks === before.skippedTicks
      : (webrtcEcho || window.sent === window.atPhone) && window.sent === window.back;
    if (cpu <= CPU_LIMIT && lossless) held = target;
    if (!fixedSteps && (cpu > CPU_LIMIT || !lossless)) break;
  }
  console.log(`held at ≤ ${CPU_LIMIT} % of one core with no loss${transcoded ? ' of the relay\'s own (no skipped tick)' : ''}: ${held} calls`);
} finally {
  clearInterval(ticker);
  child.send('stop');
  await Promise.all(calls.map(async (c) => {
    await c.browser.close();
    await c.phone.close();
  }));
}
