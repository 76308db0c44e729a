/**
 * The timers of the transaction layer (RFC 3261 §17 and Table 4 of Appendix A; RFC 6026 §8.4 and §8.7 for M and L); they
 * run on the Clock of src/clock.ts. Every transaction asks this one place for its durations, so a shortened T1 in a
 * test or in the configuration (`sipT1Ms`, `sipT2Ms`, `sipT4Ms`) changes them all consistently.
 */

/** RFC 3261 §17.1.1.1, Table 4: the three base values, in milliseconds. */
export interface TimerSettings {
  /** RTT estimate. */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. */
  t2: number;
  /** Maximum duration a message remains in the network. */
  t4: number;
}

export const DEFAULT_TIMER_SETTINGS: Readonly<TimerSettings> = { t1: 500, t2: 4000, t4: 5000 };

/** RFC 3261 §17.2.1: the server transaction sends 100 Trying itself unless the TU answers within 200 ms. */
export const TRYING_DELAY_MS = 200;

/** RFC 3261 Table 4: Timer D is "> 32 s for UDP", independent of T1 (it outlives the peer's Timer H retransmissions). */
const TIMER_D_UNRELIABLE_MS = 32_000;

/**
 * Timer durations (RFC 3261 Table 4). Those that Table 4 sets to 0 on reliable transports take `reliable`. Timers
 * A, E and G are only ever started on unreliable transports (§17.1.1.2, §17.1.2.2, §17.2.1); their first interval
 * is T1 and `backoff` gives the next one.
 */
export class TimerValues {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;

  constructor(settings: Partial<TimerSettings> = {}) {
    const s = { ...DEFAULT_TIMER_SETTINGS, ...settings };
    for (const [name, value] of Object.entries(s)) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new RangeError(`timer ${name.toUpperCase()} must be a positive integer of milliseconds, got ${value}`);
      }
    }
    if (s.t2 < s.t1) throw new RangeError(`timer T2 (${s.t2} ms) must not be shorter than T1 (${s.t1} ms)`);
    this.t1 = s.t1;
    this.t2 = s.t2;
    this.t4 = s.t4;
  }

  /** Timer A, INVITE request retransmit interval: initially T1, doubled at each firing without a cap (§17.1.1.2). */
  get A(): number {
    return this.t1;
  }

  /** Timer B, INVITE transaction timeout: 64*T1. */
  get B(): number {
    return 64 * this.t1;
  }

  /** Timer D, wait time for response retransmits: > 32 s on UDP, 0 on reliable transports. */
  D(reliable: boolean): number {
    return reliable ? 0 : TIMER_D_UNRELIABLE_MS;
  }

  /** Timer E, non-INVITE request retransmit interval: initially T1, then min(2E, T2); T2 once a 1xx arrived. */
  get E(): number {
    return this.t1;
  }

  /** Timer F, non-INVITE transaction timeout: 64*T1. */
  get F(): number {
    return 64 * this.t1;
  }

  /** Timer G, INVITE response retransmit interval: initially T1, then min(2G, T2). */
  get G(): number {
    return this.t1;
  }

  /** Timer H, wait time for ACK receipt: 64*T1. */
  get H(): number {
    return 64 * this.t1;
  }

  /** Timer I, wait time for ACK retransmits: T4 on UDP, 0 on reliable transports. */
  I(reliable: boolean): number {
    return reliable ? 0 : this.t4;
  }

  /** Timer J, wait time for non-INVITE request retransmits: 64*T1 on UDP, 0 on reliable transports. */
  J(reliable: boolean): number {
    return reliable ? 0 : 64 * this.t1;
  }

  /** Timer K, wait time for response retransmits: T4 on UDP, 0 on reliable transports. */
  K(reliable: boolean): number {
    return reliable ? 0 : this.t4;
  }

  /** Timer L (RFC 6026 §8.7), wait time for accepted INVITE request retransmits: 64*T1. */
  get L(): number {
    return 64 * this.t1;
  }

  /** Timer M (RFC 6026 §8.4), wait time for retransmission of 2xx to INVITE or additional 2xx from other branches. */
  get M(): number {
    return 64 * this.t1;
  }

  /** The interval after `interval` for Timers E and G and 2xx retransmission (§13.3.1.4): doubled, capped at T2. */
  backoff(interval: number): number {
    return Math.min(2 * interval, this.t2);
  }
}
