/**
 * A manual clock for timer tests (implements src/clock.ts's `Clock`): time only moves when a test calls
 * `advance`, and timers fire in due order, so "Timer E fires at 500, 1500, 3500 ms" is checked exactly and fast.
 */
import type { Clock, TimerHandle } from '../../src/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fire: () => void;
}

/** A callback chain that keeps scheduling 0 ms timers would never let `advance` return: fail loudly instead. */
const MAX_FIRINGS_PER_ADVANCE = 100_000;

export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const seq = ++this.seq;
    this.pending.set(seq, { at: this.time + Math.max(0, ms), seq, fire: callback });
    return seq;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones scheduled while advancing). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let firings = 0; ; firings++) {
      if (firings >= MAX_FIRINGS_PER_ADVANCE) throw new Error('FakeClock: timers keep rescheduling without end');
      let next: Pending | undefined;
      for (const p of this.pending.values()) {
        if (p.at <= end && (next === undefined || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      }
      if (next === undefined) break;
      this.pending.delete(next.seq);
      this.time = next.at;
      next.fire();
    }
    this.time = end;
  }

  /**
   * Lets fake time run in `stepMs` steps, one turn of the event loop after each, so that sockets and promises of
   * in-process peers (two UAs on 127.0.0.1) go on as they would while time passes; stops when `done()` holds or
   * after `limitMs` of fake time, and returns the fake time used. For timers that cannot be reached by one
   * `advance` because I/O comes between them (a 491, then a back-off, then the re-try's answer).
   */
  async runUntil(done: () => boolean, limitMs: number, stepMs = 5): Promise<number> {
    const start = this.time;
    while (!done() && this.time - start < limitMs) {
      this.advance(stepMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.time - start;
  }

  /** Moves time to the absolute instant `at` (ms since the clock started). */
  advanceTo(at: number): void {
    if (at < this.time) throw new Error(`FakeClock: cannot go back from ${this.time} to ${at}`);
    this.advance(at - this.time);
  }
}
