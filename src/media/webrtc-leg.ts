/**
 * The media engine implemented with werift 0.24.4: one RTCPeerConnection per leg, configured as callhook's end of a
 * browser call (client-protocol.md, Media):
 *
 * - ICE-lite (RFC 8445 §2.5) with one host candidate: the WCS SDK sends no trickle candidates, so the browser
 *   (always controlling against a lite agent) finds us through the candidate in our SDP and we learn its address
 *   from its checks. Candidates come from the configured address only (never the host's other interfaces), with
 *   no STUN server; the socket binds `localAddress`, the candidate says `publicAddress` (1:1 NAT).
 * - The ICE socket's port comes from the webrtcPortMin..Max allocator: werift is given the pair as its port range.
 *   When neither port can be bound, werift gathers no candidate; the leg then tries the next pair.
 * - The browser only ever sees one G.711 law plus telephone-event/8000 (./sdp/webrtc.ts explains why).
 * - RTP is read from the DTLS transport (every decrypted packet, whatever SSRC the browser uses) and written to it
 *   with our own header: werift's RTCRtpSender.sendRtp stamps the main codec's payload type on every packet, which
 *   would turn DTMF (telephone-event) into noise.
 */
import {
  RTCPeerConnection, RTCRtpCodecParameters, RtpHeader as WeriftRtpHeader, type RTCRtpTransceiver,
  type RtpPacket as WeriftRtpPacket,
} from 'werift';
import { isIPv6 } from 'node:net';
import type { Logger } from '../log.ts';
import { G711, TELEPHONE_EVENT, type PayloadFormat } from './codecs.ts';
import {
  WEBRTC_LEG_TRANSITIONS, type MediaEngine, type WebRtcLeg, type WebRtcLegOptions, type WebRtcLegState, type WebRtcLegStats,
  type WebRtcMedia,
} from './engine.ts';
import { FAILED_BY_DTLS, FAILED_BY_ICE, MediaStateError } from './errors.ts';
import { Listeners } from './events.ts';
import type { PortPairAllocator } from './ports.ts';
import type { RtpPacket } from './rtp/packet.ts';
import { mediaCandidates } from './sdp/ice.ts';
import type { SessionDescription } from './sdp/model.ts';
import { parseSdp } from './sdp/parse.ts';
import { serializeSdp } from './sdp/serialize.ts';
import { installFastRtpHeaderParse } from './werift-rtp-header.ts';
import {
  completeBrowserAnswer, liftIceLite, prepareBrowserOffer, readBrowserAnswer, useDefaultCandidate,
} from './sdp/webrtc.ts';

export interface WeriftEngineOptions {
  /** Address the ICE sockets bind (config `localIp`). */
  localAddress: string;
  /** Address written in our candidate (config `publicIp`). Default `localAddress`. */
  publicAddress?: string;
  /** The webrtcPortMin..Max allocator. */
  ports: PortPairAllocator;
  /** ICE and DTLS must complete within this many ms of our SDP being ready. Default 30 000. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

export class WeriftEngine implements MediaEngine {
  constructor(private readonly o: WeriftEngineOptions) {
    // werift parses each received SRTP packet's header twice with a slow bit reader: see ./werift-rtp-header.ts.
    installFastRtpHeaderParse();
  }

  createLeg(options: WebRtcLegOptions): WebRtcLeg {
    if (options.codecs.length === 0) throw new RangeError('a WebRTC leg needs at least one codec');
    return new WeriftLeg(this.o, options);
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** werift gathers host candidates while setLocalDescription runs; this bounds the wait should it not. */
const GATHER_TIMEOUT_MS = 5_000;

/** No candidate was gathered: werift could bind neither port of the pair. */
class CandidateGatheringError extends Error {}

class WeriftLeg implements WebRtcLeg {
  private stateValue: WebRtcLegState = 'new';
  private pc: RTCPeerConnection | undefined;
  private transceiver: RTCRtpTransceiver | undefined;
  private pairPort: number | undefined;
  private candidatePort: number | undefined;
  private sdp: string | undefined;
  private mediaValue: WebRtcMedia | undefined;
  /** Payload types negotiated with the browser: all others are dropped both ways. */
  private payloadTypes = new Set<number>();
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly counters: WebRtcLegStats = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 };
  private readonly rtpListeners = new Listeners<[RtpPacket]>();
  private readonly stateListeners = new Listeners<[WebRtcLegState, string | undefined]>();

  constructor(
    private readonly engine: WeriftEngineOptions,
    private readonly options: WebRtcLegOptions,
  ) {}

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
    const answer = await this.negotiate(async (pc) => {
      await pc.setRemoteDescription({ type: 'offer', sdp: serializeSdp(prepared.sdp) });
      pc.getTransceivers()[0]!.setDirection('sendrecv');
      await pc.setLocalDescription(await pc.createAnswer());
      return completeBrowserAnswer(await gathered(pc), offer, prepared.choice.index);
    });
    this.setMedia(prepared.choice.codec, prepared.choice.telephoneEvent);
    this.startConnecting();
    return answer;
  }

  async createOffer(): Promise<string> {
    this.expectFresh('createOffer');
    return this.negotiate(async (pc) => {
      pc.addTransceiver('audio', { direction: 'sendrecv' });
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = await gathered(pc);
      useDefaultCandidate(sdp.media[0]!);
      liftIceLite(sdp);
      return sdp;
    });
  }

  async setRemoteAnswer(answerSdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc || this.mediaValue || this.stateValue !== 'new') {
      throw new MediaStateError(`setRemoteAnswer needs a pending offer (leg is ${this.stateValue})`);
    }
    const choice = readBrowserAnswer(parseSdp(answerSdp), this.options.codecs);
    await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    this.setMedia(choice.codec, choice.telephoneEvent);
    this.startConnecting();
  }

  onRtp(fn: (packet: RtpPacket) => void): () => void {
    return this.rtpListeners.on(fn);
  }

  onStateChange(fn: (state: WebRtcLegState, info?: string) => void): () => void {
    return this.stateListeners.on(fn);
  }

  sendRtp(packet: RtpPacket): void {
    const sender = this.transceiver?.sender;
    if (this.stateValue !== 'connected' || !sender || !this.payloadTypes.has(packet.header.payloadType)) return;
    const h = packet.header;
    const header = new WeriftRtpHeader({
      marker: h.marker, payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp,
      // The SSRC our SDP announced (a=ssrc), so the browser maps the stream to its receiver.
      ssrc: sender.ssrc,
    });
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.payload.length + header.serializeSize;
    // RTCDtlsTransport.sendRtp protects and sends; it reports its own failures as a 0-byte result.
    void sender.dtlsTransport.sendRtp(packet.payload, header);
  }

  stats(): WebRtcLegStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.transition('closed');
    clearTimeout(this.connectTimer);
    this.rtpListeners.clear();
    this.stateListeners.clear();
    const pc = this.pc;
    this.pc = undefined;
    this.transceiver = undefined;
    if (pc) await pc.close();
    if (this.pairPort !== undefined) this.engine.ports.release(this.pairPort);
  }

  /**
   * Runs one SDP negotiation on a fresh peer connection bound to a port pair, trying the next pair when no
   * candidate could be gathered on this one. Returns our SDP as text.
   */
  private async negotiate(run: (pc: RTCPeerConnection) => Promise<SessionDescription>): Promise<string> {
    const { port, value } = await this.engine.ports.bind(async (base) => {
      const pc = this.newPeerConnection(base);
      try {
        return { pc, sdp: await run(pc) };
      } catch (err) {
        await pc.close();
        throw err;
      }
    }, (err) => err instanceof CandidateGatheringError);
    if (this.stateValue === 'closed') {
      // close() ran while the negotiation was under way: nothing may stay open.
      await value.pc.close();
      this.engine.ports.release(port);
      throw new MediaStateError('WebRTC leg was closed during negotiation');
    }
    this.pc = value.pc;
    this.pairPort = port;
    this.transceiver = value.pc.getTransceivers()[0];
    this.candidatePort = value.sdp.media.map((m) => m.port).find((p) => p !== 0);
    this.sdp = serializeSdp(value.sdp);
    this.watch(value.pc);
    return this.sdp;
  }

  private newPeerConnection(base: number): RTCPeerConnection {
    const e = this.engine;
    const family = isIPv6(e.localAddress) ? 'udp6' : 'udp4';
    const codecs = [
      ...this.options.codecs.map((law) => weriftCodec(G711[law])),
      weriftCodec(TELEPHONE_EVENT),
    ];
    return new RTCPeerConnection({
      iceLite: true,
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [e.publicAddress ?? e.localAddress],
      iceInterfaceAddresses: { [family]: e.localAddress },
      icePortRange: [base, base + 1],
      codecs: { audio: codecs, video: [] },
      headerExtensions: { audio: [], video: [] },
    });
  }

  private watch(pc: RTCPeerConnection): void {
    const transport = this.transceiver?.sender.dtlsTransport;
    // werift's receiver pipeline (routing by SSRC, statistics, receiver reports, NACK, TWCC) serves media werift
    // consumes itself. The relay takes RTP straight from the transport (whatever SSRC the browser uses), so that
    // pipeline is detached and costs nothing per packet. RTCP from the browser still reaches werift's sender.
    transport?.onRtp.allUnsubscribe();
    transport?.onRtp.subscribe((p) => this.received(p));
    pc.connectionStateChange.subscribe((s) => {
      if (this.pc !== pc) return;
      if (s === 'connected' && this.stateValue === 'connecting') {
        clearTimeout(this.connectTimer);
        this.transition('connected');
      } else if (s === 'failed' || s === 'closed') {
        this.fail(pc);
      }
      // 'disconnected' (consent freshness, RFC 7675) may recover; an ICE-lite agent does not check consent anyway.
    });
  }

  private received(p: WeriftRtpPacket): void {
    const h = p.header;
    if (!this.payloadTypes.has(h.payloadType) || this.stateValue !== 'connected') return;
    this.counters.packetsIn++;
    this.counters.bytesIn += p.payload.length + h.serializeSize;
    const packet: RtpPacket = {
      header: {
        marker: h.marker, payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp,
        ssrc: h.ssrc, csrcs: h.csrc,
      },
      payload: p.payload,
      paddingSize: 0,
    };
    this.rtpListeners.emit(this.listenerFailed, packet);
  }

  private setMedia(codec: PayloadFormat, telephoneEvent: PayloadFormat | undefined): void {
    this.mediaValue = telephoneEvent ? { codec, telephoneEvent } : { codec };
    this.payloadTypes = new Set(telephoneEvent ? [codec.payloadType, telephoneEvent.payloadType] : [codec.payloadType]);
  }

  private startConnecting(): void {
    // close() may have run while werift was busy with the SDP.
    if (this.stateValue === 'closed') throw new MediaStateError('WebRTC leg was closed during negotiation');
    this.transition('connecting');
    this.connectTimer = setTimeout(() => {
      if (this.pc) this.fail(this.pc);
    }, this.engine.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  }

  /** ICE that never completed is an ICE error; ICE up but no DTLS is a DTLS error (the WCS texts). */
  private fail(pc: RTCPeerConnection): void {
    if (this.stateValue === 'failed' || this.stateValue === 'closed') return;
    clearTimeout(this.connectTimer);
    const ice = pc.iceConnectionState;
    const iceUp = this.stateValue === 'connected' || ice === 'connected' || ice === 'completed';
    const info = iceUp ? FAILED_BY_DTLS : FAILED_BY_ICE;
    this.engine.logger?.info({ ice, connection: pc.connectionState, info }, 'WebRTC leg failed');
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
      throw new MediaStateError(`${what} on a leg that already negotiated (${this.stateValue})`);
    }
  }

  private readonly listenerFailed = (err: unknown): void => {
    this.engine.logger?.error({ err }, 'WebRTC leg listener failed');
  };
}

/** Our SDP once werift has gathered its host candidate; throws CandidateGatheringError when it has none. */
async function gathered(pc: RTCPeerConnection): Promise<SessionDescription> {
  if (pc.iceGatheringState !== 'complete') {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    });
    try {
      await Promise.race([pc.iceGatheringStateChange.watch((s) => s === 'complete'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  const local = pc.localDescription;
  const sdp = local ? parseSdp(local.sdp) : undefined;
  if (!sdp?.media[0] || mediaCandidates(sdp.media[0]).length === 0) {
    throw new CandidateGatheringError('no ICE candidate: the port pair could not be bound');
  }
  return sdp;
}

function weriftCodec(f: Readonly<PayloadFormat>): RTCRtpCodecParameters {
  const c = new RTCRtpCodecParameters({
    mimeType: `audio/${f.encoding}`, clockRate: f.clockRate, payloadType: f.payloadType,
  });
  if (f.fmtp !== undefined) c.parameters = f.fmtp;
  return c;
}
