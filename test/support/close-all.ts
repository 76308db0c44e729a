/**
 * A test's `after`: every peer is closed even when an earlier close fails (or `before` stopped half-way, leaving
 * some undefined); the failures are thrown together at the end, named by `what`.
 */
export async function closeAll(what: string, closers: ReadonlyArray<() => Promise<unknown> | undefined>): Promise<void> {
  const errors: unknown[] = [];
  for (const close of closers) await Promise.resolve().then(close).catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw new AggregateError(errors, `${what} cleanup failed`);
}
