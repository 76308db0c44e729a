/**
 * Failure containment (docs/security.md): every way into a call or a session — a client request, a SIP or media
 * callback, a hook's answer arriving — runs as a step through `contain`. Expected failures are handled inside the
 * step (exception classes with a `code`); whatever still escapes it, thrown or rejected, is a bug in callhook, and it
 * ends only the call or session it hit (`onBug`), never the process.
 */
export function contain(step: () => Promise<void> | void, onBug: (err: unknown) => void): void {
  let running: Promise<void> | void;
  try {
    running = step();
  } catch (err) {
    return onBug(err);
  }
  running?.catch(onBug);
}
