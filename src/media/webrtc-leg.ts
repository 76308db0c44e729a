/**
 * What every media engine's WebRTC leg shares (./engine.ts describes the leg): the state machine and its guard,
 * the connect timeout, the WCS failure texts, the port pair from webrtcPortMin..Max, the browser-facing SDP
 * rules of ./sdp/webrtc.ts, the payload-type filter and the counters. An engine supplies the peer connection:
 * opening one on a port pair, its SDP operations, sending, and closing (./werift-engine.ts,
 * ./datachannel-engine.ts).
 */
import type { Logger } from '../log.ts';
import type { PayloadFormat } from './codecs.ts';
import {
  WEBRTC_LEG_TRANSITIONS, type WebRtcLeg, type WebRtcLegOptions, type WebRtcLegState, type WebRtcLegStats,
  type WebRtcMedia,
} from './engine.ts';
import { FAILED_BY_DTLS, FAILED_BY_ICE, MediaError } from './errors.ts';
import { Listeners } from './events.ts';
import type { PortPairAllocator } from './ports.ts';
import { parseRtp, rtpPacketSize, type RtpPacket } from './rtp/packet.ts';
import { ReceptionStats } from './rtp/reception.ts';
import { mediaCandidates } from './sdp/ice.ts';
import type { SessionDescription } from './sdp/model.ts';
import { parseSdp } from './sdp/parse.ts';
import { serializeSdp } from './sdp/serialize.ts';
import {
  completeBrowserAnswer, liftIceLite, limitOpusRate, prepareBrowserOffer, readBrowserAnswer, useDefaultCandidate,
} from './sdp/webrtc.ts';

export interface WebRtcEngineOptions {
  /** Address the ICE sockets bind (config `localIp`). */
  localAddress: string;
  /** Address written in our candidate (config `publicIp`). Default `localAddress`. */
  publicAddress?: string;
  /** The webrtcPortMin..Max allocator: each leg takes a pair of its own, unless `udpMuxPort` is set. */
  ports: PortPairAllocator;
  /**
   * The one UDP port every leg's ICE runs on (config `webrtcPort`: ICE UDP mux, libdatachannel only): the engine
   * holds it from its start to its close, and legs take no pair from `ports`.
   */
  udpMuxPort?: number;
  /** ICE and DTLS must complete within this many ms of our SDP being ready. Default 30 000. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** The largest RTP packet sent to a browser: what fits an Ethernet MTU with the SRTP and UDP/IP overheads. */
export const MAX_RTP_SIZE = 1400;
/** How long a lost connection waits for the browser's `hangup` before the leg fails (see `failed`). */
const LOST_GRACE_MS = 2_000;

/** Our SDP, parsed; throws MediaError MEDIA_NO_CANDIDATE when it has no candidate (the port pair could not be bound). */
export function withCandidate(sdpText: string | undefined): SessionDescription {
  const sdp = sdpText === undefined ? undefined : parseSdp(sdpText);
  if (!sdp?.media[0] || mediaCandidates(sdp.media[0]).length === 0) {
    throw new MediaError('MEDIA_NO_CANDIDATE', 'no ICE candidate: the port pair could not be bound');
  }
  return sdp;
}

/** An engine's peer connection, as the shared leg drives it. */
export interface PeerConnectionOps {
  /** Takes the (prepared) browser offer; resolves with the engine's answer once its candidate is gathered. */
  answer(offer: SessionDescription): Promise<SessionDescription>;
  /** Resolves with the engine's offer of one sendrecv audio stream once its candidate is gathered. */
  offer(): Promise<SessionDescription>;
  acceptAnswer(answerSdp: string): Promise<void>;
  /** Whether ICE completed (to tell an ICE failure from a DTLS one). */
  iceConnected(): boolean;
  close(): Promise<void>;
}

export abstract class WebRtcLegBase<Pc extends PeerConnectionOps> implements WebRtcLeg {
  protected pc: Pc | undefined;
  /** Payload types negotiated with the browser: all others are dropped both ways. */
  protected payloadTypes = new Set<number>();
  protected readonly counters: Omit<WebRtcLegStats, 'packetsLost'> = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 };
  /** The browser's stream, as the RTP leg counts the SIP side's: loss from its sequence numbers. */
  private readonly reception = new ReceptionStats();
  private stateValue: WebRtcLegState = 'new';
  private pairPort: number | undefined;
  private candidatePort: number | undefined;
  private sdp: string | undefined;
  private mediaValue: WebRtcMedia | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private readonly rtpListeners = new Listeners<[RtpPacket]>();
  private readonly stateListeners = new Listeners<[WebRtcLegState, string | undefined]>();

  constructor(
    protected readonly engine: WebRtcEngineOptions,
    protected readonly options: WebRtcLegOptions,
  ) {
    if (options.codecs.length === 0) throw new RangeError('a WebRTC leg needs at least one codec');
  }

  /** Opens a peer connection whose ICE socket takes a port of the pair at `basePort`, or that port itself (`udpMuxPort`). */
  protected abstract open(basePort: number): Pc;
  /** Starts reporting the connection's RTP (`received`) and state (`connected`, `failed`). */
  protected abstract watch(pc: Pc): void;
  abstract sendRtp(packet: RtpPacket): void;

  get state(): WebRtcLegState {
    return this.stateValue;
  }

  get localPort(): number | undefined {
    return this.candidatePort;
  }

  get localSdp(): string | undefined {
    return this.sdp;
  }

  get media(): WebRtcMedia | undefined {
    return this.mediaValue;
  }

  async setRemoteOffer(offerSdp: string): Promise<string> {
    this.expectFresh('setRemoteOffer');
    const offer = parseSdp(offerSdp);
    const prepared = prepareBrowserOffer(offer, this.options.codecs);
    const answer = await this.negotiate(async (pc) =>
      this.limitOpus(completeBrowserAnswer(await pc.answer(prepared.sdp), offer, prepared.choice.index), prepared.choice.index));
    this.setMedia(prepared.choice.codec, prepared.choice.telephoneEvent);
    this.startConnecting();
    return answer;
  }

  async createOffer(): Promise<string> {
    this.expectFresh('createOffer');
    return this.negotiate(async (pc) => {
      const sdp = await pc.offer();
      useDefaultCandidate(sdp.media[0]!);
      liftIceLite(sdp);
      return this.limitOpus(sdp, 0);
    });
  }

  async setRemoteAnswer(answerSdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || this.mediaValue || this.stateValue !== 'new') {
      throw new MediaError('MEDIA_STATE', `setRemoteAnswer needs a pending offer (leg is ${this.stateValue})`);
    }
    const choice = readBrowserAnswer(parseSdp(answerSdp), this.options.codecs);
    await pc.acceptAnswer(answerSdp);
    this.setMedia(choice.codec, choice.telephoneEvent);
    this.startConnecting();
  }

  onRtp(fn: (packet: RtpPacket) => void): () => void {
    return this.rtpListeners.on(fn);
  }

  onStateChange(fn: (state: WebRtcLegState, info?: string) => void): () => void {
    return this.stateListeners.on(fn);
  }

  stats(): WebRtcLegStats {
    return { ...this.counters, packetsLost: this.reception.lost };
  }

  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.transition('closed');
    clearTimeout(this.connectTimer);
    clearTimeout(this.lostTimer);
    this.rtpListeners.clear();
    this.stateListeners.clear();
    const pc = this.pc;
    this.pc = undefined;
    if (pc) await pc.close();
    if (this.pairPort !== undefined) this.engine.ports.release(this.pairPort);
  }

  /** A packet from the browser, decrypted: counted and passed on when it has a negotiated payload type. */
  protected received(packet: RtpPacket, size: number): void {
    if (!this.payloadTypes.has(packet.header.payloadType) || this.stateValue !== 'connected') return;
    this.counters.packetsIn++;
    this.counters.bytesIn += size;
    this.reception.update(packet.header.ssrc, packet.header.sequenceNumber);
    this.rtpListeners.emit(this.listenerFailed, packet);
  }

  /** A datagram of RTP from the browser, decrypted: parsed and passed to `received` (what does not parse is dropped). */
  protected receivedDatagram(buf: Buffer): void {
    let packet: RtpPacket;
    try {
      packet = parseRtp(buf);
    } catch {
      return;
    }
    this.received(packet, buf.length);
  }

  /**
   * Whether `packet` may go to the browser now: connected, a negotiated payload type, and no larger than
   * MAX_RTP_SIZE (a SIP peer's oversized packet is dropped, not fragmented or logged 50 times a second).
   */
  protected sendable(packet: RtpPacket): boolean {
    return this.stateValue === 'connected' && this.payloadTypes.has(packet.header.payloadType) &&
      rtpPacketSize(packet) <= MAX_RTP_SIZE;
  }

  /** The engine reports DTLS-SRTP up on `pc`. */
  protected connected(pc: Pc): void {
    if (this.pc !== pc) return;
    if (this.stateValue === 'connected') {
      // Back after a loss within the grace (see `failed`): nothing failed.
      clearTimeout(this.lostTimer);
      this.lostTimer = undefined;
      return;
    }
    if (this.stateValue !== 'connecting') return;
    clearTimeout(this.connectTimer);
    this.transition('connected');
  }

  /**
   * The engine reports `pc` failed or closed. ICE that never completed is an ICE error; ICE up but no DTLS is a
   * DTLS error (the WCS texts). A connection lost once connected fails a moment later, unless it comes back
   * meanwhile: a browser that hangs up closes its peer connection (DTLS close_notify) as it sends `hangup`, and
   * the hangup must win that race.
   */
  protected failed(pc: Pc): void {
    if (this.pc !== pc || this.stateValue === 'failed' || this.stateValue === 'closed') return;
    clearTimeout(this.connectTimer);
    if (this.stateValue === 'connected') {
      this.lostTimer ??= setTimeout(() => this.fail(FAILED_BY_DTLS), LOST_GRACE_MS);
      return;
    }
    this.fail(pc.iceConnected() ? FAILED_BY_DTLS : FAILED_BY_ICE);
  }

  private readonly listenerFailed = (err: unknown): void => {
    this.engine.logger?.error({ err }, 'WebRTC leg listener failed');
  };

  /**
   * Runs one SDP negotiation on a fresh peer connection bound to a port pair, trying the next pair when no
   * candidate could be gathered on this one, or on the port all legs share (`udpMuxPort`). Returns our SDP as text.
   */
  private async negotiate(run: (pc: Pc) => Promise<SessionDescription>): Promise<string> {
    const attempt = async (base: number) => {
      const pc = this.open(base);
      try {
        return { pc, sdp: await run(pc) };
      } catch (err) {
        await pc.close();
        throw err;
      }
    };
    const muxPort = this.engine.udpMuxPort;
    const { port, value } = muxPort !== undefined
      ? { port: undefined, value: await attempt(muxPort) }
      : await this.engine.ports.bind(attempt, (err) => err instanceof MediaError && err.code === 'MEDIA_NO_CANDIDATE');
    if (this.stateValue === 'closed') {
      // close() ran while the negotiation was under way: nothing may stay open.
      await value.pc.close();
      if (port !== undefined) this.engine.ports.release(port);
      throw new MediaError('MEDIA_STATE', 'WebRTC leg was closed during negotiation');
    }
    this.pc = value.pc;
    this.pairPort = port;
    this.candidatePort = value.sdp.media.map((m) => m.port).find((p) => p !== 0);
    this.sdp = serializeSdp(value.sdp);
    this.watch(value.pc);
    return this.sdp;
  }

  /** Our SDP with its audio stream's Opus limited to the SIP side's rate (`opusRate`), when the leg has one. */
  private limitOpus(sdp: SessionDescription, audioIndex: number): SessionDescription {
    if (this.options.opusRate !== undefined) limitOpusRate(sdp.media[audioIndex]!, this.options.opusRate);
    return sdp;
  }

  private setMedia(codec: PayloadFormat, telephoneEvent: PayloadFormat | undefined): void {
    this.mediaValue = telephoneEvent ? { codec, telephoneEvent } : { codec };
    this.payloadTypes = new Set(telephoneEvent ? [codec.payloadType, telephoneEvent.payloadType] : [codec.payloadType]);
  }

  private startConnecting(): void {
    // close() may have run while the engine was busy with the SDP.
    if (this.stateValue === 'closed') throw new MediaError('MEDIA_STATE', 'WebRTC leg was closed during negotiation');
    this.transition('connecting');
    this.connectTimer = setTimeout(() => {
      if (this.pc) this.failed(this.pc);
    }, this.engine.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  }

  private fail(info: string): void {
    if (this.stateValue === 'failed' || this.stateValue === 'closed') return;
    this.engine.logger?.info({ info }, 'WebRTC leg failed');
    this.transition('failed', info);
  }

  private transition(next: WebRtcLegState, info?: string): void {
    if (!WEBRTC_LEG_TRANSITIONS[this.stateValue].includes(next)) {
      throw new Error(`WebRTC leg: invalid transition ${this.stateValue} → ${next}`);
    }
    this.stateValue = next;
    this.stateListeners.emit(this.listenerFailed, next, info);
  }

  private expectFresh(what: string): void {
    if (this.stateValue !== 'new' || this.pc) {
      throw new MediaError('MEDIA_STATE', `${what} on a leg that already negotiated (${this.stateValue})`);
    }
  }
}
