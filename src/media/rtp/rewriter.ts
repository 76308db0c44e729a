/**
 * One continuous outgoing RTP stream made from packets of changing sources (RFC 3550 §5.1): the far end of a
 * re-INVITE that restarts its stream, a browser that renegotiates, or DTMF packets the relay injects. The
 * receiver must see one SSRC whose sequence numbers go up by one per packet and whose timestamps keep pace with
 * the wall clock, or it drops packets or resets its jitter buffer.
 *
 * Each source keeps its own numbering, shifted by offsets fixed when it starts: its first packet takes the next
 * sequence number, and a timestamp advanced from the previous packet by the wall-clock time in between (at least
 * one frame, so a new source never overlaps the last frame sent). The marker bit is set on that first packet
 * (RFC 3551 §4.1: it lets the receiver re-sync its playout). A source is "new" when its SSRC changes, or when its
 * sequence number jumps further than RFC 3550 Appendix A.1 allows (MAX_DROPOUT ahead, MAX_MISORDER behind), or
 * after resync().
 *
 * A pure processor: the caller gives the time.
 */
import { MAX_DROPOUT, MAX_MISORDER } from './reception.ts';

export interface RewriterOptions {
  /** The SSRC of the outgoing stream. */
  ssrc: number;
  clockRate: number;
  /** Timestamp units of one audio frame (20 ms of G.711 = 160). */
  frameTicks: number;
  /** First sequence number and timestamp sent (random by default, RFC 3550 §5.1). */
  initialSequence?: number;
  initialTimestamp?: number;
}

export interface RewrittenHeader {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
}

export class RtpStreamRewriter {
  private source: { ssrc: number; seqOffset: number; tsOffset: number; lastSeq: number } | undefined;
  private lastSeq: number;
  private lastTs: number;
  private lastAtMs = 0;
  private started = false;

  constructor(private readonly o: RewriterOptions) {
    this.lastSeq = ((o.initialSequence ?? randomUint(0x10000)) - 1) & 0xffff;
    this.lastTs = o.initialTimestamp ?? randomUint(0x100000000);
  }

  /** The outgoing header for a packet of source `ssrc` with its own sequence number and timestamp. */
  rewrite(ssrc: number, sequenceNumber: number, timestamp: number, marker: boolean, nowMs: number): RewrittenHeader {
    let src = this.source;
    let first = false;
    if (!src || src.ssrc !== ssrc || this.jumped(src.lastSeq, sequenceNumber)) {
      const elapsed = this.started
        ? Math.max(Math.round(((nowMs - this.lastAtMs) * this.o.clockRate) / 1000), this.o.frameTicks)
        : 0;
      src = {
        ssrc,
        seqOffset: (this.lastSeq + 1 - sequenceNumber) & 0xffff,
        tsOffset: (this.lastTs + elapsed - timestamp) >>> 0,
        lastSeq: sequenceNumber,
      };
      this.source = src;
      first = true;
    }
    const out: RewrittenHeader = {
      ssrc: this.o.ssrc,
      sequenceNumber: (sequenceNumber + src.seqOffset) & 0xffff,
      timestamp: (timestamp + src.tsOffset) >>> 0,
      marker: marker || first,
    };
    // Only a packet newer than the newest sent moves the stream on; a reordered one keeps its place.
    if (first || isNewer(sequenceNumber, src.lastSeq)) {
      src.lastSeq = sequenceNumber;
      this.lastSeq = out.sequenceNumber;
      this.lastTs = out.timestamp;
      this.lastAtMs = nowMs;
    }
    this.started = true;
    return out;
  }

  /**
   * Makes the next packet start a new source mapping, whatever its SSRC: for when the caller stopped passing a
   * source's packets on (hold), so the gap in that source's numbering does not reach the receiver as loss.
   */
  resync(): void {
    this.source = undefined;
  }

  private jumped(lastSeq: number, seq: number): boolean {
    const delta = (seq - lastSeq) & 0xffff;
    return delta >= MAX_DROPOUT && delta <= 0x10000 - MAX_MISORDER;
  }
}

/** Serial-number comparison of 16-bit sequence numbers (RFC 1982). */
function isNewer(seq: number, than: number): boolean {
  const delta = (seq - than) & 0xffff;
  return delta !== 0 && delta < 0x8000;
}

function randomUint(range: number): number {
  return Math.floor(Math.random() * range);
}
