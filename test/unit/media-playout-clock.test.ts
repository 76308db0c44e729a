/**
 * The playout clock that all transcoded calls share (src/media/playout-clock.ts), on fake time: through real
 * Transcoders (PCMA browser ⇄ PCMU SIP, the cheapest pair), one timer for every call, every call ticked in turn, and
 * one call's failure kept from the others; on its own, a late tick caught up by at most MAX_CATCH_UP_FRAMES frames
 * per call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import { encodeG711 } from '../../src/media/codecs/g711.ts';
import { FRAME_MS, MAX_CATCH_UP_FRAMES, PCMA, PCMU } from '../../src/media/codecs.ts';
import type { RtpPacket } from '../../src/media/rtp/packet.ts';
import { PlayoutClock } from '../../src/media/playout-clock.ts';
import { Transcoder, type TranscodedFrame } from '../../src/media/transcoder.ts';
import { FakeClock } from '../support/fake-clock.ts';

const FRAME = Buffer.from(encodeG711('PCMA', new Int16Array(160).fill(1000)));

function packet(seq: number): RtpPacket {
  return { header: { marker: false, payloadType: PCMA.payloadType, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0xa1, csrcs: [] }, payload: FRAME, paddingSize: 0 };
}

function call(clock: Clock, sent: Array<{ at: number; frame: TranscodedFrame }>, fail = false): Transcoder {
  return new Transcoder({
    browser: { ...PCMA }, sip: { ...PCMU }, clock, toBrowser: () => undefined,
    toSip: (frame) => {
      if (fail) throw new Error('this call\'s SIP leg failed');
      sent.push({ at: clock.now(), frame });
    },
  });
}

describe('PlayoutClock: one 20 ms playout clock for all transcoded calls', () => {
  it('calls started at different times hold one timer between them, play on its ticks, and the clock stops with the last call', () => {
    const clock = new FakeClock();
    const sent: Array<Array<{ at: number; frame: TranscodedFrame }>> = [];
    const calls: Transcoder[] = [];
    for (let i = 0; i < 100; i++) {
      sent.push([]);
      calls.push(call(clock, sent[i]!));
      for (let seq = 0; seq < 10; seq++) calls[i]!.fromBrowser(packet(seq));
      calls[i]!.start();
      clock.advance(0.1);
    }
    assert.equal(clock.pendingCount, 1, 'one timer for 100 calls');
    clock.advance(5 * FRAME_MS);
    const ticks = new Set(sent.flatMap((s) => s.map((x) => x.at)));
    assert.ok(ticks.size <= 6, `every call plays on the shared ticks: frames went out at ${ticks.size} instants`);
    for (const [i, s] of sent.entries()) assert.ok(s.length >= 4, `call ${i} played ${s.length} frames in 100 ms`);
    for (const c of calls) c.stop();
    assert.equal(clock.pendingCount, 0, 'no timer left once every call stopped');
  });

  it('a tick 100 ms late plays at most MAX_CATCH_UP_FRAMES frames on every call and skips the rest, and the next tick keeps its place', () => {
    // A clock whose one timer the test fires by hand, late.
    let now = 0;
    let due: { fire: () => void; at: number } | undefined;
    const late: Clock = {
      now: () => now,
      setTimeout: (fire, ms) => (due = { fire, at: now + ms }),
      clearTimeout: () => (due = undefined),
    };
    const playout = new PlayoutClock(late);
    const turns = [[], [], []].map((played: Array<[number, number]>) => ({ played, play: (frames: number, skipped: number) => void played.push([frames, skipped]) }));
    for (const t of turns) playout.join(t);
    now = 5 * FRAME_MS + 3;
    due!.fire();
    for (const t of turns) assert.deepEqual(t.played, [[MAX_CATCH_UP_FRAMES, 5 - MAX_CATCH_UP_FRAMES]]);
    assert.equal(due?.at, 6 * FRAME_MS, 'the next tick at its place on the wall clock, not 20 ms after this late one');
    for (const t of turns) playout.leave(t);
    assert.equal(due, undefined);
  });

  it('a call whose playout throws does not stop the others\' nor the clock', () => {
    const clock = new FakeClock();
    const sent: Array<Array<{ at: number; frame: TranscodedFrame }>> = [[], [], []];
    const calls = sent.map((s, i) => call(clock, s, i === 0));
    for (const c of calls) {
      for (let seq = 0; seq < 10; seq++) c.fromBrowser(packet(seq));
      c.start();
    }
    clock.advance(5 * FRAME_MS);
    assert.ok(sent[1]!.length >= 3 && sent[2]!.length === sent[1]!.length, `frames played: ${sent.map((s) => s.length).join(', ')}`);
    assert.equal(clock.pendingCount, 1, 'the clock ticks on');
    for (const c of calls) c.stop();
  });
});
