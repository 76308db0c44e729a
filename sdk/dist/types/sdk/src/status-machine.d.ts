/**
 * A status that changes only along a table of legal transitions, after the SIP transaction layer's
 * (src/sip/transaction): every change goes through `transition()`, which refuses one the table does not list by
 * throwing. Such a change is a bug in the SDK, not a condition an application could handle, so it is a plain
 * Error rather than a CallhookError. Input from the server is not trusted that far: whoever applies a server frame
 * asks `allows()` first and reports a frame the table does not allow instead of applying it.
 */
/** For each status, the statuses it may change to. A status listed as its own successor may be entered again. */
export type Transitions<S extends string> = Readonly<Record<S, readonly S[]>>;
export declare class StatusMachine<S extends string> {
    #private;
    /** What the status is of, for texts about it: `connection`, `registration`. */
    readonly name: string;
    private readonly transitions;
    constructor(
    /** What the status is of, for texts about it: `connection`, `registration`. */
    name: string, initial: S, transitions: Transitions<S>);
    get current(): S;
    /** Whether the table allows `next` from the current status. */
    allows(next: S): boolean;
    /** Moves to `next`; throws when the table does not allow it from the current status. */
    transition(next: S): void;
}
