/**
 * RTP and RTCP on the wire (RFC 3550 §5.1, §6.4): header vectors written from the RFC's bit layout, round trips,
 * truncated and malformed input, RTP/RTCP demultiplexing (RFC 5761 §4), and reception statistics (Appendix A.1,
 * A.3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaError } from '../../src/media/errors.ts';
import { isRtcp, NO_CSRCS, parseRtcp, parseRtp, ReceptionStats, rtpPacketSize, RtpWriter, serializeRtp, writeRtp, type RtpPacket } from '../../src/media/rtp/index.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTP header (RFC 3550 §5.1)', () => {
  it('reads a plain PCMU packet', () => {
    // V=2 P=0 X=0 CC=0 | M=0 PT=0 | seq 12345 | ts 1000 | SSRC 0xdeadbeef | payload
    const buf = hex('80 00 3039 000003e8 deadbeef ffffffff');
    const p = parseRtp(buf);
    assert.deepEqual(p.header, { marker: false, payloadType: 0, sequenceNumber: 12345, timestamp: 1000, ssrc: 0xdeadbeef, csrcs: [] });
    assert.deepEqual(p.payload, hex('ffffffff'));
    assert.equal(p.paddingSize, 0);
    assert.deepEqual(serializeRtp(p), buf);
  });

  it('gives every packet without CSRCs the one shared, frozen empty list (no allocation per packet)', () => {
    const a = parseRtp(hex('80 00 0001 00000001 00000001 ff'));
    const b = parseRtp(hex('80 00 0002 000000a1 00000001 ff'));
    assert.equal(a.header.csrcs, NO_CSRCS);
    assert.equal(b.header.csrcs, NO_CSRCS);
    assert.ok(Object.isFrozen(NO_CSRCS));
    assert.equal(NO_CSRCS.length, 0);
    // A packet with CSRCs still gets a list of its own.
    const c = parseRtp(hex('81 00 0003 00000141 00000001 11111111 ff'));
    assert.deepEqual(c.header.csrcs, [0x11111111]);
    assert.notEqual(c.header.csrcs, NO_CSRCS);
  });

  it('reads the marker bit and payload type 101 from the second octet', () => {
    // 0xe5 = 1 1100101: M=1, PT=101
    const p = parseRtp(hex('80 e5 0001 000000a0 12345678 058a0320'));
    assert.equal(p.header.marker, true);
    assert.equal(p.header.payloadType, 101);
  });

  it('reads CSRCs, a header extension (§5.3.1) and padding, and writes them back', () => {
    // 0xb2 = 10 1 1 0010: V=2 P=1 X=1 CC=2 | PT=8 | seq 65535 | ts 2^32-1 | SSRC 1 | 2 CSRCs
    // | profile 0xbede, 1 word | payload aabb | 3 padding octets, the last one counting them
    const buf = hex('b2 08 ffff ffffffff 00000001 11111111 22222222 bede0001 10abcd00 aabb 000003');
    const p = parseRtp(buf);
    assert.deepEqual(p.header.csrcs, [0x11111111, 0x22222222]);
    assert.deepEqual(p.header.extension, { profile: 0xbede, data: hex('10abcd00') });
    assert.deepEqual(p.payload, hex('aabb'));
    assert.equal(p.paddingSize, 3);
    assert.equal(p.header.sequenceNumber, 0xffff);
    assert.equal(p.header.timestamp, 0xffffffff);
    assert.equal(rtpPacketSize(p), buf.length);
    assert.deepEqual(serializeRtp(p), buf);
  });

  it('writes into a caller buffer at an offset', () => {
    const p: RtpPacket = {
      header: { marker: true, payloadType: 8, sequenceNumber: 7, timestamp: 160, ssrc: 42, csrcs: [] }, payload: hex('d5d5'), paddingSize: 0,
    };
    const buf = Buffer.alloc(20, 0xee);
    assert.equal(writeRtp(p, buf, 4), 14);
    assert.deepEqual(buf, hex('eeeeeeee 80 88 0007 000000a0 0000002a d5d5 eeee'));
    assert.throws(() => writeRtp(p, Buffer.alloc(13)), RangeError);
  });

  it('writes each packet of a stream into the one buffer of an RtpWriter, and an oversized one into its own', () => {
    const packet = (sequenceNumber: number, payload: Buffer): RtpPacket => ({
      header: { marker: false, payloadType: 0, sequenceNumber, timestamp: sequenceNumber * 160, ssrc: 9, csrcs: NO_CSRCS }, payload, paddingSize: 0,
    });
    const writer = new RtpWriter();
    const first = writer.write(packet(1, Buffer.alloc(160, 1)));
    assert.deepEqual(first, serializeRtp(packet(1, Buffer.alloc(160, 1))));
    const second = writer.write(packet(2, Buffer.alloc(160, 2)));
    assert.deepEqual(second, serializeRtp(packet(2, Buffer.alloc(160, 2))));
    // Same size: the same view of the same memory, so nothing was allocated for the second packet.
    assert.equal(second, first);
    const short = writer.write(packet(3, Buffer.alloc(20, 3)));
    assert.equal(short.length, 32);
    assert.equal(short.buffer, first.buffer);
    assert.deepEqual(parseRtp(short).payload, Buffer.alloc(20, 3));
    const large = writer.write(packet(4, Buffer.alloc(1600, 4)));
    assert.equal(large.length, 1612);
    assert.notEqual(large.buffer, first.buffer);
    assert.deepEqual(parseRtp(large).payload, Buffer.alloc(1600, 4));
    // A leg's own source in place of the header's, in the shared buffer and in an oversized packet's own.
    assert.equal(parseRtp(writer.write(packet(5, Buffer.alloc(160, 5)), 0xfffffffe)).header.ssrc, 0xfffffffe);
    assert.equal(parseRtp(writer.write(packet(6, Buffer.alloc(1600, 6)), 77)).header.ssrc, 77);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['11 bytes', '80 00 0001 00000001 000000', /11 bytes < 12/],
    ['version 1', '40 00 0001 00000001 00000001', /version 1 is not 2/],
    ['CSRCs cut short', '82 00 0001 00000001 00000001 11111111', /with 2 CSRCs/],
    ['an extension cut short', '90 00 0001 00000001 00000001 bede0002 00000000', /extension of 2 words is cut short/],
    ['padding larger than the packet', 'a0 00 0001 00000001 00000001 aa 20', /padding count 32/],
    ['a zero padding count', 'a0 00 0001 00000001 00000001 aa 00', /padding count 0/],
  ];
  for (const [name, bytes, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseRtp(hex(bytes)), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_RTP_PARSE' && message.test(err.message));
    });
  }
});

describe('RTP/RTCP demultiplexing (RFC 5761 §4)', () => {
  it('takes second octets 192–223 for RTCP', () => {
    assert.equal(isRtcp(hex('81c8')), true); // SR
    assert.equal(isRtcp(hex('80c9')), true); // RR
    assert.equal(isRtcp(hex('80cf')), true); // PT 207 (XR)
    assert.equal(isRtcp(hex('8000')), false); // PCMU
    assert.equal(isRtcp(hex('80e5')), false); // M + PT 101
    assert.equal(isRtcp(hex('80')), false);
  });
});

describe('RTCP (RFC 3550 §6.4)', () => {
  it('reads a sender report with one report block', () => {
    const sr = hex(`
      81 c8 000c 12345678
      e45c2b1a 80000000 0001e240 00000064 00003e80
      deadbeef 40 000005 00010010 00000020 2b1a8000 00010000`);
    assert.deepEqual(parseRtcp(sr), [{
      type: 200,
      ssrc: 0x12345678,
      sender: { ntpSeconds: 0xe45c2b1a, ntpFraction: 0x80000000, rtpTimestamp: 123456, packetCount: 100, octetCount: 16000 },
      reports: [{
        ssrc: 0xdeadbeef, fractionLost: 64, packetsLost: 5, highestSequence: 0x10010, jitter: 32, lastSr: 0x2b1a8000,
        delaySinceLastSr: 0x10000,
      }],
    }]);
  });

  it('reads a negative cumulative loss (signed 24 bits, duplicates)', () => {
    const rr = hex('81 c9 0007 12345678 deadbeef 00 ffffff 00000001 00000000 00000000 00000000');
    const [p] = parseRtcp(rr);
    assert.equal(p!.type, 201);
    assert.equal(p!.type === 201 && p!.reports[0]!.packetsLost, -1);
  });

  it('walks a compound packet, recognising SDES without decoding it', () => {
    const compound = hex('80 c9 0001 12345678   81 ca 0003 12345678 0104 61626364 0000');
    assert.deepEqual(parseRtcp(compound), [
      { type: 201, ssrc: 0x12345678, reports: [] },
      { type: 'other', packetType: 202, byteLength: 16 },
    ]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a header cut short', '80 c9 00', /header is cut short/],
    ['a length beyond the datagram', '80 c9 0004 12345678', /of 20 bytes is cut short/],
    ['report blocks beyond the length', '81 c9 0001 12345678', /RR with 1 report blocks is cut short/],
    ['version 0', '00 c9 0001 12345678', /version 0 is not 2/],
  ];
  for (const [name, bytes, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseRtcp(hex(bytes)), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_RTP_PARSE' && message.test(err.message));
    });
  }
});

describe('reception statistics (RFC 3550 A.1, A.3)', () => {
  const feed = (pairs: Array<[number, number]>) => {
    const s = new ReceptionStats();
    for (const [ssrc, seq] of pairs) s.update(ssrc, seq);
    return s;
  };

  it('counts a gap as lost', () => {
    const s = feed([[1, 10], [1, 11], [1, 13], [1, 14], [1, 17]]);
    assert.equal(s.received, 5);
    assert.equal(s.lost, 3);
  });

  it('follows the sequence number across its wrap', () => {
    const s = feed([[1, 65534], [1, 65535], [1, 0], [1, 2]]);
    assert.equal(s.lost, 1);
  });

  it('takes a late packet as received, and does not report negative loss for duplicates', () => {
    assert.equal(feed([[1, 1], [1, 3], [1, 2]]).lost, 0);
    const dup = feed([[1, 1], [1, 2], [1, 2], [1, 2]]);
    assert.equal(dup.received, 4);
    assert.equal(dup.lost, 0);
  });

  it('keeps the totals across a new SSRC and across a restart of the numbering', () => {
    const s = feed([[1, 100], [1, 102], [2, 5000], [2, 5001], [2, 5003], [2, 40000], [2, 40001]]);
    assert.equal(s.received, 7);
    assert.equal(s.lost, 2);
  });
});
