/**
 * Seeded randomness for fuzz tests: the same seed gives the same inputs, so a failure names a seed to replay.
 */

/** mulberry32: a small deterministic PRNG (ample for picking mutations), values in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export const int = (r: () => number, n: number): number => Math.floor(r() * n);

/** One of `items`. */
export const pick = <T>(r: () => number, items: readonly T[]): T => items[int(r, items.length)]!;
