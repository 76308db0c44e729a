/**
 * The replay list of one stream (RFC 3711 §3.3.2): a sliding window of the last `size` packet indices behind the
 * highest one authenticated. An index older than the window, or one inside it already received, is a replay.
 *
 * Each index marks the slot `index mod size` with itself, so a slot left from an earlier turn of the window never
 * matches: no bit shifting, no clearing.
 */
export const REPLAY_WINDOW = 64;

export class ReplayWindow {
  private highest = -1;
  private readonly slots: Float64Array;

  constructor(private readonly size = REPLAY_WINDOW) {
    this.slots = new Float64Array(size).fill(-1);
  }

  /** Whether `index` may be accepted (checked before authentication; `accept` only after it succeeded). */
  fresh(index: number): boolean {
    if (index > this.highest) return true;
    if (this.highest - index >= this.size) return false;
    return this.slots[index % this.size] !== index;
  }

  accept(index: number): void {
    this.slots[index % this.size] = index;
    if (index > this.highest) this.highest = index;
  }
}
