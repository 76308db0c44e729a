/** Session-wide media settings (ConnectOptions.media). Each default is the browser's own global. */
export interface MediaOptions {
    /** STUN/TURN servers for the RTCPeerConnection; default none (callhook's host candidates are in its SDP). */
    iceServers?: RTCIceServer[];
    /** Default `navigator.mediaDevices.getUserMedia`. */
    getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
    /** Default the global `RTCPeerConnection`. */
    RTCPeerConnection?: new (configuration?: RTCConfiguration) => RTCPeerConnection;
}
/** What one call sends and where it plays the far end. */
export interface MediaRequest {
    /** Send the microphone (or these constraints); default true. */
    audio?: boolean | MediaTrackConstraints;
    /** Send the camera (or these constraints); default false. */
    video?: boolean | MediaTrackConstraints;
    /** Use this stream instead of calling getUserMedia; the SDK then leaves its tracks running when the call ends. */
    localStream?: MediaStream;
    /**
     * The element that plays the far end. Without one the SDK creates a hidden `<audio autoplay>` in the document
     * and removes it when the call ends. Pass a `<video>` for video calls.
     */
    remoteAudio?: HTMLMediaElement;
}
export declare class MediaLeg {
    #private;
    readonly pc: RTCPeerConnection;
    readonly localStream: MediaStream;
    private readonly ownsStream;
    private readonly request;
    private readonly warn;
    private constructor();
    /** Gets the local stream and builds the peer connection with its tracks; throws CallhookError MEDIA_FAILED. */
    static open(options: MediaOptions, request: MediaRequest, warn: (info: string) => void): Promise<MediaLeg>;
    get hasAudio(): boolean;
    get hasVideo(): boolean;
    get remoteStream(): MediaStream | undefined;
    /** Outgoing call: our offer, at once (no wait for ICE gathering). */
    createOffer(): Promise<string>;
    /** Outgoing call: callhook's answer (`setRemoteSDP`). */
    acceptAnswer(sdp: string): Promise<void>;
    /** Incoming call: callhook's offer in, our answer out at once (no wait for ICE gathering). */
    answerOffer(sdp: string): Promise<string>;
    /** Mutes or unmutes what we send (the tracks keep running, so unmuting is instant). */
    setAudioEnabled(enabled: boolean): void;
    /** Closes the peer connection, stops the tracks the SDK opened, and detaches (or removes) the element. */
    close(): void;
}
