/**
 * src/media/ice/stun.ts against RFC 5769's test vectors (typed in from the RFC's §2.1–2.3), its own round trips, and
 * malformed datagrams, each of which must be refused with a StunError that says what was wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BINDING, ERROR_CODE, FINGERPRINT, ICE_CONTROLLED, MESSAGE_INTEGRITY, PRIORITY, StunError, USERNAME, XOR_MAPPED_ADDRESS,
  bindingError, bindingSuccess, checkFingerprint, checkMessageIntegrity, crc32, isStunMessage, parseStun, serializeStun,
  stunAttribute,
} from '../../src/media/ice/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 5769 §2.1: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY", MESSAGE-INTEGRITY, FINGERPRINT. */
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
/** RFC 5769 §2.2: SOFTWARE, XOR-MAPPED-ADDRESS 192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT. */
const SAMPLE_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
/** RFC 5769 §2.3: the same with XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
const SAMPLE_IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
const PASSWORD = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');

/** The same bytes with one byte changed. */
function flipped(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at]! ^= 0x01;
  return copy;
}

describe('STUN (RFC 8489)', () => {
  it('computes the IEEE CRC-32 (check value of "123456789"), also in pieces', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('6789'), crc32(Buffer.from('12345'))), 0xcbf43926);
  });

  it('parses the RFC 5769 sample request and checks its integrity and fingerprint', () => {
    const m = parseStun(SAMPLE_REQUEST);
    assert.equal(m.method, BINDING);
    assert.equal(m.class, 'request');
    assert.deepEqual(m.transactionId, hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae'));
    assert.deepEqual(m.attributes.map((a) => a.type), [0x8022, PRIORITY, ICE_CONTROLLED, USERNAME, MESSAGE_INTEGRITY, FINGERPRINT]);
    assert.equal(stunAttribute(m, USERNAME)!.value.toString(), 'evtj:h6vY');
    assert.equal(stunAttribute(m, MESSAGE_INTEGRITY)!.offset, 0x58 + 20 - 24 - 8);
    assert.equal(checkMessageIntegrity(m, PASSWORD), true);
    assert.equal(checkMessageIntegrity(m, Buffer.from('VOkJxbRl1RmTxUk/WvJxBT')), false);
    assert.equal(checkFingerprint(m), true);
  });

  for (const [name, response, address] of [
    ['IPv4', SAMPLE_IPV4_RESPONSE, '192.0.2.1'],
    ['IPv6', SAMPLE_IPV6_RESPONSE, '2001:db8:1234:5678:11:2233:4455:6677'],
  ] as const) {
    it(`checks the RFC 5769 sample ${name} response and writes its XOR-MAPPED-ADDRESS`, () => {
      const m = parseStun(response);
      assert.equal(m.class, 'success');
      assert.equal(checkMessageIntegrity(m, PASSWORD), true);
      assert.equal(checkFingerprint(m), true);
      const ours = parseStun(bindingSuccess(parseStun(SAMPLE_REQUEST), { address, port: 32853 }, PASSWORD));
      assert.deepEqual(stunAttribute(ours, XOR_MAPPED_ADDRESS)!.value, stunAttribute(m, XOR_MAPPED_ADDRESS)!.value);
    });
  }

  it('writes the IPv6 shorthand and IPv4-mapped forms a socket reports', () => {
    const request = parseStun(SAMPLE_REQUEST);
    const xma = (address: string) => stunAttribute(parseStun(bindingSuccess(request, { address, port: 1 }, PASSWORD)), XOR_MAPPED_ADDRESS)!.value;
    assert.deepEqual(xma('2001:db8::1'), xma('2001:0db8:0:0:0:0:0:1'));
    assert.deepEqual(xma('::ffff:192.0.2.1'), xma('::ffff:c000:201'));
    assert.throws(() => xma('not-an-address'), StunError);
  });

  it('writes a success response that parses back, signed and fingerprinted', () => {
    const request = parseStun(SAMPLE_REQUEST);
    const out = bindingSuccess(request, { address: '127.0.0.1', port: 50000 }, Buffer.from('pwd'));
    assert.equal(isStunMessage(out), true);
    const m = parseStun(out);
    assert.equal(m.method, BINDING);
    assert.equal(m.class, 'success');
    assert.deepEqual(m.transactionId, request.transactionId);
    assert.deepEqual(m.attributes.map((a) => a.type), [XOR_MAPPED_ADDRESS, MESSAGE_INTEGRITY, FINGERPRINT]);
    assert.equal(checkMessageIntegrity(m, Buffer.from('pwd')), true);
    assert.equal(checkFingerprint(m), true);
  });

  it('writes an error response with ERROR-CODE, signed only when given a key', () => {
    const request = parseStun(SAMPLE_REQUEST);
    const unsigned = parseStun(bindingError(request, 401, 'Unauthorized'));
    assert.equal(unsigned.class, 'error');
    assert.deepEqual(unsigned.attributes.map((a) => a.type), [ERROR_CODE, FINGERPRINT]);
    const code = stunAttribute(unsigned, ERROR_CODE)!.value;
    assert.deepEqual([code[2], code[3], code.subarray(4).toString()], [4, 1, 'Unauthorized']);
    assert.equal(checkFingerprint(unsigned), true);
    const signed = parseStun(bindingError(request, 487, 'Role Conflict', PASSWORD));
    assert.deepEqual(signed.attributes.map((a) => a.type), [ERROR_CODE, MESSAGE_INTEGRITY, FINGERPRINT]);
    assert.deepEqual([...stunAttribute(signed, ERROR_CODE)!.value.subarray(2, 4)], [4, 87]);
    assert.equal(checkMessageIntegrity(signed, PASSWORD), true);
  });

  it('round-trips every class and a method above 0x00f through the type bits', () => {
    for (const cls of ['request', 'indication', 'success', 'error'] as const) {
      const out = serializeStun({ method: 0xabc, class: cls, transactionId: Buffer.alloc(12, 7), attributes: [{ type: 0x0006, value: Buffer.from('a') }] });
      const m = parseStun(out);
      assert.deepEqual([m.method, m.class, m.attributes[0]!.value.toString()], [0xabc, cls, 'a']);
    }
  });

  it('ignores attributes after MESSAGE-INTEGRITY other than FINGERPRINT (§14.5)', () => {
    const signed = serializeStun({ method: BINDING, class: 'request', transactionId: Buffer.alloc(12), attributes: [] }, PASSWORD);
    // USERNAME slipped in between MESSAGE-INTEGRITY and FINGERPRINT, the lengths fixed up
    const injected = Buffer.concat([signed.subarray(0, 44), hex('00 06 00 04 65 76 69 6c'), signed.subarray(44)]);
    injected.writeUInt16BE(injected.length - 20, 2);
    const m = parseStun(injected);
    assert.deepEqual(m.attributes.map((a) => a.type), [MESSAGE_INTEGRITY, FINGERPRINT]);
    assert.equal(checkMessageIntegrity(m, PASSWORD), true);
    assert.equal(checkFingerprint(m), false);
  });

  describe('malformed', () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['shorter than a header', SAMPLE_REQUEST.subarray(0, 19), /19 bytes < 20/],
      ['with a top bit set (RTP, RFC 7983)', Buffer.concat([hex('80'), SAMPLE_REQUEST.subarray(1)]), /top bits/],
      ['without the magic cookie (RFC 3489)', flipped(SAMPLE_REQUEST, 7), /magic cookie/],
      ['truncated', SAMPLE_REQUEST.subarray(0, SAMPLE_REQUEST.length - 4), /does not match/],
      ['with a length not a multiple of 4', Buffer.concat([hex('00 01 00 02'), SAMPLE_REQUEST.subarray(4, 20), hex('00 00')]), /multiple of 4/],
      ['with an attribute header cut short', Buffer.concat([hex('00 01 00 04'), SAMPLE_REQUEST.subarray(4, 20), hex('00 06 00 08')]), /cut short/],
      ['with an attribute running past the end', Buffer.concat([hex('00 01 00 08'), SAMPLE_REQUEST.subarray(4, 20), hex('00 06 00 09 65 76 74 6a')]), /0x6 of 9 bytes at 20 is cut short/],
      ['with a MESSAGE-INTEGRITY of 16 bytes', Buffer.concat([hex('00 01 00 14'), SAMPLE_REQUEST.subarray(4, 20), hex('00 08 00 10'), Buffer.alloc(16)]), /0x8 has 16 bytes, not 20/],
    ];
    for (const [name, buf, message] of cases) {
      it(`refuses a message ${name}`, () => {
        assert.throws(() => parseStun(buf), (err) => err instanceof StunError && err.code === 'MEDIA_STUN_PARSE' && message.test(err.message));
      });
    }

    it('tells a changed byte by integrity and fingerprint', () => {
      const username = flipped(SAMPLE_REQUEST, 20 + 20 + 8 + 12 + 4); // the "e" of "evtj"
      assert.equal(checkMessageIntegrity(parseStun(username), PASSWORD), false);
      assert.equal(checkFingerprint(parseStun(username)), false);
      const tag = flipped(SAMPLE_REQUEST, SAMPLE_REQUEST.length - 9); // the last byte of the HMAC
      assert.equal(checkMessageIntegrity(parseStun(tag), PASSWORD), false);
      const crc = flipped(SAMPLE_REQUEST, SAMPLE_REQUEST.length - 1);
      assert.equal(checkMessageIntegrity(parseStun(crc), PASSWORD), true);
      assert.equal(checkFingerprint(parseStun(crc)), false);
    });

    it('reports integrity and fingerprint as absent rather than throwing', () => {
      const bare = parseStun(Buffer.concat([hex('00 01 00 00'), SAMPLE_REQUEST.subarray(4, 20)]));
      assert.equal(checkMessageIntegrity(bare, PASSWORD), false);
      assert.equal(checkFingerprint(bare), false);
    });
  });
});
