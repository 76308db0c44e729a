/**
 * What the per-session timeline recorder (src/gateway/timeline.ts) costs per call, measured alone: CPU time per
 * session and its memory, for one registered session that makes one call (the steps a real one records: the
 * browser's frames, 10 hook attempts, 22 SIP messages both ways with an INVITE and SDP, 4 media states). The
 * SIP messages are parsed once up front (the stack parses them anyway); sending ones are serialised by the recorder,
 * as in the server. The figure is compared with callhook's CPU per call in the concurrent-calls benchmark
 * (docs/benchmarks.md), where the machine's load makes a difference of a few per cent unmeasurable.
 *
 * Then what a registered session holds while it lives (docs/console.md "What is kept"): LIVE sessions, each with
 * one registration (the `connect` and event hooks, REGISTER, 401, REGISTER, 200), measured after it and again after
 * REFRESHES refresh rounds (REGISTER, 200) each; every received message in a buffer of its own, as the UDP socket
 * hands them over.
 *
 *   node --expose-gc --import tsx bench/timeline.ts [sessions=20000] [refreshes=100]
 */
import { logBody } from '../src/hooks/hook-log-body.ts';
import { TimelineRecorder } from '../src/gateway/timeline.ts';
import { messageText, parseMessage, serializeMessage } from '../src/sip/message/index.ts';
import type { SipMessage } from '../src/sip/message/message.ts';
import { machine, percentile } from './hooks-common.ts';

const SESSIONS = Number(process.argv[2] ?? 20_000);
const REFRESHES = Number(process.argv[3] ?? 100);
const LIVE = 2000;
const RUNS = 5;
const PEER = { address: '192.0.2.10', port: 5060 };

const sdp = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', ''].join('\r\n');

function message(first: string, callId: string, method: string, extra: string[] = [], body = ''): SipMessage {
  return parseMessage(
    Buffer.from(
      [
        first,
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport',
        'Max-Forwards: 70',
        'To: <sip:bob@pbx.example.com>',
        'From: <sip:alice@pbx.example.com>;tag=1928301774',
        `Call-ID: ${callId}`,
        `CSeq: 1 ${method}`,
        'Contact: <sip:5f2c7a1e9b@192.0.2.1:5060>',
        'User-Agent: callhook/0.1.0',
        ...extra,
        ...(body === '' ? [] : ['Content-Type: application/sdp']),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    ),
  );
}

/** One call's SIP traffic, as [direction, message]: registration (with its digest round), INVITE with auth, BYE. */
function traffic(reg: string, call: string): ['in' | 'out', SipMessage][] {
  const auth = ['Authorization: Digest username="alice", realm="pbx", nonce="abc", uri="sip:pbx", response="0123456789abcdef"'];
  return [
    ['out', message('REGISTER sip:pbx.example.com SIP/2.0', reg, 'REGISTER')],
    ['in', message('SIP/2.0 401 Unauthorized', reg, 'REGISTER', ['WWW-Authenticate: Digest realm="pbx", nonce="abc"'])],
    ['out', message('REGISTER sip:pbx.example.com SIP/2.0', reg, 'REGISTER', auth)],
    ['in', message('SIP/2.0 200 OK', reg, 'REGISTER')],
    ['out', message('INVITE sip:bob@pbx.example.com SIP/2.0', call, 'INVITE', [], sdp)],
    ['in', message('SIP/2.0 407 Proxy Authentication Required', call, 'INVITE')],
    ['out', message('ACK sip:bob@pbx.example.com SIP/2.0', call, 'ACK')],
    ['out', message('INVITE sip:bob@pbx.example.com SIP/2.0', call, 'INVITE', auth, sdp)],
    ['in', message('SIP/2.0 100 Trying', call, 'INVITE')],
    ['in', message('SIP/2.0 180 Ringing', call, 'INVITE')],
    ['in', message('SIP/2.0 200 OK', call, 'INVITE', [], sdp)],
    ['out', message('ACK sip:bob@192.0.2.10 SIP/2.0', call, 'ACK')],
    ['out', message('BYE sip:bob@192.0.2.10 SIP/2.0', call, 'BYE')],
    ['in', message('SIP/2.0 200 OK', call, 'BYE')],
    ['out', message('REGISTER sip:pbx.example.com SIP/2.0', reg, 'REGISTER', auth)],
    ['in', message('SIP/2.0 200 OK', reg, 'REGISTER')],
  ];
}

const sip = traffic('reg-1@pbx', 'call-1@pbx');
const raws = new Map(sip.map(([, m]) => [m, Buffer.from('SIP/2.0 200 OK\r\n\r\n')]));
// The hook engine hands the recorder the hook log's bodies, redacted and bounded once per attempt (its cost is the
// engine's, with the recorder on or off).
const hookBody = logBody(JSON.stringify({ nodeId: 'n@1', appKey: 'app', sessionId: '/1/2', sipLogin: 'alice', sipPassword: 'x', callId: 'c', status: 'ESTABLISHED' }), 4096);
const HOOKS = ['connect', 'ConnectionStatusEvent', 'RegistrationStatusEvent', 'call', 'CallStatusEvent', 'CallStatusEvent', 'CallStatusEvent', 'CallStatusEvent', 'ConnectionStatusEvent', 'RegistrationStatusEvent'];

function oneSession(r: TimelineRecorder, i: number): void {
  const sessionId = `/10.0.${(i >> 8) & 255}.${i & 255}:40000/192.0.2.1:8080`;
  const t = r.open(sessionId, 'app');
  t.fromClient('connection');
  t.trackSip('reg-1@pbx');
  t.trackSip('call-1@pbx');
  for (const method of HOOKS) {
    r.hookAttempt({ time: Date.now(), appKey: 'app', sessionId, method, url: `http://127.0.0.1:9000/${method}`, status: 200, latencyMs: 3, error: null, requestBody: hookBody, responseBody: hookBody });
  }
  for (const [direction, m] of sip) r.sipObserver(direction, m, PEER, direction === 'in' ? raws.get(m)! : serializeMessage(m));
  t.fromClient('call', 'c');
  for (const s of ['connecting', 'connected']) t.media('c', `ICE/DTLS ${s}`);
  t.media('c', 'media start', 'PCMU');
  for (const type of ['established', 'registered'] as const) t.toClient(type === 'established' ? { type, userData: {} } : { type, event: { info: 'SIP 200 OK' } });
  t.toClient({ type: 'callStatus', call: { callId: 'c', status: 'ESTABLISHED' } });
  t.media('c', 'media stop', '3000 packets');
  r.close(t);
}

console.log(`machine: ${machine()}, node ${process.version}`);
const perSession: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const r = new TimelineRecorder({ keepEnded: 200, maxSteps: 500, maxBytes: 16_384 });
  const before = process.cpuUsage();
  for (let i = 0; i < SESSIONS; i++) oneSession(r, i);
  const used = process.cpuUsage(before);
  perSession.push((used.user + used.system) / SESSIONS);
}
const steps = new TimelineRecorder({ keepEnded: 1, maxSteps: 500, maxBytes: 16_384 });
oneSession(steps, 0);
const stepCount = steps.list()[0]!.steps;

// Memory: keepEnded sessions held, measured as heap growth.
function keptSessionHeap(): number {
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const held = new TimelineRecorder({ keepEnded: 2000, maxSteps: 500, maxBytes: 16_384 });
  for (let i = 0; i < 2000; i++) oneSession(held, i);
  globalThis.gc?.();
  const grown = process.memoryUsage().heapUsed - heap0;
  return held.list().length > 0 ? grown / 2000 : 0;
}
const heapPer = keptSessionHeap();

const median = percentile([...perSession].sort((a, b) => a - b), 50);
console.log(`${SESSIONS} sessions × ${RUNS} runs; ${stepCount} steps per session (one registration, one call)`);
console.log(`CPU per session: median ${median.toFixed(1)} µs (runs: ${perSession.map((v) => v.toFixed(1)).join(', ')} µs)`);
console.log(`memory per kept session: ${(heapPer / 1024).toFixed(1)} KiB${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`);

// A registered session that lives: its memory after the registration, then after REFRESHES refreshes.
/** Session i's registration as [direction, message]: REGISTER, 401, REGISTER, 200, then a refresh, REGISTER, 200. */
function registration(i: number): ['in' | 'out', SipMessage][] {
  const all = traffic(`reg-${i}@pbx`, 'unused');
  return [all[0]!, all[1]!, all[2]!, all[3]!, all[14]!, all[15]!];
}
/** A received message in a buffer of its own (unpooled), as a datagram arrives. */
function received(m: SipMessage): Buffer {
  const text = messageText(m);
  const b = Buffer.alloc(Buffer.byteLength(text));
  b.write(text);
  return b;
}
const feed = (r: TimelineRecorder, [direction, m]: ['in' | 'out', SipMessage]) => r.sipObserver(direction, m, PEER, received(m));
const memory = async () => {
  // Twice, a turn apart: a buffer's memory is released after the collection that found it unreachable.
  globalThis.gc?.();
  await new Promise((r) => setImmediate(r));
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
};
const live = new TimelineRecorder({ keepEnded: 1, maxSteps: 500, maxBytes: 16_384 });
const sessionIds = Array.from({ length: LIVE }, (_, i) => `/10.1.${(i >> 8) & 255}.${i & 255}:40000/192.0.2.1:8080`);
const m0 = await memory();
for (const [i, sessionId] of sessionIds.entries()) {
  const t = live.open(sessionId, 'app');
  t.fromClient('connection');
  t.trackSip(`reg-${i}@pbx`, true);
  live.hookAttempt({ time: Date.now(), appKey: 'app', sessionId, method: 'connect', url: 'http://127.0.0.1:9000/connect', status: 200, latencyMs: 3, error: null, requestBody: hookBody, responseBody: hookBody });
  t.toClient({ type: 'established', userData: {} });
  for (const step of registration(i).slice(0, 4)) feed(live, step);
  t.toClient({ type: 'registered', event: { info: 'SIP 200 OK' } });
  for (const method of ['ConnectionStatusEvent', 'RegistrationStatusEvent']) {
    live.hookAttempt({ time: Date.now(), appKey: 'app', sessionId, method, url: `http://127.0.0.1:9000/${method}`, status: 200, latencyMs: 3, error: null, requestBody: hookBody, responseBody: hookBody });
  }
}
const m1 = await memory();
for (let i = 0; i < LIVE; i++) {
  const refresh = registration(i).slice(4);
  for (let n = 0; n < REFRESHES; n++) for (const step of refresh) feed(live, step);
}
const m2 = await memory();
const grown = (a: { heap: number; buffers: number }, b: { heap: number; buffers: number }) =>
  `${((b.heap - a.heap) / LIVE / 1024).toFixed(1)} KiB heap + ${((b.buffers - a.buffers) / LIVE / 1024).toFixed(1)} KiB buffers`;
const stepsHeld = live.view(sessionIds[0]!)!.timeline.length;
console.log(`${LIVE} live registered sessions; ${stepsHeld} steps each after the registration and ${REFRESHES} refreshes`);
console.log(`memory per live session after its registration: ${grown(m0, m1)}`);
console.log(`memory per live session after ${REFRESHES} refreshes: ${grown(m0, m2)}`);
