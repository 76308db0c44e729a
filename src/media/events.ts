/**
 * A typed event (the werift `Event<[…]>` idea): listeners get checked argument types, and `on` returns the function
 * that removes the listener, so whoever subscribes owns the unsubscription.
 */
export class Listeners<A extends unknown[]> {
  private readonly fns = new Set<(...args: A) => void>();

  on(fn: (...args: A) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  /** Calls every listener; one that throws does not stop the others, and its error goes to `onError`. */
  emit(onError: (err: unknown) => void, ...args: A): void {
    for (const fn of this.fns) {
      try {
        fn(...args);
      } catch (err) {
        onError(err);
      }
    }
  }

  clear(): void {
    this.fns.clear();
  }
}
