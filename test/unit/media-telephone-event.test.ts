/**
 * RFC 4733 telephone-events: the payload format (§2.3), the packets of one digit (§2.5.1: same timestamp, growing
 * duration, marker on the first, the end packet three times) and the receiver that reports one event per digit
 * (§2.5.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaError } from '../../src/media/errors.ts';
import {
  decodeTelephoneEvent, digitPackets, dtmfDigit, dtmfEvents, encodeTelephoneEvent, TelephoneEventDetector,
} from '../../src/media/rtp/index.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('telephone-event payload (RFC 4733 §2.3)', () => {
  it('encodes event 5, E=1, volume 10, duration 800 as 05 8a 0320', () => {
    assert.deepEqual(encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 }), hex('05 8a 0320'));
  });

  it('encodes event # (11) without E at volume 63', () => {
    assert.deepEqual(encodeTelephoneEvent({ event: 11, end: false, volume: 63, duration: 160 }), hex('0b 3f 00a0'));
  });

  it('decodes, ignoring the reserved bit', () => {
    // 0xca = E=1, R=1, volume 10
    assert.deepEqual(decodeTelephoneEvent(hex('01 ca ffff')), { event: 1, end: true, volume: 10, duration: 65535 });
  });

  it('round-trips every DTMF event', () => {
    for (let event = 0; event <= 16; event++) {
      const e = { event, end: event % 2 === 0, volume: event, duration: event * 160 };
      assert.deepEqual(decodeTelephoneEvent(encodeTelephoneEvent(e)), e);
    }
  });

  it('rejects a payload shorter than 4 bytes', () => {
    assert.throws(() => decodeTelephoneEvent(hex('05 8a 03')), { name: 'MediaError', code: 'MEDIA_RTP_PARSE' });
  });

  it('maps digits to events (§3.2 Table 1) and back', () => {
    assert.deepEqual(dtmfEvents('0123456789*#ABCDabcd'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 12, 13, 14, 15]);
    assert.equal(dtmfDigit(11), '#');
    assert.equal(dtmfDigit(16), undefined, 'flash is not a digit');
    assert.throws(() => dtmfEvents('12x'), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_DTMF_DIGIT' && /'X'/.test(err.message));
    assert.throws(() => dtmfEvents(''), { name: 'MediaError', code: 'MEDIA_DTMF_DIGIT' });
  });
});

describe('the packets of one digit (RFC 4733 §2.5.1)', () => {
  it('sends updates every 20 ms with growing duration, then the end packet three times', () => {
    const packets = digitPackets(5);
    assert.deepEqual(packets.map((p) => p.atMs), [0, 20, 40, 60, 80, 100, 120]);
    assert.deepEqual(packets.map((p) => p.marker), [true, false, false, false, false, false, false]);
    const events = packets.map((p) => decodeTelephoneEvent(p.payload));
    assert.deepEqual(events.map((e) => e.duration), [160, 320, 480, 640, 800, 800, 800]);
    assert.deepEqual(events.map((e) => e.end), [false, false, false, false, true, true, true]);
    assert.ok(events.every((e) => e.event === 5 && e.volume === 10));
  });

  it('follows the options: 250 ms at 50 ms intervals, volume 6, 2 end packets', () => {
    const events = digitPackets(1, { durationMs: 250, intervalMs: 50, volume: 6, endPackets: 2 }).map((p) => decodeTelephoneEvent(p.payload));
    assert.deepEqual(events.map((e) => [e.duration, e.end, e.volume]), [
      [400, false, 6], [800, false, 6], [1200, false, 6], [1600, false, 6], [2000, true, 6], [2000, true, 6],
    ]);
  });

  it('sends a digit shorter than one interval as its end packets, the first with the marker', () => {
    const packets = digitPackets(0, { durationMs: 10 });
    assert.equal(packets.length, 3);
    assert.deepEqual(packets.map((p) => p.marker), [true, false, false]);
    assert.ok(packets.every((p) => decodeTelephoneEvent(p.payload).end && decodeTelephoneEvent(p.payload).duration === 80));
  });

  it('refuses a non-positive duration', () => {
    assert.throws(() => digitPackets(0, { durationMs: 0 }), RangeError);
  });
});

describe('TelephoneEventDetector (RFC 4733 §2.5.2)', () => {
  const ev = (event: number, end: boolean, duration: number) => encodeTelephoneEvent({ event, end, volume: 10, duration });

  it('reports a digit once, at its first end packet', () => {
    const d = new TelephoneEventDetector();
    const reports = [
      d.processInput(1000, ev(7, false, 160)), d.processInput(1000, ev(7, false, 320)), d.processInput(1000, ev(7, true, 800)),
      d.processInput(1000, ev(7, true, 800)), d.processInput(1000, ev(7, true, 800)),
    ];
    assert.deepEqual(reports.map((r) => r.length), [0, 0, 1, 0, 0]);
    assert.deepEqual(reports[2], [{ event: 7, digit: '7', durationMs: 100, volume: 10, timestamp: 1000 }]);
  });

  it('reports a digit whose end packets were all lost when the next one begins', () => {
    const d = new TelephoneEventDetector();
    d.processInput(1000, ev(1, false, 160));
    d.processInput(1000, ev(1, false, 480));
    const next = d.processInput(3000, ev(2, false, 160));
    assert.deepEqual(next.map((e) => [e.digit, e.durationMs, e.timestamp]), [['1', 60, 1000]]);
    assert.deepEqual(d.processInput(3000, ev(2, true, 400)).map((e) => e.digit), ['2']);
  });

  it('reports an event seen only through its end packet', () => {
    const d = new TelephoneEventDetector();
    assert.deepEqual(d.processInput(5000, ev(16, true, 1600)), [{ event: 16, durationMs: 200, volume: 10, timestamp: 5000 }]);
  });

  it('ignores a malformed payload', () => {
    assert.deepEqual(new TelephoneEventDetector().processInput(1, hex('01')), []);
  });
});
