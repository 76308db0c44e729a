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
 * - Our offer (incoming calls) is made on a throwaway peer connection, closed at once, and names a port a plain
 *   socket holds while the call rings; the browser's answer is taken by a second peer connection on that port with
 *   the same ICE credentials, certificate (./dtls-certificate.ts) and track, opened when the answer arrives: see
 *   `acceptAnswer` for the race this avoids.
 * - With `udpMuxPort` (config `webrtcPort`), every peer connection that carries a call runs on that one port in
 *   libjuice's mux mode (`DataChannelEngine.holdMuxPort`); an offer's throwaway one stays off it (see `offer`). The
 *   port is the engine's for its whole life, so the legs hold nothing of their own while a call rings.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { IceUdpMuxListener, PeerConnection, Track } from 'node-datachannel';
import { browserFormats, type PayloadFormat } from './codecs.ts';
import { dtlsCertificate, type PemCertificate } from './dtls-certificate.ts';
import type { MediaEngine, WebRtcLeg, WebRtcLegOptions } from './engine.ts';
import { MediaError } from './errors.ts';
import { isRtcp, RtpWriter, type RtpPacket } from './rtp/packet.ts';
import { parseCandidate, serializeCandidate } from './sdp/candidate.ts';
import type { SessionDescription } from './sdp/model.ts';
import { payloadFormats } from './sdp/rtpmap.ts';
import { serializeSdp } from './sdp/serialize.ts';
import { mid } from './sdp/stream-attributes.ts';
import { bindUdp, closeSocket } from './udp.ts';
import {
  WebRtcLegBase, withCandidate, type PeerConnectionOps, type WebRtcEngineOptions,
} from './webrtc-leg.ts';

/** node-datachannel's API, loaded only when this engine is chosen, at its first leg (see DataChannelEngine.load). */
type NodeDataChannel = typeof import('node-datachannel').default;

export class DataChannelEngine implements MediaEngine {
  private native: Promise<NodeDataChannel> | undefined;
  /** What keeps the shared port (`udpMuxPort`) bound from start to close: see `holdMuxPort`. */
  private muxListener: IceUdpMuxListener | undefined;

  private constructor(private readonly o: WebRtcEngineOptions) {}

  /**
   * Finds libdatachannel's module without loading it: a platform without it (or without its package) is told at
   * start, and the werift engine stays open to it. The module itself (its native library, a few MiB of RSS, and
   * libdatachannel's threads) is loaded at the first leg, so a server with no call yet does not hold it
   * (docs/benchmarks.md "Idle RSS"); with `udpMuxPort`, at once, to bind that port.
   */
  static async load(o: WebRtcEngineOptions): Promise<DataChannelEngine> {
    try {
      import.meta.resolve('node-datachannel');
    } catch (err) {
      throw unavailable(err);
    }
    const engine = new DataChannelEngine(o);
    if (o.udpMuxPort !== undefined) await engine.holdMuxPort(o.udpMuxPort);
    return engine;
  }

  createLeg(options: WebRtcLegOptions): WebRtcLeg {
    return new DataChannelLeg(this.o, options, this.loadNative());
  }

  /**
   * Unregisters the shared port's listener. libjuice then closes the port's socket with its last agent; with
   * node-datachannel 0.33.4 it was measured to stay bound until the process exits (a listener made and stopped leaves
   * the socket open, and a new listener on the port is refused), so one process binds a given `udpMuxPort` once.
   */
  close(): void {
    this.muxListener?.stop();
    this.muxListener = undefined;
  }

  private loadNative(): Promise<NodeDataChannel> {
    if (this.native === undefined) {
      this.native = import('node-datachannel').then((m) => m.default, (err: unknown) => { throw unavailable(err); });
      // Each leg's answer or offer waits for it and fails with its error; a leg closed before either must not leave
      // the rejection unhandled (which would end the process).
      this.native.catch(() => {});
    }
    return this.native;
  }

  /**
   * ICE UDP mux: libjuice's mux mode serves every agent on a port from one socket and one thread, handing each
   * datagram to the agent of its source address, else of its STUN check's ICE ufrag (RFC 8445 §7.3; libjuice
   * conn_mux.c) — one socket read per packet, where poll mode has one thread poll every call's socket on each wake-up
   * (docs/benchmarks.md "CPU per bridged call: what a wake-up costs"). libjuice opens that socket with the first agent
   * and closes it with the last, unless a mux listener is registered on the port (juice_mux_listen): one is made
   * here, so the port is bound before the first call, stays bound between calls (no other process can take it), and
   * a port that cannot be bound fails the start rather than a call — never libdatachannel's abort at a call's
   * setLocalDescription (see `holdFirst`). The listener is given no callback: a check for a ufrag no agent has yet (a
   * ringing call: see `acceptAnswer`) is dropped, as the plain holder socket drops it without the mux.
   */
  private async holdMuxPort(port: number): Promise<void> {
    const ndc = await this.loadNative();
    try {
      this.muxListener = new ndc.IceUdpMuxListener(port, this.o.localAddress);
    } catch (err) {
      // libdatachannel says only that it failed: a socket of ours tells why (EADDRINUSE, EACCES).
      const why = await bindUdp(this.o.localAddress, port).then(closeSocket, (e: NodeJS.ErrnoException) => e.code ?? e.message);
      throw new MediaError(
        'MEDIA_PORT_TAKEN',
        `webrtcPort ${port}: UDP port ${port} on ${this.o.localAddress} cannot be bound${why ? ` (${why})` : ''}: another process holds it, or it is privileged`,
        { cause: err },
      );
    }
  }
}

function unavailable(err: unknown): MediaError {
  const why = err instanceof Error ? err.message : String(err);
  return new MediaError(
    'MEDIA_ENGINE_UNAVAILABLE',
    `the libdatachannel WebRTC engine could not load node-datachannel (${why}); set webrtcEngine to "werift"`,
    { cause: err },
  );
}

/** libjuice gathers its host candidate at once; this bounds the wait should it not. */
const GATHER_TIMEOUT_MS = 5_000;
/** How long close() waits for libdatachannel to report the connection closed (its socket released). */
const CLOSE_TIMEOUT_MS = 2_000;
/** Bounds the wait for our track's opening once the connection is up (the leg's connect timeout fails the call). */
const OPEN_TIMEOUT_MS = 5_000;
/** How often a wait re-reads a state that comes with no callback (gathering, the track's opening). */
const UNTIL_POLL_MS = 2;
/** The mid of our offer's one stream. */
const OFFER_MID = '0';

/** RFC 8839 §5.4: ice-ufrag of 4 to 256 characters, ice-pwd of 22 to 256, from the ice-char set (base64 is). */
function iceCredentials(): { iceUfrag: string; icePwd: string } {
  const chars = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '');
  return { iceUfrag: chars(6), icePwd: chars(18) };
}

class DataChannelConnection implements PeerConnectionOps {
  /** The module, once `native` has loaded (the first thing `answer` and `offer` wait for). */
  private ndc: NodeDataChannel | undefined;
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
   * port before the answer's peer connection binds it (see `acceptAnswer`).
   */
  private holder: Socket | undefined;
  private readonly stateWaiters = new Set<() => void>();
  private closed = false;
  /** On the port all legs share (`udpMuxPort`, then `basePort`), held by the engine rather than by the leg. */
  private readonly muxed: boolean;

  constructor(
    private readonly native: Promise<NodeDataChannel>,
    private readonly name: string,
    private readonly engine: WebRtcEngineOptions,
    private readonly basePort: number,
    /** What our offer lists: the configured codecs and telephone-event. */
    private readonly offerFormats: readonly PayloadFormat[],
  ) {
    this.muxed = engine.udpMuxPort !== undefined;
  }

  async answer(offer: SessionDescription): Promise<SessionDescription> {
    this.ndc = await this.native;
    const pair = [this.basePort, this.basePort + 1] as const;
    // Let go in the turn the peer connection is made. Given the pair, libdatachannel binds either port (both serve):
    // another process would have to take both in that moment for it to fail (see holdFirst). The shared port is
    // bound already.
    if (!this.muxed) void closeSocket((await this.holdFirst(pair)).socket);
    if (this.closed) throw new MediaError('MEDIA_STATE', 'the leg was closed while its port was being bound');
    const pc = this.open(this.muxed ? [this.basePort, this.basePort] : pair);
    const audio = offer.media[0]!;
    this.addTrack(pc, mid(audio) ?? OFFER_MID, payloadFormats(audio));
    this.setRemote(pc, serializeSdp(offer), 'offer');
    pc.setLocalDescription('answer');
    return this.gathered(pc);
  }

  /**
   * Our offer. The port it names is held by a plain socket (`holder`) from before the offer is made until the
   * browser's answer arrives, so no other process can take it while the call rings (with the default port ranges
   * inside Linux's ephemeral ports, any `bind(0)` could). The offer itself is made on a throwaway peer connection on a
   * port the system picks, closed again once it is written; its SDP then names the held port. Until the answer,
   * nothing answers on that port (see `acceptAnswer`).
   *
   * On the shared port (`udpMuxPort`) the engine holds the port, and the throwaway peer connection stays off it, on a
   * port of its own as without the mux: libdatachannel reports a connection closed before its ICE agent is destroyed
   * (PeerConnection::closeTransports stops the transports later, in its thread pool), and an agent with our ufrag
   * lingering on the shared port would answer the browser's first checks, putting its DTLS ahead of the answer (the
   * race of `acceptAnswer`). Until the answer's peer connection, no agent on the shared port has our ufrag, and
   * libjuice drops the browser's checks, as the holder does.
   */
  async offer(): Promise<SessionDescription> {
    this.ndc = await this.native;
    const certificate = await dtlsCertificate();
    const ice = iceCredentials();
    const port = this.muxed ? this.basePort : await this.holdRinging();
    this.offered = { port, ice, certificate };
    if (this.closed) this.releaseHolder();
    const pc = this.open(undefined, certificate);
    this.addTrack(pc, OFFER_MID, this.offerFormats);
    pc.setLocalDescription('offer', ice);
    const sdp = await this.gathered(pc, port);
    await this.closePeerConnection(pc);
    this.pc = undefined;
    this.track = undefined;
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
    if (offered === undefined || this.closed) return;
    // The holder lets go at once (libuv closes a UDP descriptor synchronously), and the peer connection below binds
    // the port in libdatachannel's thread a moment later: only a bind by another process in that moment could take
    // it, and libdatachannel takes no socket of ours to close the gap.
    this.releaseHolder();
    const pc = this.open([offered.port, offered.port], offered.certificate);
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

  /** Binds our pair's first free port with `holder`, which holds it while the call rings; resolves with the port. */
  private async holdRinging(): Promise<number> {
    const { socket, port } = await this.holdFirst([this.basePort, this.basePort + 1]);
    this.holder = socket;
    return port;
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
   * The first of `ports` a socket can bind, held by that socket; MediaError MEDIA_NO_CANDIDATE when another process
   * holds them all. libdatachannel must never be given a range in which it can bind nothing: it then throws from
   * setLocalDescription in a way that aborts the process. So a port is bound here first, and let go only in the turn
   * the peer connection that binds it is made.
   */
  private async holdFirst(ports: readonly number[]): Promise<{ socket: Socket; port: number }> {
    for (const port of ports) {
      const socket = await bindUdp(this.engine.localAddress, port).catch(() => undefined);
      if (socket) return { socket, port };
    }
    throw new MediaError('MEDIA_NO_CANDIDATE', `port ${ports.join(' and ')} taken by another process`);
  }

  /**
   * A peer connection bound to a port of `range` (first and last: the shared port with `udpMuxPort`), or to one the
   * system picks, off the mux; with `certificate`, that one rather than one of its own.
   */
  private open(range: readonly [number, number] | undefined, certificate?: PemCertificate): PeerConnection {
    const pc = new (this.loaded().PeerConnection)(this.name, {
      iceServers: [],
      bindAddress: this.engine.localAddress,
      // libdatachannel leaves the choice to the system when given no range.
      ...(range !== undefined && { portRangeBegin: range[0], portRangeEnd: range[1] }),
      // libjuice finds the shared port's socket by the range (conn_mux.c conn_mux_get_registry).
      enableIceUdpMux: this.muxed && range !== undefined,
      disableAutoNegotiation: true,
      ...(certificate && { certificatePemFile: certificate.certificate, keyPemFile: certificate.key }),
    });
    // node-datachannel keeps one callback per event: this one serves the leg and the waits below. Only the
    // current peer connection speaks for the leg (the offer's is closed when the answer's is opened).
    //
    // Each callback set on a peer connection or track is a thread-safe function, and each of those is a libuv async
    // handle that the event loop visits on every wake-up from any of libdatachannel's threads (uv__async_io walks them
    // all), so their count per call weighs on every packet from every browser (docs/benchmarks.md "CPU per bridged
    // call: what a wake-up costs"). Hence only the callbacks that cannot be read as state instead: gathering is over
    // once the local description is set (host candidates only), and the track's opening is read when the connection
    // reports up.
    pc.onStateChange((state) => {
      if (this.pc === pc) {
        if (state === 'failed' || state === 'closed' || state === 'disconnected') this.onFailed();
        else if (state === 'connected') this.reportOpen(pc);
      }
      for (const wake of this.stateWaiters) wake();
    });
    pc.onIceStateChange((state) => {
      if (this.pc === pc && (state === 'connected' || state === 'completed')) this.iceWasConnected = true;
    });
    this.pc = pc;
    return pc;
  }

  /**
   * The connection is up (the first time, or again after 'disconnected'): reported once our track is open too, which
   * libdatachannel does in its worker thread right after it reports the connection (sending before would throw). A
   * track that never opens leaves the leg to its connect timeout.
   */
  private reportOpen(pc: PeerConnection): void {
    const open = () => this.pc === pc && this.track?.isOpen() === true;
    void this.until(open, OPEN_TIMEOUT_MS, UNTIL_POLL_MS).then(() => {
      if (open()) this.onConnected();
    });
  }

  /** The module: `answer` and `offer` load it before any peer connection is made (`acceptAnswer` follows `offer`). */
  private loaded(): NodeDataChannel {
    if (this.ndc === undefined) throw new MediaError('MEDIA_STATE', 'a peer connection before node-datachannel was loaded');
    return this.ndc;
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
    const audio = new (this.loaded().Audio)(streamId, 'SendRecv');
    for (const f of formats) {
      // RFC 7587 §7: Opus is `opus/48000/2`; a browser matches no `opus/48000` and would send nothing.
      const codec = `${f.encoding}/${f.clockRate}${f.channels !== undefined ? `/${f.channels}` : ''}`;
      // node-datachannel takes the fmtp only as a string, never as undefined.
      if (f.fmtp === undefined) audio.addAudioCodec(f.payloadType, codec);
      else audio.addAudioCodec(f.payloadType, codec, f.fmtp);
    }
    audio.addSSRC(this.ssrc, `callhook-${this.ssrc}`);
    const track = pc.addTrack(audio);
    track.onMessage((buf) => this.onPacket(buf));
    // node-datachannel lets go of a track's last callback (which keeps Node's event loop alive) only when its
    // close is reported to a listener; without one, only when the track object is garbage-collected.
    track.onClosed(() => {});
    this.track = track;
  }

  /**
   * Our SDP once the host candidate is gathered, its address the public one; with `port`, naming that port rather
   * than the one the peer connection bound (an offer's: see `offer`).
   */
  private async gathered(pc: PeerConnection, port?: number): Promise<SessionDescription> {
    await this.until(() => pc.gatheringState() === 'complete', GATHER_TIMEOUT_MS, UNTIL_POLL_MS);
    const sdp = withCandidate(pc.localDescription()?.sdp);
    const audio = sdp.media[0]!;
    const publicAddress = this.engine.publicAddress;
    const address = publicAddress !== undefined && publicAddress !== this.engine.localAddress ? publicAddress : undefined;
    if (port !== undefined) audio.port = port;
    if (address === undefined && port === undefined) return sdp;
    for (const a of audio.attributes) {
      if (a.name !== 'candidate' || a.value === undefined) continue;
      const candidate = parseCandidate(a.value);
      a.value = serializeCandidate({ ...candidate, address: address ?? candidate.address, port: port ?? candidate.port });
    }
    return sdp;
  }

  /**
   * Resolves once `done()` holds, checked on each state report and, given `pollMs`, that often too (for what has no
   * callback: see `open`), or after `timeoutMs`.
   */
  private async until(done: () => boolean, timeoutMs: number, pollMs?: number): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.stateWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      const poll = pollMs === undefined ? undefined : setInterval(check, pollMs);
      this.stateWaiters.add(check);
    });
  }
}

let legCount = 0;

class DataChannelLeg extends WebRtcLegBase<DataChannelConnection> {
  private readonly out = new RtpWriter();

  constructor(
    engine: WebRtcEngineOptions,
    options: WebRtcLegOptions,
    private readonly native: Promise<NodeDataChannel>,
  ) {
    super(engine, options);
  }

  protected open(base: number): DataChannelConnection {
    const formats = browserFormats(this.options.codecs);
    return new DataChannelConnection(this.native, `leg-${++legCount}`, this.engine, base, formats);
  }

  sendRtp(packet: RtpPacket): void {
    const track = this.pc?.track;
    if (!track || !this.sendable(packet)) return;
    // The SSRC our SDP announced (a=ssrc), so the browser maps the stream to its receiver.
    const buf = this.out.write(packet, this.pc!.ssrc);
    this.counters.packetsOut++;
    this.counters.bytesOut += buf.length;
    try {
      track.sendMessageBinary(buf);
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
      if (!isRtcp(buf)) this.receivedDatagram(buf);
    };
  }
}
