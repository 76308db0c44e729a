/**
 * The fast path for werift's RTP header parser (src/media/werift-rtp-header.ts) must build exactly what werift's own
 * parser builds, and throw where it throws: it replaces the parse werift runs on every received SRTP packet.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RtpHeader } from 'werift';
import { installFastRtpHeaderParse } from '../../src/media/werift-rtp-header.ts';

// werift's parser, taken before the fast path replaces it (another test file may have installed it already: then
// this compares the fast path with itself, so the checks below also pin the fields to fixed expectations).
const werift = RtpHeader.deSerialize.bind(RtpHeader);
installFastRtpHeaderParse();

function outcome(parse: (b: Buffer) => RtpHeader, buf: Buffer): string {
  try {
    const h = parse(buf);
    return JSON.stringify(Object.entries(h));
  } catch {
    return 'threw';
  }
}

describe('werift RTP header fast path', () => {
  it('parses a plain header as werift does', () => {
    const buf = Buffer.from('80e1123456789abc01020304' + 'ff'.repeat(160), 'hex');
    const h = RtpHeader.deSerialize(buf);
    assert.equal(h.version, 2);
    assert.equal(h.padding, false);
    assert.equal(h.extension, false);
    assert.equal(h.marker, true);
    assert.equal(h.payloadType, 0x61);
    assert.equal(h.sequenceNumber, 0x1234);
    assert.equal(h.timestamp, 0x56789abc);
    assert.equal(h.ssrc, 0x01020304);
    assert.deepEqual(h.csrc, []);
    assert.equal(h.payloadOffset, 12);
    assert.equal(h.paddingSize, 0);
    assert.equal(outcome(RtpHeader.deSerialize, buf), outcome(werift, buf));
  });

  it('reads the padding count as werift does', () => {
    const buf = Buffer.from('a000000100000002000000030000000000000004', 'hex');
    assert.equal(RtpHeader.deSerialize(buf).paddingSize, 4);
    assert.equal(outcome(RtpHeader.deSerialize, buf), outcome(werift, buf));
  });

  it('agrees with werift on random headers, short buffers, CSRCs and extensions', () => {
    for (let i = 0; i < 20_000; i++) {
      const buf = randomBytes(i % 25 === 0 ? i % 14 : 12 + (i % 200));
      if (buf.length > 0 && i % 5 !== 0) buf[0] = buf[0]! & 0xe0; // mostly headers the fast path takes
      assert.equal(outcome(RtpHeader.deSerialize, buf), outcome(werift, buf), buf.toString('hex'));
    }
  });

  it('leaves werift headers with an extension to werift', () => {
    const buf = Buffer.from('900000010000000200000003bede000112340000' + '00'.repeat(20), 'hex');
    const h = RtpHeader.deSerialize(buf);
    assert.equal(h.extension, true);
    assert.equal(h.extensions.length, 1);
    assert.equal(h.payloadOffset, 20);
  });
});
