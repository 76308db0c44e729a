/**
 * A session's calls (docs/client-protocol.md "Calls"): the live ones by callId, the offers of incoming calls not yet
 * announced, and the routing of every call frame and call `fail` to its call. A call leaves when it reaches a
 * final status; all of them end when the connection goes.
 */
import { Call, type CallOptions } from './call.ts';
import type { MediaOptions } from './media.ts';
import { type ClientMessageName, type ServerFailure } from './protocol.ts';
export interface SessionCallsHost {
    readonly media: MediaOptions;
    /** Sends a frame; false when the session's socket is not open. */
    send(message: ClientMessageName, arg: object): boolean;
    /** A frame about calls that concerns none the session can use. */
    warn(apiMethod: string, info: string): void;
    /** An incoming call the application may answer. */
    incoming(call: Call): void;
}
export declare class SessionCalls {
    #private;
    private readonly host;
    constructor(host: SessionCallsHost);
    /** The calls that have not ended. */
    get all(): readonly Call[];
    /** Whether `call` is a live call of this session. */
    holds(call: Call): boolean;
    /** An outgoing call: made here, placed in the background (microphone, offer, `call`). */
    place(options: CallOptions, caller: string | undefined): Call;
    /** `notifyTryingResponse`, `ring`, `talk`, `hold`, `finish`: the status in the call object is the truth. */
    status(data: unknown): void;
    /** `setRemoteSDP`: the answer of an outgoing call, or the offer of an incoming one (before it is announced). */
    remoteSdp(callId: unknown, sdp: unknown): void;
    /** `notifyIncomingCall`, with the offer that came before it. */
    incoming(value: unknown): void;
    /** `notifyTransferEvent` `[{callId, status, info}]`. */
    transfer(value: unknown): void;
    /**
     * A `fail` about a call, by its `callId`; a refused `call` without one (a frame the server could not read) goes
     * to the oldest call still waiting for its first answer, since the server answers frames in order. False when
     * the failure is about no call of this session.
     */
    failure(failure: ServerFailure): boolean;
    /** The connection is gone: every call ends here with `status` and `info`, and pending offers are dropped. */
    endAll(status: 'FINISH' | 'FAILED', info: string): void;
}
