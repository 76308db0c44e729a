import { Emitter } from './emitter.ts';
import { type MediaOptions, type MediaRequest } from './media.ts';
import { type CallStatus, type ClientMessageName, type DtmfType, type JsonValue, type ServerCall, type TransferStatus } from './protocol.ts';
export interface CallOptions extends MediaRequest {
    /** A number, a user name (`sip:<callee>@<sipDomain>`), or a full `sip:`/`sips:`/`tel:` URI. */
    callee: string;
    /** Display name for the From of the INVITE. */
    visibleName?: string;
    /** Passed to the `call` hook as is. */
    custom?: JsonValue;
    /** Extra parameters for the INVITE, passed to the `call` hook (WCS `inviteParameters`). */
    inviteParameters?: Record<string, string>;
}
export type AnswerOptions = MediaRequest;
/** A call's status changed. `info` says why, in the server's words (`SIP 486 Busy Here`, a backend's reason). */
export interface CallStatusEvent {
    status: CallStatus;
    info?: string;
    sipStatus?: number;
    sipMessageRaw?: string;
    /** The server's call object as last received (built locally for changes the server did not report). */
    call: ServerCall;
}
/** Progress of a transfer this call asked for (notifyTransferEvent). */
export interface TransferEvent {
    status: TransferStatus;
    info?: string;
}
/** The server refused something without ending the object it concerns (a hold, a DTMF, an unknown message). */
export interface Warning {
    apiMethod: string;
    info: string;
    callId?: string;
    id?: string;
}
export interface CallEvents {
    status: CallStatusEvent;
    transfer: TransferEvent;
    warning: Warning;
}
/** What a call needs from its session. */
export interface CallHost {
    readonly media: MediaOptions;
    /** Sends a frame; false when the session's socket is not open. */
    send(message: ClientMessageName, arg: object): boolean;
    /** The call has reached a final status. */
    ended(call: Call): void;
}
export declare class Call extends Emitter<CallEvents> {
    #private;
    private readonly host;
    /** The callId: made by the SDK for outgoing calls, by the server for incoming ones. */
    get id(): string;
    get incoming(): boolean;
    get status(): CallStatus;
    /** Why the status is what it is (from the last status change). */
    get info(): string | undefined;
    get sipStatus(): number | undefined;
    get caller(): string | undefined;
    get callee(): string | undefined;
    /** The display name of the far end, when the server knows it (incoming calls). */
    get visibleName(): string | undefined;
    /** The server's call object as last received. */
    get data(): ServerCall;
    get ended(): boolean;
    get peerConnection(): RTCPeerConnection | undefined;
    get localStream(): MediaStream | undefined;
    get remoteStream(): MediaStream | undefined;
    get muted(): boolean;
    /** Stops sending microphone audio (the far end hears silence); the SIP call is unchanged. */
    mute(): void;
    unmute(): void;
    /**
     * Ends the call: cancels an outgoing call, declines an incoming one that was not answered, or hangs up. The
     * microphone is released at once; the status becomes final when the server confirms (`finish`). Does nothing
     * on a call that has ended.
     */
    hangup(): void;
    /** Puts the far end on hold (SIP re-INVITE with a=sendonly); the status becomes HOLD. */
    hold(): void;
    /** Resumes a held call; the status becomes ESTABLISHED. */
    unhold(): void;
    /** Sends DTMF digits (`0-9`, `*`, `#`, `A-D`), as RFC 4733 events by default or as SIP INFO. */
    sendDtmf(digits: string, type?: DtmfType): void;
    /** Blind transfer (SIP REFER) of the far end to `target`; progress arrives as `transfer` events. */
    transfer(target: string): void;
    /** The peer connection's statistics (RTCPeerConnection.getStats). */
    getStats(): Promise<RTCStatsReport>;
}
