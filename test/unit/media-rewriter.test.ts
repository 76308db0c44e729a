/**
 * RtpStreamRewriter: one continuous outgoing stream (RFC 3550 §5.1) from changing sources — a re-INVITE that
 * restarts the far end's stream, injected DTMF — with the sequence going up by one, timestamps keeping pace with
 * the clock, and the marker on the first packet of each source (RFC 3551 §4.1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpStreamRewriter } from '../../src/media/rtp/index.ts';

const rewriter = () => new RtpStreamRewriter({ ssrc: 0xcafe, clockRate: 8000, frameTicks: 160, initialSequence: 1000, initialTimestamp: 50_000 });

/** Feeds `count` 20 ms packets of one source starting at its (seq, ts) and the given time; returns the outputs. */
function run(r: RtpStreamRewriter, ssrc: number, seq: number, ts: number, atMs: number, count: number) {
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push(r.rewrite(ssrc, (seq + i) & 0xffff, (ts + i * 160) >>> 0, false, atMs + i * 20));
  }
  return out;
}

describe('RtpStreamRewriter', () => {
  it('maps one source onto our SSRC, sequence and timestamp, marking only the first packet', () => {
    const out = run(rewriter(), 0x1111, 7, 999, 0, 3);
    assert.deepEqual(out, [
      { ssrc: 0xcafe, sequenceNumber: 1000, timestamp: 50_000, marker: true },
      { ssrc: 0xcafe, sequenceNumber: 1001, timestamp: 50_160, marker: false },
      { ssrc: 0xcafe, sequenceNumber: 1002, timestamp: 50_320, marker: false },
    ]);
  });

  it('continues the stream when the source changes (re-INVITE): next sequence, timestamp by elapsed time', () => {
    const r = rewriter();
    run(r, 0x1111, 7, 999, 0, 5); // last out: seq 1004, ts 50_640 at 80 ms
    const next = run(r, 0x2222, 40_000, 123_456_789, 100, 2);
    assert.deepEqual(next, [
      { ssrc: 0xcafe, sequenceNumber: 1005, timestamp: 50_800, marker: true },
      { ssrc: 0xcafe, sequenceNumber: 1006, timestamp: 50_960, marker: false },
    ]);
  });

  it('moves the timestamp on by the wall-clock time of a long pause (hold)', () => {
    const r = rewriter();
    run(r, 0x1111, 7, 999, 0, 1);
    const [after] = run(r, 0x3333, 1, 1, 10_000, 1);
    assert.equal(after!.sequenceNumber, 1001);
    assert.equal(after!.timestamp, 50_000 + 80_000);
  });

  it('never overlaps the last frame when the switch comes at once (injected DTMF)', () => {
    const r = rewriter();
    run(r, 0x1111, 7, 999, 0, 1);
    const [dtmf] = run(r, 0x4444, 1, 1, 1, 1);
    assert.equal(dtmf!.timestamp, 50_000 + 160);
  });

  it('keeps reordered packets in their order and does not move the stream back', () => {
    const r = rewriter();
    const a = r.rewrite(1, 10, 1600, false, 0);
    const c = r.rewrite(1, 12, 1920, false, 40);
    const b = r.rewrite(1, 11, 1760, false, 45);
    assert.deepEqual([a.sequenceNumber, b.sequenceNumber, c.sequenceNumber], [1000, 1001, 1002]);
    assert.equal(b.timestamp, 50_160);
    const d = r.rewrite(1, 13, 2080, false, 60);
    assert.equal(d.sequenceNumber, 1003);
    assert.equal(d.marker, false);
  });

  it('wraps sequence numbers and timestamps', () => {
    const r = new RtpStreamRewriter({ ssrc: 1, clockRate: 8000, frameTicks: 160, initialSequence: 65535, initialTimestamp: 0xffffff00 });
    const out = run(r, 9, 0, 0, 0, 3);
    assert.deepEqual(out.map((o) => o.sequenceNumber), [65535, 0, 1]);
    assert.deepEqual(out.map((o) => o.timestamp), [0xffffff00, 0xffffffa0, 0x40]);
  });

  it('treats a sequence jump of the same SSRC beyond MAX_DROPOUT as a new source (RFC 3550 A.1)', () => {
    const r = rewriter();
    run(r, 0x1111, 100, 0, 0, 2);
    const jumped = r.rewrite(0x1111, 20_000, 999_999, false, 40);
    assert.deepEqual(jumped, { ssrc: 0xcafe, sequenceNumber: 1002, timestamp: 50_320, marker: true });
  });

  it('starts from random values by default', () => {
    const seen = new Set(Array.from({ length: 8 }, () => new RtpStreamRewriter({ ssrc: 1, clockRate: 8000, frameTicks: 160 }).rewrite(1, 0, 0, false, 0).sequenceNumber));
    assert.ok(seen.size > 1);
  });
});

describe('RtpStreamRewriter.resync', () => {
  it('closes the gap of packets the caller dropped (hold), marking the first one after', () => {
    const r = rewriter();
    run(r, 0x1111, 0, 0, 0, 3); // out 1000..1002
    r.resync();
    const [resumed] = run(r, 0x1111, 50, 50 * 160, 1000, 1); // 47 packets were dropped while held
    assert.deepEqual(resumed, { ssrc: 0xcafe, sequenceNumber: 1003, timestamp: 50_320 + 7_680, marker: true });
  });
});
