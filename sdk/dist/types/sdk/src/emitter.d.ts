/**
 * A typed event emitter, small enough to carry in a browser bundle: the event names and the payload of each are
 * one interface (`Events`), so `on('registered', (e) => …)` gets `e`'s type and a misspelt name does not compile.
 * Every event has exactly one payload argument.
 */
export type Listener<T> = (payload: T) => void;
export declare class Emitter<Events extends object> {
    #private;
    /** Adds a listener; returns a function that removes it again. */
    on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
    /** Adds a listener that is removed after its first call. */
    once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
    off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void;
    /**
     * Calls every listener of `event` in the order they were added. A listener that throws does not stop the others
     * nor the SDK's own handling of the frame that caused the event: its error is rethrown on a fresh task, where it
     * shows up as an uncaught error (the browser console, Node's `uncaughtException`) instead of vanishing.
     */
    protected emit<K extends keyof Events>(event: K, payload: Events[K]): void;
}
