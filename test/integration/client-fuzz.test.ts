/**
 * Seeded fuzzing of the client protocol (issue 10) against `callhook start` in a child process: random and mutated
 * frames on an established connection, and now and then as the first frame of a new one. The server must stay up,
 * and every frame must get what docs/client-protocol.md says it gets:
 *
 * - a frame the protocol refuses: `fail` with exactly the `info` of the refusal (decodeFrame, the server's own
 *   decoder, is the oracle), before anything sent after it is answered;
 * - an action (sendMessage, call, a call message): an answer naming its `id` or `callId` (a result or `fail`);
 * - ping, pong, notificationResult: nothing.
 *
 * After each frame a probe (`hangup` of a call that does not exist) is sent; its `fail` marks the end of what the
 * frame got at once. Iteration i uses seed BASE_SEED + i; FUZZ_SEED and FUZZ_ITERATIONS choose others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeFrame, FrameError } from '../../src/client-api/index.ts';
import { int, pick, prng } from '../support/prng.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { TestClient, type Frame } from '../support/ws-client.ts';

const BASE_SEED = Number(process.env['FUZZ_SEED'] ?? 0xc11e47);
const ITERATIONS = Number(process.env['FUZZ_ITERATIONS'] ?? 3000);
/** One in this many iterations opens a new connection and sends the frame first. */
const FIRST_FRAME_EVERY = 50;
const MAX_FRAME_BYTES = 65_536;
const ANSWER_MS = 10_000;

/** A minimal SDP: the calls it starts fail (no SIP identity, no ICE credentials), which is an answer too. */
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:0 PCMU/8000\r\n';

/** Valid frames of every message a client sends (the shapes SDK 2.0 and 1.x send); `#` becomes the iteration. */
const SEEDS: ReadonlyArray<{ message: string; data?: unknown[] }> = [
  { message: 'connection', data: [{ appKey: 'defaultApp', sipLogin: 'alice', sipDomain: 'example.com', sipPort: '5060', sipRegisterRequired: false, mediaProviders: ['WebRTC'], clientVersion: '2.0' }] },
  { message: 'sendMessage', data: [{ id: 'm#', to: 'bob', body: 'hello', contentType: 'text/plain' }] },
  { message: 'notificationResult', data: [{ id: 'n#', status: 'OK' }] },
  { message: 'call', data: [{ callId: 'c#', callee: 'bob', sdp: SDP, hasAudio: true, hasVideo: false, inviteParameters: { 'X-Tag': 'a' } }] },
  { message: 'answer', data: [{ callId: 'c#', sdp: SDP }] },
  { message: 'hangup', data: [{ callId: 'c#' }] },
  { message: 'hold', data: [{ callId: 'c#', holdForTransfer: false }] },
  { message: 'unhold', data: [{ callId: 'c#' }] },
  { message: 'sendDtmf', data: [{ callId: 'c#', dtmf: '12#', type: 'RFC2833' }] },
  { message: 'transfer', data: [{ callId: 'c#', target: 'carol' }] },
  { message: 'pong', data: [null] },
  { message: 'ping' },
];

const NAMES = [...SEEDS.map((s) => s.message), 'getUserData', 'fail', '', 'CONNECTION', 'sendmessage', '__proto__', 'constructor'];
const STRINGS = ['', ' ', 'x', '\u0000', '\r\n', '"', '\\', '\u2028', '😀', '%00', '<sip:a@b>', 'sip:bob@example.com', '12#', 'a'.repeat(1500), 'ünïcødé'];
const TEXT_SPECIALS = ['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', 'null', '-', '1e999', '\u0000', ' ', '\n'];

type R = () => number;

function randomValue(r: R, depth = 0): unknown {
  switch (int(r, depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick(r, [0, -1, 1.5, 65536, 1e308, Number.MAX_SAFE_INTEGER]);
    case 3:
    case 4: return pick(r, STRINGS);
    case 5: return pick(r, NAMES);
    case 6: return Array.from({ length: int(r, 4) }, () => randomValue(r, depth + 1));
    case 7:
    case 8: return Object.fromEntries(Array.from({ length: int(r, 4) }, () => [pick(r, [...STRINGS.slice(0, 10), 'id', 'callId', 'sdp', 'to']), randomValue(r, depth + 1)]));
  }
  return null;
}

/** The own value at key `k` of `v` (a key such as `__proto__` must not reach the prototype). */
function at(v: unknown, k: PropertyKey): unknown {
  return typeof v === 'object' && v !== null && Object.hasOwn(v, k) ? (v as Record<PropertyKey, unknown>)[k] : undefined;
}

/** Paths to every value inside `v` (objects and arrays). */
function paths(v: unknown, path: PropertyKey[] = [], out: PropertyKey[][] = []): PropertyKey[][] {
  out.push(path);
  if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) paths(at(v, k), [...path, k], out);
  return out;
}

const valueAt = (root: unknown, path: PropertyKey[]): unknown => path.reduce<unknown>(at, root);

function parentOf(root: unknown, path: PropertyKey[]): Record<PropertyKey, unknown> | undefined {
  const v = valueAt(root, path.slice(0, -1));
  return typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>) : undefined;
}

type Mutation = (frame: unknown, r: R) => unknown;

/** Mutations of the parsed frame: change, remove or add a value anywhere, or rename the message. */
const VALUE_MUTATIONS: Mutation[] = [
  (f, r) => {
    const path = pick(r, paths(f).filter((p) => p.length > 0));
    const parent = path && parentOf(f, path);
    if (parent) parent[path[path.length - 1]!] = randomValue(r);
    return f;
  },
  (f, r) => {
    const path = pick(r, paths(f).filter((p) => p.length > 0));
    const parent = path && parentOf(f, path);
    if (parent) delete parent[path[path.length - 1]!];
    return f;
  },
  (f, r) => {
    const objects = paths(f).map((p) => valueAt(f, p)).filter((v) => typeof v === 'object' && v !== null);
    const target = pick(r, objects) as Record<string, unknown> | undefined;
    if (target) target[pick(r, [...STRINGS.slice(0, 8), 'message', 'data', 'callId', 'id'])] = randomValue(r);
    return f;
  },
  (f, r) => ({ ...(f as object), message: pick(r, NAMES) }),
  (f, r) => ({ ...(f as object), data: randomValue(r) }),
  (_f, r) => randomValue(r),
];

/** Mutations of the text: what a broken or hostile client writes. */
const TEXT_MUTATIONS: Array<(t: string, r: R) => string> = [
  (t, r) => t.slice(0, int(r, t.length)),
  (t, r) => {
    const at = int(r, t.length);
    return t.slice(0, at) + pick(r, TEXT_SPECIALS) + t.slice(at + int(r, 3));
  },
  (t, r) => {
    const from = int(r, t.length);
    const at = int(r, t.length);
    return t.slice(0, at) + t.slice(from, from + 1 + int(r, 40)) + t.slice(at);
  },
  // A value nested past the depth limit (up to what fits a frame) as the first field of data[0].
  (t, r) => {
    const depth = 33 + int(r, 30_000);
    const deep = `"deep":${'['.repeat(depth)}${']'.repeat(depth)}`;
    const at = t.indexOf('[{');
    return at < 0 ? `{"message":"sendMessage","data":[{${deep}}]}` : `${t.slice(0, at + 2)}${deep},${t.slice(at + 2)}`;
  },
];

interface Generated {
  text: string;
  binary: boolean;
  applied: string;
}

function generate(seed: number, iteration: number): Generated {
  const r = prng(seed);
  if (r() < 0.02) return { text: '{"message":"sendMessage","data":[]}', binary: true, applied: 'binary' };
  let frame: unknown = JSON.parse(JSON.stringify(pick(r, SEEDS)).replaceAll('#', String(iteration)));
  const applied: string[] = [];
  const mutations = int(r, 4); // 0: the valid seed itself
  for (let k = 0; k < mutations; k++) {
    const m = int(r, VALUE_MUTATIONS.length);
    applied.push(`value${m}`);
    frame = VALUE_MUTATIONS[m]!(frame, r);
  }
  let text = JSON.stringify(frame) ?? 'undefined';
  if (r() < 0.3) {
    // Deep nesting rarely: it is abuse, which closes a connection that repeats it.
    const m = r() < 0.03 ? TEXT_MUTATIONS.length - 1 : int(r, TEXT_MUTATIONS.length - 1);
    applied.push(`text${m}`);
    text = TEXT_MUTATIONS[m]!(text, r);
  }
  return { text, binary: false, applied: applied.join('+') || 'none' };
}

/** What the server must answer: a refusal (its info), an answer naming a key, or nothing. */
type Expected = { kind: 'fail'; info: string } | { kind: 'answer'; key: string } | { kind: 'nothing' };

function expected(g: Generated, established: boolean): Expected {
  if (Buffer.byteLength(g.text) > MAX_FRAME_BYTES) return { kind: 'fail', info: `frame of ${Buffer.byteLength(g.text)} bytes is over the limit of ${MAX_FRAME_BYTES} bytes` };
  if (g.binary) return { kind: 'fail', info: 'binary frames are not part of the protocol: send JSON text' };
  let frame;
  try {
    frame = decodeFrame(g.text);
  } catch (e) {
    if (e instanceof FrameError) return { kind: 'fail', info: e.info };
    throw e;
  }
  if (frame.message === 'ping' || frame.message === 'pong') return { kind: 'nothing' };
  if (!established) {
    return frame.message === 'connection' ? { kind: 'answer', key: 'connection' } : { kind: 'fail', info: `the first message must be "connection", not "${frame.message}"` };
  }
  switch (frame.message) {
    case 'notificationResult':
      return { kind: 'nothing' };
    case 'connection':
      return { kind: 'fail', info: 'connection: this connection is already established' };
    case 'sendMessage':
      return { kind: 'answer', key: frame.request.id };
    default:
      return { kind: 'answer', key: frame.request.callId };
  }
}

/** The id or callId a server frame is about (setRemoteSDP carries the callId itself as data[0]). */
function keyOf(f: Frame): string | undefined {
  const first = f.data[0];
  if (typeof first === 'string') return first;
  if (typeof first !== 'object' || first === null) return undefined;
  const o = first as Record<string, unknown>;
  return typeof o['id'] === 'string' ? o['id'] : typeof o['callId'] === 'string' ? o['callId'] : undefined;
}

/** Refusals that are abuse: repeated past a burst, they close the connection (docs/client-protocol.md "Bad input"). */
const ABUSE = /^frame (nests JSON deeper|of \d+ bytes is over)/;

const probeInfo = (i: number) => `hangup: no call probe-${i} in this session`;

describe('fuzzing the client protocol (seeded, against the server process)', () => {
  let sp: CallhookProcess;
  before(async () => {
    // Every frame is read: the rate limits are the subject of other tests.
    sp = await startCallhookProcess({ wsMessagesPerSecond: 1_000_000, wsMessagesPerSecondPerIp: 1_000_000 });
  });
  after(async () => {
    await sp?.stop();
  });

  it(`answers each of ${ITERATIONS} random and mutated frames as the protocol says, and stays up`, async (t) => {
    const tally = { fail: 0, answer: 0, nothing: 0, firstFrame: 0, closedForAbuse: 0 };
    const established = async (): Promise<TestClient> => {
      const c = await TestClient.open(sp.wsUrl);
      c.send('connection', {});
      await c.expect('getUserData');
      return c;
    };
    let client = await established();
    /** Keys of actions answered already: their later frames (a finish after a fail) are no news. */
    const answered = new Set<string>();
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = (BASE_SEED + i) >>> 0;
      const g = generate(seed, i);
      const where = `seed ${seed} (FUZZ_SEED=${seed} FUZZ_ITERATIONS=1), mutations ${g.applied}, frame ${JSON.stringify(g.text.slice(0, 300))}`;
      if (i % FIRST_FRAME_EVERY === 0) {
        tally.firstFrame++;
        await firstFrame(g, where);
        continue;
      }
      const want = expected(g, true);
      tally[want.kind]++;
      const from = client.frames.length;
      client.sendRaw(g.text, g.binary);
      client.sendRaw(`{"message":"hangup","data":[{"callId":"probe-${i}"}]}`);
      const info = (f: Frame) => (f.message === 'fail' ? (f.data[0] as Record<string, unknown>)['info'] : undefined);
      let got: Frame[];
      try {
        got = await framesUntil(client, from, (f) => info(f) === probeInfo(i));
      } catch (e) {
        const closed = client.isOpen ? undefined : await client.closed;
        // Abuse (too deep, too large) repeated past the burst closes the connection, as documented: go on anew.
        if (want.kind === 'fail' && ABUSE.test(want.info) && closed?.reason === 'too many refused frames') {
          assert.ok(client.frames.slice(from).some((f) => info(f) === want.info), `${where}: closed without the fail`);
          tally.closedForAbuse++;
          client = await established();
          continue;
        }
        assert.fail(`${where}: the probe after it got no answer (${(e as Error).message}); server ${sp.status ?? 'running'}`);
      }
      if (want.kind === 'fail') {
        assert.equal(got.filter((f) => info(f) === want.info).length, 1, `${where}: expected one fail "${want.info}", got ${got.map((f) => f.raw).join(' ')}`);
      } else if (want.kind === 'nothing') {
        // Late news of actions answered before (a finish after a fail) may come; nothing else may.
        const news = got.filter((f) => f.message !== 'ping' && info(f) !== probeInfo(i) && !answered.has(keyOf(f) ?? ''));
        assert.deepEqual(news.map((f) => f.raw), [], `${where}: expected no answer`);
      } else {
        try {
          await framesUntil(client, from, (f) => keyOf(f) === want.key);
        } catch {
          assert.fail(`${where}: no answer naming ${want.key} within ${ANSWER_MS} ms`);
        }
        answered.add(want.key);
      }
      assert.ok(client.isOpen, `${where}: the connection was closed`);
    }
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    assert.equal(sp.status, undefined, 'the server is still running');
    // The generator must exercise every outcome, or the test proves little.
    assert.ok(tally.fail > ITERATIONS / 5 && tally.answer > ITERATIONS / 20 && tally.nothing > ITERATIONS / 100, JSON.stringify(tally));
    await client.close();

    /** A new connection whose first frame is `g`: getUserData for a valid connection, else `fail` and the close. */
    async function firstFrame(g: Generated, where: string): Promise<void> {
      const fresh = await TestClient.open(sp.wsUrl);
      const want = expected(g, false);
      fresh.sendRaw(g.text, g.binary);
      if (want.kind === 'nothing') {
        await fresh.close(); // ping or pong: the server waits for the connection message
        return;
      }
      const first = await fresh.next(ANSWER_MS).catch((e: unknown) => assert.fail(`${where}: ${(e as Error).message}`));
      if (want.kind === 'fail') {
        assert.deepEqual([first.message, (first.data[0] as Record<string, unknown>)['info']], ['fail', want.info], where);
        assert.equal((await fresh.closed).code, 1008, where);
        return;
      }
      // A connection: established, or refused by the gateway (its SIP settings) with fail and the close.
      if (first.message === 'fail') assert.equal((await fresh.closed).code, 1008, where);
      else assert.equal(first.message, 'getUserData', where);
      await fresh.close();
    }
  });
});

/** Waits for a frame at or after index `from` that `match`es; returns the frames up to it. */
async function framesUntil(c: TestClient, from: number, match: (f: Frame) => boolean): Promise<Frame[]> {
  const deadline = Date.now() + ANSWER_MS;
  for (;;) {
    const at = c.frames.findIndex((f, k) => k >= from && match(f));
    if (at >= 0) return c.frames.slice(from, at + 1);
    if (Date.now() > deadline || !c.isOpen) throw new Error(`nothing within ${ANSWER_MS} ms (socket ${c.isOpen ? 'open' : 'closed'})`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
