/**
 * Stand-ins for what the SDK gets from a browser, for the SDK's unit tests (its state machines, without a network
 * or a media stack): a WebSocket whose "server" side the test drives frame by frame, and a microphone plus an
 * RTCPeerConnection that record what the SDK does with them. The integration tests run the real things
 * (callhook with `ws`, headless Chromium).
 */
import type { WebSocketLike } from '../../sdk/src/index.ts';

type Listener = (event: unknown) => void;

/** A WebSocket the test plays the server of. Every instance is kept in `FakeWebSocket.all`, newest last. */
export class FakeWebSocket implements WebSocketLike {
  static all: FakeWebSocket[] = [];
  /** What the next constructed socket does: open, or close before opening (connection refused). */
  static behaviour: 'open' | 'refuse' = 'open';

  readyState = 0;
  /** Every frame the SDK sent, parsed. */
  readonly sent: Array<{ message: string; data: unknown[] }> = [];
  closedWith: { code: number; reason: string } | undefined;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
    const behaviour = FakeWebSocket.behaviour;
    setTimeout(() => {
      if (behaviour === 'open') {
        this.readyState = 1;
        this.fire('open', {});
      } else {
        this.readyState = 3;
        this.fire('error', {});
        this.fire('close', { code: 1006, reason: '' });
      }
    }, 0);
  }

  static reset(): void {
    FakeWebSocket.all = [];
    FakeWebSocket.behaviour = 'open';
  }

  static get last(): FakeWebSocket {
    const ws = FakeWebSocket.all.at(-1);
    if (ws === undefined) throw new Error('no WebSocket was created');
    return ws;
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as { message: string; data: unknown[] });
  }

  close(code = 1005, reason = ''): void {
    if (this.readyState === 3) return;
    this.closedWith = { code, reason };
    this.readyState = 2;
    setTimeout(() => this.serverClose(code, reason), 0);
  }

  /** The server sends a frame `{message, data}`. */
  deliver(message: string, ...data: unknown[]): void {
    this.fire('message', { data: JSON.stringify({ message, data }) });
  }

  deliverRaw(data: unknown): void {
    this.fire('message', { data });
  }

  /** The connection closes with `code` (from the server's side, or the end of the client's close). */
  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.fire('close', { code, reason });
  }

  /** The frames sent with message `name`, their data[0]. */
  sentNamed(name: string): Array<Record<string, unknown>> {
    return this.sent.filter((f) => f.message === name).map((f) => f.data[0] as Record<string, unknown>);
  }

  private fire(type: string, event: object): void {
    const listeners = this.listeners.get(type) ?? [];
    // Like `ws` (an EventEmitter): an `error` nobody listens to is thrown.
    if (type === 'error' && listeners.length === 0) throw new Error('unhandled WebSocket error event');
    for (const l of listeners) l(event);
  }
}

export class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {
    this.stopped = true;
  }
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getTracks(): FakeTrack[] {
    return this.tracks;
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  addTrack(track: FakeTrack): void {
    this.tracks.push(track);
  }
}

/** The candidate line a FakePeerConnection adds to its SDP when "gathering" completes. */
export const FAKE_CANDIDATE = 'a=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n';

/**
 * Records what the SDK does. Gathering completes `gatheringMs` after setLocalDescription (or never with -1), and
 * only then does the local description hold the candidate: an SDP sent too early has none.
 */
export class FakePeerConnection {
  static all: FakePeerConnection[] = [];
  static gatheringMs = 5;

  signalingState: RTCSignalingState = 'stable';
  iceGatheringState: RTCIceGatheringState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  readonly tracks: FakeTrack[] = [];
  readonly transceivers: Array<{ kind: string; direction: string }> = [];
  closed = false;
  private readonly listeners = new Map<string, Array<(e: unknown) => void>>();

  constructor(readonly configuration?: RTCConfiguration) {
    FakePeerConnection.all.push(this);
  }

  static reset(): void {
    FakePeerConnection.all = [];
    FakePeerConnection.gatheringMs = 5;
  }

  addEventListener(type: string, l: (e: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }

  removeEventListener(type: string, l: (e: unknown) => void): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((x) => x !== l));
  }

  addTrack(track: FakeTrack): void {
    this.tracks.push(track);
  }

  addTransceiver(kind: string, init: { direction: string }): void {
    this.transceivers.push({ kind, direction: init.direction });
  }

  async createOffer(): Promise<{ type: 'offer'; sdp: string }> {
    return { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n' };
  }

  async createAnswer(): Promise<{ type: 'answer'; sdp: string }> {
    if (this.signalingState !== 'have-remote-offer') throw new Error('createAnswer without a remote offer');
    return { type: 'answer', sdp: 'v=0\r\no=- 2 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n' };
  }

  async setLocalDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    this.localDescription = { ...d };
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    this.iceGatheringState = 'gathering';
    if (FakePeerConnection.gatheringMs >= 0) {
      setTimeout(() => {
        if (this.localDescription !== null) this.localDescription.sdp += FAKE_CANDIDATE;
        this.iceGatheringState = 'complete';
        for (const l of this.listeners.get('icegatheringstatechange') ?? []) l({});
      }, FakePeerConnection.gatheringMs);
    }
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    if (!d.sdp.startsWith('v=0')) throw new Error('SDP must start with v=0');
    if (d.type === 'answer' && this.signalingState !== 'have-local-offer') throw new Error('answer without an offer');
    this.remoteDescription = { ...d };
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }

  async getStats(): Promise<Map<string, unknown>> {
    return new Map([['x', { type: 'outbound-rtp' }]]);
  }

  close(): void {
    this.closed = true;
    this.signalingState = 'closed';
  }
}

/**
 * A getUserMedia that hands out FakeStreams and remembers each; `refuse` makes it fail like a denied prompt,
 * `delayMs` makes it take that long (a permission prompt).
 */
export function fakeGetUserMedia(opts: { refuse?: boolean; delayMs?: number } = {}) {
  const streams: FakeStream[] = [];
  const constraints: MediaStreamConstraints[] = [];
  const getUserMedia = async (c: MediaStreamConstraints): Promise<MediaStream> => {
    constraints.push(c);
    if (opts.delayMs !== undefined) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (opts.refuse === true) throw Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
    const tracks = [new FakeTrack('audio'), ...(c.video ? [new FakeTrack('video')] : [])];
    const stream = new FakeStream(tracks);
    streams.push(stream);
    return stream as unknown as MediaStream;
  };
  return { getUserMedia, streams, constraints };
}
