/**
 * UDP port pairs from a configured range (`rtpPortMin..Max`, `webrtcPortMin..Max`): an even port and the odd one
 * above it, as RTP and RTCP use them (RFC 3550 §11). The WebRTC leg takes pairs too, although rtcp-mux leaves it
 * one socket: its engine is handed both ports and may fall back to the second when the first is taken by another
 * process, so a pair is never shared between two legs.
 *
 * Pairs are handed out round-robin, so a pair just released is the last to be used again: late packets of an
 * ended call do not reach the next call on the same port.
 */
import { PortsExhaustedError } from './errors.ts';

export class PortPairAllocator {
  private readonly first: number;
  private readonly pairs: number;
  private readonly used = new Set<number>();
  private next = 0;

  /** `name` appears in errors (`RTP ports 30000-34999`). */
  constructor(
    private readonly name: string,
    readonly min: number,
    readonly max: number,
  ) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`${name}: bad port range ${min}-${max}`);
    }
    this.first = min % 2 === 0 ? min : min + 1;
    this.pairs = Math.max(Math.floor((max - this.first + 1) / 2), 0);
  }

  /** Pairs in the range. */
  get capacity(): number {
    return this.pairs;
  }

  get inUse(): number {
    return this.used.size;
  }

  /** The even port of a free pair. Throws PortsExhaustedError when every pair is in use. */
  allocate(): number {
    for (let i = 0; i < this.pairs; i++) {
      const index = (this.next + i) % this.pairs;
      const port = this.first + index * 2;
      if (this.used.has(port)) continue;
      this.used.add(port);
      this.next = (index + 1) % this.pairs;
      return port;
    }
    throw new PortsExhaustedError(`${this.description}: all ${this.pairs} port pairs are in use`);
  }

  /** Gives a pair back; releasing one that is not allocated does nothing (every end path may call it). */
  release(port: number): void {
    this.used.delete(port);
  }

  /**
   * Allocates a pair and binds it with `bind`. When binding fails because the port is taken (by another process:
   * `isBindFailure`, by default EADDRINUSE or EACCES), releases the pair and tries the next one, at most once per
   * pair; any other error is passed on. Throws PortsExhaustedError carrying the last bind error.
   */
  async bind<T>(
    bind: (port: number) => Promise<T>,
    isBindFailure: (err: unknown) => boolean = isPortTaken,
  ): Promise<{ port: number; value: T }> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.pairs; attempt++) {
      if (this.used.size >= this.pairs) break;
      const port = this.allocate();
      try {
        return { port, value: await bind(port) };
      } catch (err) {
        this.release(port);
        if (!isBindFailure(err)) throw err;
        lastError = err;
      }
    }
    throw new PortsExhaustedError(`${this.description}: no port pair could be bound`, { cause: lastError });
  }

  private get description(): string {
    return `${this.name} ${this.min}-${this.max}`;
  }
}

/** The bind errors another pair may not have: the port is in use, or reserved (privileged ports). */
function isPortTaken(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}
