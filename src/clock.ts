/**
 * Time as every timer of the server sees it: the SIP transactions and sessions, the registerer, the RTP leg's
 * inactivity watch and the hook outbox. It sits beside log.ts, below every layer, so src/sip, src/media and src/hooks
 * share it without importing one another. Production runs on `systemClock`; tests pass test/support/fake-clock.ts
 * and move time by hand, so a 65 s REFER expiry or a 4 s glare back-off is checked exactly and at once.
 */

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences are meaningful). */
  now(): number;
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerOptions {
  /**
   * The timer alone does not keep the process running (Node's `unref`): for timers of objects that live as long as
   * something else does (a session, a registration), so a forgotten one cannot hold a finished process open.
   */
  unref?: boolean;
}

/** Opaque handle of a scheduled timer; only the clock that made it can read it. */
export type TimerHandle = unknown;

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms, options) => {
    const timer = setTimeout(callback, ms);
    if (options?.unref) timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface TimerGroupOptions extends TimerOptions {
  /** Where an exception thrown by a timer's callback goes (rather than out of the clock). */
  failed?(error: unknown): void;
}

/**
 * The timers of one object (a session, a transfer, a re-INVITE), on one clock: each fires once and is forgotten,
 * and `clear` cancels every one still pending when the object ends.
 */
export class TimerGroup {
  private readonly pending = new Set<TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly options: TimerGroupOptions = {},
  ) {}

  schedule(ms: number, fire: () => void): TimerHandle {
    const handle = this.clock.setTimeout(() => {
      this.pending.delete(handle);
      try {
        fire();
      } catch (e) {
        if (this.options.failed === undefined) throw e;
        this.options.failed(e);
      }
    }, ms, { unref: this.options.unref === true });
    this.pending.add(handle);
    return handle;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.pending.delete(handle);
  }

  clear(): void {
    for (const handle of this.pending) this.clock.clearTimeout(handle);
    this.pending.clear();
  }
}
