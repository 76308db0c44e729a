/**
 * UDP port pairs from a configured range (`rtpPortMin..Max`, `webrtcPortMin..Max`): an even port and the odd one
 * above it, as RTP and RTCP use them (RFC 3550 §11). The WebRTC leg takes pairs too, although rtcp-mux leaves it
 * one socket: its engine is handed both ports and may fall back to the second when the first is taken by another
 * process, so a pair is never shared between two legs.
 *
 * Pairs are handed out round-robin, so a pair just released is the last to be used again: late packets of an
 * ended call do not reach the next call on the same port.
 *
 * Pressure on a range is visible (docs/security.md "Calls and media ports"): `inUse`, `capacity` and `exhaustions`
 * feed the metrics (./port-metrics.ts), and with a logger the allocator warns once when the range becomes nearly
 * exhausted (NEARLY_EXHAUSTED percent of its pairs in use; again only after use fell below CLEARED percent, so a
 * range hovering at the mark does not flood the log), and when it refuses a pair for lack of one (repeats counted,
 * not repeated).
 */
import { RepeatedWarnings, type Logger } from '../log.ts';
import { MediaError } from './errors.ts';

/** Percent of a range's pairs in use from which it counts as nearly exhausted, and below which it no longer does. */
const NEARLY_EXHAUSTED = 90;
const CLEARED = 80;

export class PortPairAllocator {
  private readonly first: number;
  private readonly pairs: number;
  private readonly used = new Set<number>();
  private next = 0;
  private refused = 0;
  private readonly warnAt: number;
  private nearlyExhausted = false;
  private readonly warnings: RepeatedWarnings | undefined;

  /** `name` appears in errors and warnings (`RTP ports 30000-34999`). */
  constructor(
    private readonly name: string,
    readonly min: number,
    readonly max: number,
    private readonly logger?: Logger,
  ) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`${name}: bad port range ${min}-${max}`);
    }
    this.first = min % 2 === 0 ? min : min + 1;
    this.pairs = Math.max(Math.floor((max - this.first + 1) / 2), 0);
    this.warnAt = Math.max(1, Math.ceil((this.pairs * NEARLY_EXHAUSTED) / 100));
    this.warnings = logger && new RepeatedWarnings(logger);
  }

  /** Pairs in the range. */
  get capacity(): number {
    return this.pairs;
  }

  get inUse(): number {
    return this.used.size;
  }

  /** Pairs asked for and refused since start because none was free (or none could be bound). */
  get exhaustions(): number {
    return this.refused;
  }

  /** The even port of a free pair. Throws MediaError MEDIA_PORTS_EXHAUSTED when every pair is in use. */
  allocate(): number {
    for (let i = 0; i < this.pairs; i++) {
      const index = (this.next + i) % this.pairs;
      const port = this.first + index * 2;
      if (this.used.has(port)) continue;
      this.used.add(port);
      this.next = (index + 1) % this.pairs;
      if (!this.nearlyExhausted && this.used.size >= this.warnAt) {
        this.nearlyExhausted = true;
        this.logger?.warn({ range: this.description, inUse: this.used.size, capacity: this.pairs }, `${this.description} nearly exhausted`);
      }
      return port;
    }
    throw this.exhausted(`${this.description}: all ${this.pairs} port pairs are in use`);
  }

  /** Gives a pair back; releasing one that is not allocated does nothing (every end path may call it). */
  release(port: number): void {
    this.used.delete(port);
    if (this.nearlyExhausted && this.used.size * 100 < this.pairs * CLEARED) {
      this.nearlyExhausted = false;
      this.logger?.info({ range: this.description, inUse: this.used.size, capacity: this.pairs }, `${this.description} no longer nearly exhausted`);
    }
  }

  /**
   * Allocates a pair and binds it with `bind`. When binding fails because the port is taken (by another process:
   * `isBindFailure`, by default EADDRINUSE or EACCES), releases the pair and tries the next one, at most once per
   * pair; any other error is passed on. Throws MediaError MEDIA_PORTS_EXHAUSTED carrying the last bind error.
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
    throw this.exhausted(`${this.description}: no port pair could be bound`, lastError);
  }

  /** A pair refused for lack of one: counted, and warned about (repeats within a while counted, not repeated). */
  private exhausted(message: string, cause?: unknown): MediaError {
    this.refused++;
    this.warnings?.warn('exhausted', { range: this.description, capacity: this.pairs }, `${this.description} exhausted: a call could not get a port pair`);
    return new MediaError('MEDIA_PORTS_EXHAUSTED', message, cause === undefined ? undefined : { cause });
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
