/**
 * A small adaptive jitter buffer for the browser's packets of a transcoded call: packets are put in by sequence
 * number as they arrive and taken out one per 20 ms playout tick, in order. It never grows latency: it holds a
 * target of 1 to MAX_TARGET packets, raised while arrivals are jittery (the RFC 3550 §6.4.1 interarrival jitter
 * estimate, in frames) and lowered again when they are not, and what lies beyond the target plus a margin is dropped
 * oldest first.
 *
 * Each `next()` says what to play: a packet, `lost` (the expected packet is missing but later ones are here:
 * conceal it, or rebuild it from the packet right after it, `following`, when that one is here and carries in-band
 * FEC; or the buffer ran dry in mid-stream for one turn, see `next`), or `empty` (nothing buffered: the browser
 * paused, DTX, or the buffer refills to its target). A DTX pause costs at most its first 20 ms concealed: the
 * browser's sequence numbers run on across it (RFC 3550 §5.1: one per packet sent), so the packet after the pause is
 * the one expected.
 *
 * A pure processor: the caller gives arrival times.
 */

import { FRAME_MS } from './codecs.ts';

export type Playout<T> = { kind: 'packet'; value: T } | { kind: 'lost'; following?: T } | { kind: 'empty' };

/** At most this many 20 ms packets held for playout (40 ms): the one-way delay it adds stays within issue 15's 40 ms. */
export const MAX_TARGET = 2;
/** Packets beyond the target kept before the oldest are dropped. */
const MARGIN = 2;

export interface JitterBufferStats {
  /** Packets dropped: late (behind the playout point), duplicates, or beyond the target. */
  dropped: number;
  /** Packets that were missing at their turn (concealed). */
  lost: number;
  /** The current target depth in packets. */
  target: number;
}

export class JitterBuffer<T> {
  private readonly packets = new Map<number, T>();
  /** The sequence number to play next; undefined until the first packet (or after an underrun). */
  private expected: number | undefined;
  private prefetching = true;
  /** The last turn found the buffer empty in mid-stream (and concealed it). */
  private underrun = false;
  private target = 1;
  /** RFC 3550 §6.4.1 J, in ms. */
  private jitterMs = 0;
  private last: { arrivalMs: number; timestamp: number } | undefined;
  private readonly counters = { dropped: 0, lost: 0 };

  /** `clockRate`: the RTP clock of the timestamps (48000 for Opus). */
  constructor(private readonly clockRate: number) {}

  put(sequenceNumber: number, timestamp: number, value: T, arrivalMs: number): void {
    this.updateJitter(timestamp, arrivalMs);
    if (!this.prefetching && this.expected !== undefined && !isAtOrAfter(sequenceNumber, this.expected)) {
      this.counters.dropped++; // too late: its turn has passed
      return;
    }
    if (this.packets.has(sequenceNumber)) {
      this.counters.dropped++;
      return;
    }
    this.packets.set(sequenceNumber, value);
    // Before playout starts, an earlier packet that arrives late still comes first.
    if (this.expected === undefined || (this.prefetching && isAtOrAfter(this.expected, sequenceNumber))) this.expected = sequenceNumber;
    this.trim();
  }

  /** What to play at this tick. */
  next(): Playout<T> {
    if (this.expected === undefined || this.packets.size === 0) {
      // In steady traffic the buffer holds one packet, so a single loss first shows as an empty buffer: the first
      // empty turn in mid-stream is concealed on the expected packet's sequence number, so the packet after it
      // plays on time. A second one in a row is a pause (DTX, or the browser gone quiet): playout stops until the
      // buffer refills, and the pause's first 20 ms stays the only frame concealed.
      if (!this.prefetching && this.expected !== undefined && !this.underrun) {
        this.underrun = true;
        this.counters.lost++;
        this.expected = (this.expected + 1) & 0xffff;
        return { kind: 'lost' };
      }
      this.prefetching = true;
      this.expected = undefined;
      return { kind: 'empty' };
    }
    this.underrun = false;
    if (this.prefetching) {
      if (this.packets.size < this.target) return { kind: 'empty' };
      this.prefetching = false;
    }
    const seq = this.expected;
    this.expected = (seq + 1) & 0xffff;
    const value = this.packets.get(seq);
    if (value === undefined) {
      this.counters.lost++;
      const following = this.packets.get(this.expected);
      return following === undefined ? { kind: 'lost' } : { kind: 'lost', following };
    }
    this.packets.delete(seq);
    return { kind: 'packet', value };
  }

  /** Skips `count` turns (the playout fell behind): their packets are dropped, not played late. */
  skip(count: number): void {
    for (let i = 0; i < count && this.expected !== undefined; i++) {
      if (this.packets.delete(this.expected)) this.counters.dropped++;
      this.expected = (this.expected + 1) & 0xffff;
    }
  }

  stats(): JitterBufferStats {
    return { ...this.counters, target: this.target };
  }

  /** RFC 3550 §6.4.1: J += (|D| − J) / 16, D the change in transit time between consecutive arrivals. */
  private updateJitter(timestamp: number, arrivalMs: number): void {
    const last = this.last;
    this.last = { arrivalMs, timestamp };
    if (!last) return;
    const sentDeltaMs = ((((timestamp - last.timestamp) | 0) * 1000) / this.clockRate);
    const d = arrivalMs - last.arrivalMs - sentDeltaMs;
    this.jitterMs += (Math.abs(d) - this.jitterMs) / 16;
    // One packet of depth, plus one for every 20 ms of twice the jitter (most late packets still make their turn).
    this.target = Math.min(MAX_TARGET, 1 + Math.floor((2 * this.jitterMs) / FRAME_MS));
  }

  /** Drops the oldest packets while more than target + MARGIN wait (a burst after a stall must not add delay). */
  private trim(): void {
    while (this.packets.size > this.target + MARGIN && this.expected !== undefined) {
      if (this.packets.delete(this.expected)) this.counters.dropped++;
      this.expected = (this.expected + 1) & 0xffff;
    }
  }
}

/** Serial-number comparison (RFC 1982): `a` is `b` or comes after it. */
function isAtOrAfter(a: number, b: number): boolean {
  return ((a - b) & 0xffff) < 0x8000;
}
