/**
 * Reception statistics of one RTP stream (RFC 3550 Appendix A.1 and A.3): packets received, and packets lost as the
 * gap between the packets expected from the sequence numbers and those that came. A new SSRC, or a jump in the
 * sequence beyond MAX_DROPOUT, starts a new count while the totals carry on. A pure processor.
 */

/**
 * RFC 3550 Appendix A.1: how far ahead a sequence number may jump, and how far behind it may arrive, and still
 * belong to the same run of the stream.
 */
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;

export class ReceptionStats {
  private ssrc: number | undefined;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private receivedNow = 0;
  /** Lost and received in earlier runs (other SSRCs or before a jump). */
  private lostBefore = 0;
  private receivedBefore = 0;

  update(ssrc: number, seq: number): void {
    if (this.ssrc !== ssrc) {
      this.restart(ssrc, seq);
      return;
    }
    const delta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
    if (delta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (delta <= SEQ_MOD - MAX_MISORDER) {
      // A very large jump: the source restarted its numbering (A.1 resyncs after two such packets; one will do).
      this.restart(ssrc, seq);
      return;
    }
    // Otherwise a duplicate or a late packet: it counts as received, the highest sequence stays.
    this.receivedNow++;
  }

  get received(): number {
    return this.receivedBefore + this.receivedNow;
  }

  /** Cumulative packets lost (A.3): never negative, although duplicates may outnumber the losses. */
  get lost(): number {
    return this.lostBefore + this.lostNow();
  }

  private lostNow(): number {
    if (this.ssrc === undefined) return 0;
    const expected = this.cycles + this.maxSeq - this.baseSeq + 1;
    return Math.max(expected - this.receivedNow, 0);
  }

  private restart(ssrc: number, seq: number): void {
    this.lostBefore += this.lostNow();
    this.receivedBefore += this.receivedNow;
    this.ssrc = ssrc;
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.cycles = 0;
    this.receivedNow = 1;
  }
}
