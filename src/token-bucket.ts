/**
 * A token bucket (the classic traffic-shaping meter): `ratePerSecond` tokens a second, at most `burst` saved up.
 * Each event it meters takes one (a client frame, a call a client places); an event that finds the bucket empty is
 * refused. Pure: the clock is passed in. A base module, below the client API and the gateway, which both use it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token at time `now` (ms); false when none is left. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
