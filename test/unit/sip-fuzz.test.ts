/**
 * Bounded, seeded fuzzing of the SIP parser and stream framer ("Bad input", issue 2): random mutations of valid
 * messages must end either in a message or in a SipParseError — never another exception, never a hang. Whatever
 * parses must also round-trip and read through the typed header views the parser vouched for.
 *
 * Deterministic: iteration i runs on seed BASE_SEED + i, printed on failure. Another base can be tried with
 * FUZZ_SEED=<n> (and more iterations with FUZZ_ITERATIONS=<n>).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipParseError } from '../../src/sip/errors.ts';
import {
  getCallId, getContacts, getCSeq, getFrom, getMaxForwards, getTo, getVias, parseMessage, serializeMessage,
  StreamFramer, type SipMessage,
} from '../../src/sip/message/index.ts';
import { prng } from '../support/prng.ts';

const BASE_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed4475);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 12_000);
const TIME_LIMIT_MS = 30_000;

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function withBody(head: string[], body: string): Buffer {
  return Buffer.from(`${head.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

const SEEDS: Buffer[] = [
  withBody([
    'INVITE sip:bob@biloxi.example.com;transport=udp SIP/2.0',
    'Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: "Bob \\"B\\"" <sip:bob@biloxi.example.com>',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.101:5060;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
    'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
    'Supported: replaces, timer',
    'Content-Type: application/sdp',
  ], SDP),
  withBody([
    'SIP/2.0 401 Unauthorized',
    'v: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds7;received=192.0.2.4;rport=5070',
    't: <sip:alice@atlanta.example.com>;tag=a6c85cf',
    'f: <sip:alice@atlanta.example.com>;tag=1928301774',
    'i: 1j9FpLxk3uxtm8tn@192.0.2.4',
    'CSeq: 1 REGISTER',
    'WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5',
  ], ''),
  withBody([
    'MESSAGE sip:user2@domain.com SIP/2.0',
    'Via: SIP/2.0/UDP user1pc.domain.com',
    '  ;branch=z9hG4bK776sgdkse',
    'Max-Forwards: 70',
    'From: sip:user1@domain.com;tag=49583',
    'To: sip:user2@domain.com',
    'Call-ID: asd88asd77a@1.2.3.4',
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain;charset=UTF-8',
  ], 'Watson, come here. Привет ☎'),
];

const SPECIALS = ['\r', '\n', '\r\n', '\r\n ', ' ', '\t', ':', ';', ',', '"', '\\', '<', '>', '%', '%0', '@', '[', ']', '=', '?', '\0', '/'];
const BAD_UTF8 = [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0x80]];

type Mutation = (b: Buffer, r: () => number) => Buffer;
const int = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATIONS: [string, Mutation][] = [
  ['flip', (b, r) => {
    const c = Buffer.from(b);
    for (let k = 1 + int(r, 8); k > 0; k--) c[int(r, c.length)] = int(r, 256);
    return c;
  }],
  ['truncate', (b, r) => b.subarray(0, int(r, b.length))],
  ['duplicate', (b, r) => {
    const from = int(r, b.length);
    const piece = b.subarray(from, from + 1 + int(r, 200));
    const at = int(r, b.length);
    return Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
  }],
  ['splice', (b, r) => {
    const other = SEEDS[int(r, SEEDS.length)]!;
    const from = int(r, other.length);
    const at = int(r, b.length);
    return Buffer.concat([b.subarray(0, at), other.subarray(from, from + int(r, 300)), b.subarray(at + int(r, 50))]);
  }],
  ['special', (b, r) => {
    const at = int(r, b.length);
    const s = Buffer.from(SPECIALS[int(r, SPECIALS.length)]!);
    return Buffer.concat([b.subarray(0, at), s, b.subarray(at + int(r, 2))]);
  }],
  ['bad-utf8', (b, r) => {
    const at = int(r, b.indexOf('\r\n\r\n') + 1);
    return Buffer.concat([b.subarray(0, at), Buffer.from(BAD_UTF8[int(r, BAD_UTF8.length)]!), b.subarray(at)]);
  }],
  ['huge-header', (b, r) => {
    const at = b.indexOf('\r\n') + 2;
    const size = [1000, 60_000, 66_000, 200_000][int(r, 4)]!;
    return Buffer.concat([b.subarray(0, at), Buffer.from(`X-Huge: ${'a'.repeat(size)}\r\n`), b.subarray(at)]);
  }],
  ['content-length', (b, r) => {
    const values = ['-1', '0', '1', '99999999999', '4294967296', '', ' 12', '0x10', String(int(r, 2000))];
    return Buffer.from(b.toString('latin1').replace(/Content-Length: \d+/, `Content-Length: ${values[int(r, values.length)]}`), 'latin1');
  }],
  ['drop-line', (b, r) => {
    const lines = b.toString('latin1').split('\r\n');
    lines.splice(1 + int(r, lines.length - 1), 1);
    return Buffer.from(lines.join('\r\n'), 'latin1');
  }],
  ['repeat-line', (b, r) => {
    const lines = b.toString('latin1').split('\r\n');
    const k = 1 + int(r, Math.max(1, lines.indexOf('') - 1));
    lines.splice(k, 0, lines[k]!);
    return Buffer.from(lines.join('\r\n'), 'latin1');
  }],
];

function mutate(r: () => number): { input: Buffer; applied: string[] } {
  let input = SEEDS[int(r, SEEDS.length)]!;
  const applied: string[] = [];
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const [name, fn] = MUTATIONS[int(r, MUTATIONS.length)]!;
    applied.push(name);
    input = fn(input, r);
  }
  return { input, applied };
}

/** A message that parsed is vouched for: it round-trips and its core headers read through the typed views. */
function checkParsed(m: SipMessage): void {
  const again = parseMessage(serializeMessage(m));
  assert.deepEqual(again, m);
  getVias(m);
  getFrom(m);
  getTo(m);
  getCallId(m);
  getCSeq(m);
  getMaxForwards(m);
  getContacts(m);
}

/** Runs `fn`; a SipParseError is an accepted outcome, anything else fails the test. */
function outcome(fn: () => void): 'ok' | 'rejected' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof SipParseError) return 'rejected';
    throw e;
  }
}

describe('fuzzing the SIP parser and framer (seeded)', () => {
  it(`survives ${ITERATIONS} random mutations of valid messages`, (t) => {
    const t0 = Date.now();
    const tally = { ok: 0, rejected: 0, framed: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = (BASE_SEED + i) >>> 0;
      const r = prng(seed);
      const { input, applied } = mutate(r);
      try {
        tally[outcome(() => checkParsed(parseMessage(input)))]++;
        // The same bytes as a stream, cut into random chunks, followed by a valid message.
        const framer = new StreamFramer();
        const stream = Buffer.concat([input, SEEDS[0]!]);
        outcome(() => {
          for (let at = 0; at < stream.length;) {
            const next = at + 1 + int(r, 400);
            for (const framed of framer.push(stream.subarray(at, next))) {
              tally.framed++;
              outcome(() => checkParsed(parseMessage(framed)));
            }
            at = next;
          }
        });
      } catch (e) {
        assert.fail(`seed ${seed} (FUZZ_SEED=${seed} FUZZ_ITERATIONS=1), mutations ${applied.join('+')}: ${(e as Error).stack}\n` +
          `input: ${JSON.stringify(input.toString('latin1').slice(0, 2000))}`);
      }
      assert.ok(Date.now() - t0 < TIME_LIMIT_MS, `still running after ${TIME_LIMIT_MS} ms at iteration ${i} (seed ${seed})`);
    }
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    // The mutations must exercise both outcomes, or the test proves nothing.
    assert.ok(tally.ok > ITERATIONS / 50, `too few mutated messages parsed: ${JSON.stringify(tally)}`);
    assert.ok(tally.rejected > ITERATIONS / 5, `too few mutated messages rejected: ${JSON.stringify(tally)}`);
    assert.ok(tally.framed > ITERATIONS, `the framer handed out too few messages: ${JSON.stringify(tally)}`);
  });
});
