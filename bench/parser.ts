/**
 * SIP parser and serializer throughput on one core (issue 2 target: ≥ 100,000 INVITEs with SDP parsed and
 * serialized per second). Run: node --import tsx bench/parser.ts
 */
import { cpus } from 'node:os';
import { parseMessage, serializeMessage } from '../src/sip/message/index.ts';

const sdp = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.101',
  's=-',
  'c=IN IP4 192.0.2.101',
  't=0 0',
  'm=audio 49172 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

/** A typical INVITE as a softphone sends it: 12 headers, one Via, SDP offer. */
const invite = Buffer.from(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'To: "Bob" <sip:bob@biloxi.example.com>',
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.101:5060;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY, REFER, INFO, UPDATE',
    'Supported: replaces, timer, 100rel',
    'User-Agent: callhook-bench/1.0',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n'),
);

/**
 * Runs `fn` in timed batches after a warm-up and reports the best batch (the machine's capability, least disturbed
 * by other processes) and the median (what to expect under ordinary load).
 */
function measure(name: string, fn: () => void): void {
  for (let i = 0; i < 50_000; i++) fn(); // warm-up: let the JIT settle
  const batch = 50_000;
  const rates: number[] = [];
  for (let b = 0; b < 10; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    rates.push(batch / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  rates.sort((x, y) => x - y);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
  console.log(`${name.padEnd(16)} best ${fmt(rates[rates.length - 1]!)} ops/s   median ${fmt(rates[5]!)} ops/s`);
}

const parsed = parseMessage(invite);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}`);
console.log(`message: INVITE with SDP, ${invite.length} bytes, ${parsed.headers.fields.length + 1} headers`);
measure('parse', () => parseMessage(invite));
measure('serialize', () => serializeMessage(parsed));
measure('parse+serialize', () => serializeMessage(parseMessage(invite)));
