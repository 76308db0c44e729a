/**
 * The one way the tests wait for something: poll a condition until it holds, bounded by a timeout that names what
 * was awaited. Tests wait on conditions, never on fixed sleeps, so a loaded machine makes them slower, not flaky.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** What a check returns while its condition does not hold yet. */
type NotYet = false | null | undefined;

/** The first pause between checks; it doubles up to `maxPollMs`, so a quick condition is seen at once. */
const FIRST_POLL_MS = 1;
const DEFAULT_MAX_POLL_MS = 20;

/**
 * Resolves with the first value of `check` that is not false, null or undefined (`true` for a plain condition, or
 * the thing found); throws after `timeoutMs` naming `what` (a function is called then, to show the state at the
 * timeout). A check that costs more (one that runs a process) raises `maxPollMs`.
 */
export async function eventually<T>(
  check: () => T | NotYet | Promise<T | NotYet>,
  timeoutMs: number,
  what: string | (() => string),
  { maxPollMs = DEFAULT_MAX_POLL_MS }: { maxPollMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = FIRST_POLL_MS;
  for (;;) {
    const found = await check();
    if (found !== false && found !== null && found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, maxPollMs);
  }
}
