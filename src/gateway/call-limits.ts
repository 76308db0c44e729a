/**
 * Which new calls may start (docs/security.md "Calls and media ports"). Every call holds an RTP and a WebRTC port
 * pair until it ends, so one client must not take the port ranges from everyone else. A call is admitted when
 *
 *   - its session has fewer than `maxCallsPerSession` calls (outgoing and incoming),
 *   - the sessions of its client IP address have fewer than `maxCallsPerIp` calls, and
 *   - for a call the client places, its IP address has placed fewer than `callsPerIpPerMinute` lately: a token
 *     bucket holding that many, refilled evenly over a minute, so a burst of as many and then one every 60/n s.
 *
 * A refusal names the limit and its setting. An admitted call counts until its `release`.
 */
import type { Config } from '../config/schema.ts';
import { TokenBucket } from '../token-bucket.ts';

export type CallLimitSettings = Pick<Config, 'maxCallsPerSession' | 'maxCallsPerIp' | 'callsPerIpPerMinute'>;

/** The calls of one client IP address. */
interface AddressCalls {
  live: number;
  placed: TokenBucket;
  lastPlaced: number;
}

/** A bucket that has not been drawn from for this long is full again, as a new one would be. */
const REFILL_MS = 60_000;

export class CallLimits {
  private readonly addresses = new Map<string, AddressCalls>();
  private lastSweep: number;

  constructor(
    private readonly settings: CallLimitSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /**
   * Whether one more call of a session that comes from `address` and has `sessionCalls` calls may start (`placed`:
   * the client places it; else it is incoming). Undefined when admitted, else what was exceeded.
   */
  admit(address: string, sessionCalls: number, placed: boolean): string | undefined {
    const { maxCallsPerSession, maxCallsPerIp, callsPerIpPerMinute } = this.settings;
    if (sessionCalls >= maxCallsPerSession) return `too many calls in this session (the limit is ${maxCallsPerSession}: maxCallsPerSession)`;
    const now = this.now();
    this.sweep(now);
    let calls = this.addresses.get(address);
    if (calls === undefined) {
      calls = { live: 0, placed: new TokenBucket(callsPerIpPerMinute / 60, callsPerIpPerMinute, now), lastPlaced: now };
      this.addresses.set(address, calls);
    }
    if (calls.live >= maxCallsPerIp) return `too many calls from ${address} (the limit is ${maxCallsPerIp}: maxCallsPerIp)`;
    if (placed) {
      if (!calls.placed.take(now)) {
        return `too many new calls from ${address} (the limit is ${callsPerIpPerMinute} a minute: callsPerIpPerMinute)`;
      }
      calls.lastPlaced = now;
    }
    calls.live++;
    return undefined;
  }

  /** An admitted call of `address` has ended. */
  release(address: string): void {
    const calls = this.addresses.get(address);
    if (calls !== undefined && calls.live > 0) calls.live--;
  }

  /** Forgets, at most once a minute, addresses without calls whose bucket is full again: the map stays bounded. */
  private sweep(now: number): void {
    if (now - this.lastSweep < REFILL_MS) return;
    this.lastSweep = now;
    for (const [address, calls] of this.addresses) {
      if (calls.live === 0 && now - calls.lastPlaced >= REFILL_MS) this.addresses.delete(address);
    }
  }
}
