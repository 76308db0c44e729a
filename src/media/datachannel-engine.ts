/**
 * The media engine implemented with libdatachannel (C++, through node-datachannel 0.33.4): one PeerConnection per
 * leg, configured as callhook's end of a browser call (docs/client-protocol.md "Calls"). ICE, DTLS and SRTP run in
 * libdatachannel's own threads; JavaScript sees each decrypted RTP packet once and hands each outgoing one over
 * once, which takes about two thirds of werift's CPU per call (docs/benchmarks.md).
 *
 * - A full ICE agent (libjuice) rather than ICE-lite: it gathers one host candidate on `localAddress` from the
 *   port pair it is given, and, like a lite agent, finds the browser through the browser's checks (the WCS SDK
 *   sends no candidates; the browser's address is learnt as a peer-reflexive candidate, RFC 8445 §7.3.1.3).
 *   The candidate's address is rewritten to `publicAddress` (1:1 NAT), as no STUN server is used.
 * - Our audio track is added before the SDP is made, so the SDP lists exactly our formats and our SSRC, and the
 *   track is ours to send on at once.
 * - RTP goes out with its own payload type (DTMF keeps telephone-event's) and our SSRC; libdatachannel protects
 *   and sends it in the calling thread, after copying it, so one output buffer serves every packet of a leg.
 * - Our offer (incoming calls) is made on one peer connection, closed at once, and the browser's answer is taken
 *   by a second one with the same port, ICE credentials, certificate (./dtls-certificate.ts) and track, opened
 *   when the answer arrives: see `acceptAnswer` for the race this avoids.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { PeerConnection, Track } from 'node-datachannel';
import { browserFormats, type PayloadFormat } from './codecs.ts';
import { dtlsCertificate, type PemCertificate } from './dtls-certificate.ts';
import type { MediaEngine, WebRtcLeg, WebRtcLegOptions } from './engine.ts';
import { MediaError } from './errors.ts';
import { isRtcp, parseRtp, writeRtp, type RtpPacket } from './rtp/packet.ts';
import { parseCandidate, serializeCandidate } from './sdp/candidate.ts';
import type { SessionDescription } from './sdp/model.ts';
import { payloadFormats } from './sdp/rtpmap.ts';
import { serializeSdp } from './sdp/serialize.ts';
import { mid } from './sdp/stream-attributes.ts';
import { bindUdp, closeSocket } from './udp.ts';
import {
  MAX_RTP_SIZE, WebRtcLegBase, withCandidate, type PeerConnectionOps, type WebRtcEngineOptions,
} from './webrtc-leg.ts';

/** node-datachannel's API, loaded only when this engine is chosen (see DataChannelEngine.load). */
type NodeDataChannel = typeof import('node-datachannel').default;

export class DataChannelEngine implements MediaEngine {
  private constructor(
    private readonly o: WebRtcEngineOptions,
    private readonly ndc: NodeDataChannel,
  ) {}

  /**
   * Loads libdatachannel's native module. Only the chosen engine is loaded, so a platform without a prebuilt module
   * can still run the werift engine; here the error says so.
   */
  static async load(o: WebRtcEngineOptions): Promise<DataChannelEngine> {
    let ndc: NodeDataChannel;
    try {
      ndc = (await import('node-datachannel')).default;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new MediaError(
        'MEDIA_ENGINE_UNAVAILABLE',
        `the libdatachannel WebRTC engine could not load node-datachannel (${why}); set webrtcEngine to "werift"`,
        { cause: err },
      );
    }
    return new DataChannelEngine(o, ndc);
  }

  createLeg(options: WebRtcLegOptions): WebRtcLeg {
    return new DataChannelLeg(this.o, options, this.ndc);
  }
}

/** libjuice gathers its host candidate at once; this bounds the wait should it not. */
const GATHER_TIMEOUT_MS = 5_000;
/** How long close() waits for libdatachannel to report the connection closed (its socket released). */
const CLOSE_TIMEOUT_MS = 2_000;
const SSRC_OFFSET = 8;
/** The mid of our offer's one stream. */
const OFFER_MID = '0';

/** RFC 8839 §5.4: ice-ufrag of 4 to 256 characters, ice-pwd of 22 to 256, from the ice-char set (base64 is). */
function iceCredentials(): { iceUfrag: string; icePwd: string } {
  const chars = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '');
  return { iceUfrag: chars(6), icePwd: chars(18) };
}

class DataChannelConnection implements PeerConnectionOps {
  /** Made once a port of the pair is known to be free (see `open`). */
  private pc: PeerConnection | undefined;
  /** Our sendrecv audio track: added before each description is made. */
  track: Track | undefined;
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  onConnected: () => void = () => {};
  onFailed: () => void = () => {};
  /** Each RTP or RTCP packet the browser sends on our track. */
  onPacket: (buf: Buffer) => void = () => {};
  /** Whether ICE completed at some point: a failure after it is DTLS's (libdatachannel closes ICE as it fails). */
  private iceWasConnected = false;
  /** What our offer promised (port, ICE credentials, certificate), for the peer connection that takes the answer. */
  private offered: { port: number; ice: { iceUfrag: string; icePwd: string }; certificate: PemCertificate } | undefined;
  /**
   * Our port while the call rings: a socket that reads and drops the browser's checks, so no other process takes the
   * port before the answer's peer connection binds it (in the same turn as this socket is closed).
   */
  private holder: Socket | undefined;
  private readonly stateWaiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly ndc: NodeDataChannel,
    private readonly name: string,
    private readonly engine: WebRtcEngineOptions,
    private readonly basePort: number,
    /** What our offer lists: the configured codecs and telephone-event. */
    private readonly offerFormats: readonly PayloadFormat[],
  ) {}

  async answer(offer: SessionDescription): Promise<SessionDescription> {
    const pc = this.open(await this.freePort([this.basePort, this.basePort + 1]));
    const audio = offer.media[0]!;
    this.addTrack(pc, mid(audio) ?? OFFER_MID, payloadFormats(audio));
    this.setRemote(pc, serializeSdp(offer), 'offer');
    pc.setLocalDescription('answer');
    return this.gathered(pc);
  }

  /**
   * Our offer, made on a peer connection that is closed again once it is written: until the browser's answer
   * arrives, nothing answers on our port (see `acceptAnswer`).
   */
  async offer(): Promise<SessionDescription> {
    const certificate = await dtlsCertificate();
    const ice = iceCredentials();
    const port = await this.freePort([this.basePort, this.basePort + 1]);
    const pc = this.open(port, certificate);
    this.addTrack(pc, OFFER_MID, this.offerFormats);
    pc.setLocalDescription('offer', ice);
    const sdp = await this.gathered(pc);
    await this.closePeerConnection(pc);
    this.pc = undefined;
    this.track = undefined;
    this.offered = { port, ice, certificate };
    // Should the port not be free yet, acceptAnswer checks it again.
    this.holder = await bindUdp(this.engine.localAddress, port).catch(() => undefined);
    if (this.closed) this.releaseHolder();
    return sdp;
  }

  /**
   * The browser's answer, on a new peer connection that repeats our offer (same port, ICE credentials, certificate,
   * track) and takes the answer in the same turn of the event loop.
   *
   * Why not on the offer's peer connection (issue 13): the browser starts ICE as it answers, while its answer is
   * still on its way through the WebSocket and the `answer` hook, and libjuice answers its checks before it knows
   * the browser's credentials (RFC 8445 §7.3), so the browser starts DTLS at once. libdatachannel hands the answer to
   * ICE before it stores it for the fingerprint check (PeerConnection::setRemoteDescription), and ICE completes on
   * its own thread at once: a browser's DTLS flight arriving in that gap is checked against no fingerprint and
   * refused (`unknown CA`), and the call fails at answer time — about 1 call in 50 on a loaded machine. With no
   * socket on our port until the answer is stored, the browser's checks go unanswered until then, and its DTLS
   * starts only after.
   */
  async acceptAnswer(answerSdp: string): Promise<void> {
    const offered = this.offered;
    if (offered === undefined) return;
    // UDP sockets are released at once on close: the peer connection below binds the port in this same turn.
    if (!this.releaseHolder()) await this.freePort([offered.port]);
    if (this.closed) return;
    const pc = this.open(offered.port, offered.certificate);
    this.addTrack(pc, OFFER_MID, this.offerFormats);
    pc.setLocalDescription('offer', offered.ice);
    this.setRemote(pc, answerSdp, 'answer');
  }

  iceConnected(): boolean {
    return this.iceWasConnected;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseHolder();
    this.onConnected = () => {};
    this.onFailed = () => {};
    const pc = this.pc;
    if (!pc) return;
    await this.closePeerConnection(pc);
  }

  /** Closes the socket holding our port during the ringing, if there is one; says whether there was. */
  private releaseHolder(): boolean {
    const holder = this.holder;
    this.holder = undefined;
    if (holder === undefined) return false;
    void closeSocket(holder);
    return true;
  }

  /** Closes `pc` and its track, and waits (bounded) until libdatachannel has released its socket. */
  private async closePeerConnection(pc: PeerConnection): Promise<void> {
    if (this.pc === pc) this.track?.close();
    pc.close();
    await this.until(() => pc.state() === 'closed', CLOSE_TIMEOUT_MS);
  }

  /**
   * The first of `ports` that is free. libdatachannel must never be given a range in which it can bind nothing: it
   * then throws from setLocalDescription in a way that aborts the process. So each port is tried here first (a port
   * another process holds fails the bind: MediaError MEDIA_NO_CANDIDATE, and for the offer the pair is skipped),
   * and libdatachannel gets the free one alone, before any other I/O is handled.
   */
  private async freePort(ports: readonly number[]): Promise<number> {
    const port = await firstBindable(this.engine.localAddress, ports);
    if (port === undefined) throw new MediaError('MEDIA_NO_CANDIDATE', `port ${ports.join(' and ')} taken by another process`);
    return port;
  }

  /** A peer connection bound to `port` alone; with `certificate`, that one rather than one of its own. */
  private open(port: number, certificate?: PemCertificate): PeerConnection {
    const pc = new this.ndc.PeerConnection(this.name, {
      iceServers: [],
      bindAddress: this.engine.localAddress,
      portRangeBegin: port,
      portRangeEnd: port,
      disableAutoNegotiation: true,
      ...(certificate && { certificatePemFile: certificate.certificate, keyPemFile: certificate.key }),
    });
    // node-datachannel keeps one callback per event: this one serves the leg and the waits below. Only the
    // current peer connection speaks for the leg (the offer's is closed when the answer's is opened).
    pc.onStateChange((state) => {
      if (this.pc === pc) {
        if (state === 'failed' || state === 'closed' || state === 'disconnected') this.onFailed();
        // Connected again after 'disconnected' (the first time, the track's opening says so: see addTrack).
        else if (state === 'connected' && this.track?.isOpen()) this.onConnected();
      }
      for (const wake of this.stateWaiters) wake();
    });
    pc.onIceStateChange((state) => {
      if (this.pc === pc && (state === 'connected' || state === 'completed')) this.iceWasConnected = true;
    });
    pc.onGatheringStateChange(() => {
      for (const wake of this.stateWaiters) wake();
    });
    this.pc = pc;
    return pc;
  }

  /** The browser's SDP; what libdatachannel refuses in it (a plain Error) becomes an MediaError MEDIA_SDP_PARSE with its reason. */
  private setRemote(pc: PeerConnection, sdp: string, type: 'offer' | 'answer'): void {
    try {
      pc.setRemoteDescription(sdp, type);
    } catch (err) {
      throw new MediaError('MEDIA_SDP_PARSE', `the browser SDP was refused: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** Our track with `formats` (the browser's payload types), or the configured ones for an offer. */
  private addTrack(pc: PeerConnection, streamId: string, formats: readonly PayloadFormat[]): void {
    const audio = new this.ndc.Audio(streamId, 'SendRecv');
    for (const f of formats) {
      // RFC 7587 §7: Opus is `opus/48000/2`; a browser matches no `opus/48000` and would send nothing.
      const codec = `${f.encoding}/${f.clockRate}${f.channels !== undefined ? `/${f.channels}` : ''}`;
      // node-datachannel takes the fmtp only as a string, never as undefined.
      if (f.fmtp === undefined) audio.addAudioCodec(f.payloadType, codec);
      else audio.addAudioCodec(f.payloadType, codec, f.fmtp);
    }
    audio.addSSRC(this.ssrc, `callhook-${this.ssrc}`);
    const track = pc.addTrack(audio);
    track.onOpen(() => this.onConnected());
    track.onMessage((buf) => this.onPacket(buf));
    // node-datachannel lets go of a track's last callback (which keeps Node's event loop alive) only when its
    // close is reported to a listener; without one, only when the track object is garbage-collected.
    track.onClosed(() => {});
    this.track = track;
  }

  /** Our SDP once the host candidate is gathered, its address the public one. */
  private async gathered(pc: PeerConnection): Promise<SessionDescription> {
    await this.until(() => pc.gatheringState() === 'complete', GATHER_TIMEOUT_MS);
    const sdp = withCandidate(pc.localDescription()?.sdp);
    const publicAddress = this.engine.publicAddress;
    if (publicAddress !== undefined && publicAddress !== this.engine.localAddress) {
      for (const a of sdp.media[0]!.attributes) {
        if (a.name !== 'candidate' || a.value === undefined) continue;
        a.value = serializeCandidate({ ...parseCandidate(a.value), address: publicAddress });
      }
    }
    return sdp;
  }

  /** Resolves once `done()` holds, checked on each state report, or after `timeoutMs`. */
  private async until(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.stateWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.stateWaiters.add(check);
    });
  }
}

let legCount = 0;

class DataChannelLeg extends WebRtcLegBase<DataChannelConnection> {
  private readonly out = Buffer.allocUnsafe(MAX_RTP_SIZE);
  /** `out` cut to the last packet's size: a call's packets are mostly of one size, so one view serves them all. */
  private outView = this.out.subarray(0, 0);

  constructor(
    engine: WebRtcEngineOptions,
    options: WebRtcLegOptions,
    private readonly ndc: NodeDataChannel,
  ) {
    super(engine, options);
  }

  protected open(base: number): DataChannelConnection {
    const formats = browserFormats(this.options.codecs);
    return new DataChannelConnection(this.ndc, `leg-${++legCount}`, this.engine, base, formats);
  }

  sendRtp(packet: RtpPacket): void {
    const track = this.pc?.track;
    if (!track || !this.sendable(packet)) return;
    const size = writeRtp(packet, this.out);
    // The SSRC our SDP announced (a=ssrc), so the browser maps the stream to its receiver.
    this.out.writeUInt32BE(this.pc!.ssrc, SSRC_OFFSET);
    this.counters.packetsOut++;
    this.counters.bytesOut += size;
    try {
      if (this.outView.length !== size) this.outView = this.out.subarray(0, size);
      track.sendMessageBinary(this.outView);
    } catch (err) {
      // The track closed under us (the browser went away): the state change reports it.
      this.engine.logger?.debug({ err }, 'WebRTC send failed');
    }
  }

  protected watch(connection: DataChannelConnection): void {
    connection.onConnected = () => this.connected(connection);
    connection.onFailed = () => this.failed(connection);
    connection.onPacket = (buf) => {
      // RTCP (rtcp-mux) arrives on the same track; libdatachannel answers what it must itself.
      if (isRtcp(buf)) return;
      let packet: RtpPacket;
      try {
        packet = parseRtp(buf);
      } catch {
        return;
      }
      this.received(packet, buf.length);
    };
  }
}

/** The first of `ports` a UDP socket can bind on `address` (the socket is closed again at once), if any. */
async function firstBindable(address: string, ports: readonly number[]): Promise<number | undefined> {
  for (const port of ports) {
    try {
      // close() releases the port at once (libuv closes the descriptor synchronously for UDP).
      void closeSocket(await bindUdp(address, port));
      return port;
    } catch {
      // taken: try the next
    }
  }
  return undefined;
}
