/**
 * A browser for calls built on libdatachannel (node-datachannel): ICE, DTLS and SRTP in C++ on libdatachannel's
 * threads, where the werift BrowserPeer (./media-peers.ts) does them in JavaScript at 13–18 ms of CPU per call set
 * up. The comparison kit's load clients use it so that they cost less than the server they set calls up through
 * (docs/benchmarks.md "Call setup with a libdatachannel load client").
 *
 * It plays the same browser as BrowserPeer: it offers Chrome's audio formats (CHROME_AUDIO) on one audio stream,
 * sends its SDP without candidates (as the WCS SDK does: the server finds it through its ICE checks), gathers on the
 * one address it is given, and takes the server's answer. It places calls only (no `answer`).
 *
 * Only the callbacks that cannot be read as state are set, as in callhook's engine (src/media/datachannel-engine.ts):
 * each is a libuv async handle the event loop visits on every wake-up. Gathering is read as state (it completes in
 * setLocalDescription's turn when bound to one address); the connection's state and the track's packets come by
 * callback.
 */
import nodeDataChannel, { type PeerConnection, type Track } from 'node-datachannel';
import { randomInt } from 'node:crypto';
import { isRtcp, parseRtp, serializeRtp } from '../src/media/rtp/packet.ts';
import { CHROME_AUDIO, LOOPBACK, receivedRtp, withoutCandidates, withTimeout, type ReceivedRtp, type WebRtcPeer } from './media-peers.ts';

/** libjuice gathers its host candidate at once; this bounds the wait should it not. */
const GATHER_TIMEOUT_MS = 5_000;
const GATHER_POLL_MS = 1;
/** How long close() waits for libdatachannel to report the connection closed (its socket released). */
const CLOSE_TIMEOUT_MS = 2_000;
/** The mid of the offer's one stream. */
const MID = '0';

let peers = 0;

export class DataChannelBrowserPeer implements WebRtcPeer {
  readonly received: ReceivedRtp[] = [];
  private readonly pc: PeerConnection;
  private readonly track: Track;
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private onPacket: ((r: ReceivedRtp) => void) | undefined;
  private readonly stateWatchers = new Set<(state: string) => void>();

  /** `address`: the one IPv4 address ICE gathers on (default 127.0.0.1). */
  constructor(o: { address?: string } = {}) {
    this.pc = new nodeDataChannel.PeerConnection(`browser-${++peers}`, {
      iceServers: [],
      bindAddress: o.address ?? LOOPBACK,
      disableAutoNegotiation: true,
    });
    this.pc.onStateChange((state) => {
      for (const watch of this.stateWatchers) watch(state);
    });
    const audio = new nodeDataChannel.Audio(MID, 'SendRecv');
    for (const c of CHROME_AUDIO) audio.addAudioCodec(c.payloadType, `${c.mimeType.slice('audio/'.length)}/${c.clockRate}${c.channels !== undefined ? `/${c.channels}` : ''}`);
    audio.addSSRC(this.ssrc, 'browser');
    this.track = this.pc.addTrack(audio);
    this.track.onMessage((buf) => this.receive(buf));
    // node-datachannel lets go of a track's callbacks (which keep Node's event loop alive) only when its close is
    // reported to a listener.
    this.track.onClosed(() => {});
  }

  /** The browser's offer for a call, as the WCS SDK sends it: no candidates. */
  async createOffer(): Promise<string> {
    this.pc.setLocalDescription('offer');
    await this.until(() => this.pc.gatheringState() === 'complete', GATHER_TIMEOUT_MS, 'browser peer did not gather');
    return withoutCandidates(this.pc.localDescription()!.sdp);
  }

  async setAnswer(sdp: string): Promise<void> {
    this.pc.setRemoteDescription(sdp, 'answer');
  }

  /** Resolves when DTLS is up; rejects after `timeoutMs`. */
  async connected(timeoutMs = 10_000): Promise<void> {
    if (this.pc.state() === 'connected') return;
    await withTimeout(new Promise<void>((resolve) => this.onConnected(resolve)), timeoutMs, 'browser peer did not connect');
  }

  onConnected(fn: () => void): void {
    const watch = (state: string) => {
      if (state !== 'connected') return;
      this.stateWatchers.delete(watch);
      fn();
    };
    this.stateWatchers.add(watch);
  }

  /** Sends one RTP packet with exactly this payload type; libdatachannel protects it (SRTP). */
  send(payloadType: number, sequenceNumber: number, timestamp: number, payload: Buffer, marker = false): void {
    this.track.sendMessageBinary(serializeRtp({
      header: { marker, payloadType, sequenceNumber, timestamp, ssrc: this.ssrc, csrcs: [] }, payload, paddingSize: 0,
    }));
  }

  /** Called for every packet received (after it is recorded). */
  onRtp(fn: (r: ReceivedRtp) => void): void {
    this.onPacket = fn;
  }

  /** Closes the connection and waits (bounded) until libdatachannel has released its socket. */
  async close(): Promise<void> {
    this.track.close();
    this.pc.close();
    await this.until(() => this.pc.state() === 'closed', CLOSE_TIMEOUT_MS, 'browser peer did not close').catch(() => {});
  }

  private receive(buf: Buffer): void {
    // RTCP (rtcp-mux) arrives on the same track.
    if (isRtcp(buf)) return;
    const p = parseRtp(buf);
    const r = receivedRtp(p.header, p.payload);
    this.received.push(r);
    this.onPacket?.(r);
  }

  /** Resolves once `done()` holds, read every GATHER_POLL_MS; rejects with `what` after `timeoutMs`. */
  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, GATHER_POLL_MS));
    }
  }
}
