/**
 * The 20 ms playout clock that every transcoded call of one process shares (./transcoder.ts): one timer ticks all
 * calls in turn, rather than a timer per call. A timer per call wakes the event loop up to once a millisecond with a
 * hundred calls, each wake-up costing the kernel, libuv and Node's entry into JavaScript; one shared tick costs one
 * wake-up per 20 ms for all of them (docs/benchmarks.md "Transcoded calls"). Each call still plays out on its own
 * jitter buffer: the phase of a call's tick against its browser's packets is arbitrary either way (a call's own
 * timer started when its call did).
 *
 * Ticks are placed on the wall clock from the clock's start, so timer lateness does not accumulate as drift. A late
 * tick plays the frames due by then, at most MAX_CATCH_UP_FRAMES per call; the frames beyond are skipped by every
 * call (dropped, never queued): the process fell behind.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import { FRAME_MS, MAX_CATCH_UP_FRAMES } from './codecs.ts';

/** A call on the clock (./transcoder.ts). */
export interface PlayoutTurn {
  /** Plays `frames` 20 ms frames now, after skipping `skipped` frames the process fell behind on. */
  play(frames: number, skipped: number): void;
}

export class PlayoutClock {
  private readonly turns = new Set<PlayoutTurn>();
  private timer: TimerHandle | undefined;
  private start = 0;
  private ticks = 0;

  constructor(private readonly clock: Clock) {}

  /** `turn` plays from the clock's next tick on; the first call starts the clock. */
  join(turn: PlayoutTurn): void {
    if (this.turns.size === 0) {
      this.start = this.clock.now();
      this.ticks = 0;
      this.schedule();
    }
    this.turns.add(turn);
  }

  /** `turn` plays no more; the clock stops with the last call, so an idle process holds no timer. */
  leave(turn: PlayoutTurn): void {
    if (!this.turns.delete(turn) || this.turns.size > 0) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const due = this.start + (this.ticks + 1) * FRAME_MS;
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, due - this.clock.now()));
  }

  private tick(): void {
    // The frames due by now: one, or more when this timer fired late (a loaded machine).
    const due = Math.floor((this.clock.now() - this.start) / FRAME_MS) - this.ticks;
    const skipped = Math.max(0, due - MAX_CATCH_UP_FRAMES);
    const frames = due - skipped;
    this.ticks += due;
    if (due > 0) for (const turn of this.turns) turn.play(frames, skipped);
    this.schedule();
  }
}

const clocks = new WeakMap<Clock, PlayoutClock>();

/** The one playout clock on `clock` (the system's in production; a test's FakeClock gets its own). */
export function playoutClockOn(clock: Clock): PlayoutClock {
  let playout = clocks.get(clock);
  if (!playout) {
    playout = new PlayoutClock(clock);
    clocks.set(clock, playout);
  }
  return playout;
}
