/** What the comparison kit's load clients share: running a task over items a few at a time, and one clock. */

/** Runs `task` on `items`, `concurrency` at a time; resolves with the results and the failures' messages. */
export async function pool<T, R>(items: T[], concurrency: number, task: (item: T) => Promise<R>): Promise<{ done: R[]; failed: string[] }> {
  const done: R[] = [];
  const failed: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item).then((r) => done.push(r), (e: Error) => failed.push(e.message));
    }
  }));
  return { done, failed };
}

/**
 * Now, in ms since the epoch, to the microsecond: one scale for every process of the kit and for sipp's trace, so
 * a call's steps seen by a load client line up with the INVITE and 200 sipp logged.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
