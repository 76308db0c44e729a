/**
 * The browser's media side of one call: the microphone (getUserMedia), the RTCPeerConnection towards callhook,
 * and the element that plays the far end.
 *
 * callhook is the ICE peer with a known address (its candidate is in its SDP) and learns the browser's address from
 * the browser's connectivity checks, as a peer-reflexive candidate (RFC 8445 §7.3.1.3); the protocol has no message
 * for trickled candidates (docs/client-protocol.md "Calls"). So the SDP that goes out in `call` or `answer` is the
 * local description as soon as it is set, without waiting for ICE gathering: a slow or unreachable STUN server
 * would otherwise delay every call (issue 18: it cost 3 s of post-dial delay), and the official SDK does not wait
 * either. Whatever candidates the browser finds later are not needed.
 */
import { describe } from './channel.ts';
import { CallhookError } from './errors.ts';

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

export class MediaLeg {
  #remoteStream: MediaStream | undefined;
  #element: HTMLMediaElement | undefined;
  #createdElement = false;
  #closed = false;

  private constructor(
    readonly pc: RTCPeerConnection,
    readonly localStream: MediaStream,
    private readonly ownsStream: boolean,
    private readonly request: MediaRequest,
    private readonly warn: (info: string) => void,
  ) {
    pc.addEventListener('track', (event) => this.#play(event));
  }

  /** Gets the local stream and builds the peer connection with its tracks; throws CallhookError MEDIA_FAILED. */
  static async open(options: MediaOptions, request: MediaRequest, warn: (info: string) => void): Promise<MediaLeg> {
    const PeerConnection = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    if (PeerConnection === undefined) {
      throw new CallhookError('MEDIA_FAILED', 'WebRTC is not available here (no RTCPeerConnection)');
    }
    let stream = request.localStream;
    const ownsStream = stream === undefined;
    if (stream === undefined) {
      const getUserMedia = options.getUserMedia ?? defaultGetUserMedia();
      if (getUserMedia === undefined) {
        throw new CallhookError(
          'MEDIA_FAILED',
          'no microphone access here: navigator.mediaDevices is missing (the page must be served over https or from localhost)',
        );
      }
      try {
        stream = await getUserMedia({ audio: request.audio ?? true, video: request.video ?? false });
      } catch (err) {
        throw new CallhookError('MEDIA_FAILED', `getUserMedia failed: ${describe(err)}`, { cause: err });
      }
    }
    let pc: RTCPeerConnection;
    try {
      pc = new PeerConnection({ iceServers: options.iceServers ?? [] });
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      // With no microphone to send, still offer to hear the far end.
      if (stream.getAudioTracks().length === 0) pc.addTransceiver('audio', { direction: 'recvonly' });
    } catch (err) {
      if (ownsStream) for (const t of stream.getTracks()) t.stop();
      throw new CallhookError('MEDIA_FAILED', `cannot create the RTCPeerConnection: ${describe(err)}`, { cause: err });
    }
    return new MediaLeg(pc, stream, ownsStream, request, warn);
  }

  get hasAudio(): boolean {
    return this.localStream.getAudioTracks().length > 0;
  }

  get hasVideo(): boolean {
    return this.localStream.getVideoTracks().length > 0;
  }

  get remoteStream(): MediaStream | undefined {
    return this.#remoteStream;
  }

  /** Outgoing call: our offer, at once (no wait for ICE gathering). */
  async createOffer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.#localSdp();
  }

  /** Outgoing call: callhook's answer (`setRemoteSDP`). */
  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  /** Incoming call: callhook's offer in, our answer out at once (no wait for ICE gathering). */
  async answerOffer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.#localSdp();
  }

  /** Mutes or unmutes what we send (the tracks keep running, so unmuting is instant). */
  setAudioEnabled(enabled: boolean): void {
    for (const t of this.localStream.getAudioTracks()) t.enabled = enabled;
  }

  /** Closes the peer connection, stops the tracks the SDK opened, and detaches (or removes) the element. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pc.close();
    if (this.ownsStream) for (const t of this.localStream.getTracks()) t.stop();
    if (this.#element !== undefined) {
      this.#element.srcObject = null;
      if (this.#createdElement) this.#element.remove();
    }
  }

  #localSdp(): string {
    const sdp = this.pc.localDescription?.sdp;
    if (sdp === undefined) throw new CallhookError('MEDIA_FAILED', 'the RTCPeerConnection has no local description');
    return sdp;
  }

  #play(event: RTCTrackEvent): void {
    const stream = event.streams[0] ?? this.#remoteStream ?? new MediaStream();
    if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
    this.#remoteStream = stream;
    const element = this.#element ?? this.#attachElement();
    if (element === undefined || element.srcObject === stream) return;
    element.srcObject = stream;
    element.play().catch((err: unknown) => {
      // Closing the media (the call ended) interrupts a play() still starting: that is no failure to report.
      if (!this.#closed) this.warn(`the browser did not start playing the far end: ${describe(err)}`);
    });
  }

  #attachElement(): HTMLMediaElement | undefined {
    if (this.request.remoteAudio !== undefined) {
      this.#element = this.request.remoteAudio;
    } else if (typeof document !== 'undefined') {
      const audio = document.createElement('audio');
      audio.autoplay = true;
      audio.hidden = true;
      document.body.append(audio);
      this.#element = audio;
      this.#createdElement = true;
    }
    return this.#element;
  }
}

function defaultGetUserMedia(): MediaOptions['getUserMedia'] {
  const devices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  return devices?.getUserMedia === undefined ? undefined : (c) => devices.getUserMedia(c);
}
