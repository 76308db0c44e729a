/**
 * The media engine callhook implements itself (config `webrtcEngine: "native"`): per leg one UDP socket on Node's
 * event loop, ICE-lite in TypeScript (./ice/), DTLS-SRTP and SRTP in C over the OpenSSL inside Node
 * (./native-transport.ts). It exists for the cost of a packet: with no thread of its own, a browser's packet is read,
 * decrypted and handed to the relay in the loop's own turn, where libdatachannel hands it across two threads first
 * (docs/architecture.md "The native media transport", docs/benchmarks.md).
 *
 * - ICE-lite (RFC 8445 §2.5): our SDP has one host candidate and `a=ice-lite`; the browser, always controlling,
 *   checks it and nominates it. We never send checks, so a browser behind NAT is reached at the address its checks
 *   come from (a peer-reflexive candidate, §7.3.1.3), as with the other engines; no STUN server is used, and the
 *   candidate's address is `publicAddress` (1:1 NAT).
 * - DTLS role from a=setup (RFC 5763 §5): we take the passive (server) role whenever the browser lets us (its
 *   actpass or active), and are the client only when it insists on passive.
 * - An incoming call's offer binds the port at once; the browser's checks are dropped until its answer has come
 *   (they would be answered before its fingerprint is known), so ICE and then DTLS start once the answer is in.
 */
import { randomBytes, randomInt, X509Certificate } from 'node:crypto';
import { browserFormats, type PayloadFormat } from './codecs.ts';
import { dtlsCertificate, type PemCertificate } from './dtls-certificate.ts';
import type { MediaEngine, WebRtcLeg, WebRtcLegOptions } from './engine.ts';
import { MediaError } from './errors.ts';
import { IceLiteAgent } from './ice/index.ts';
import {
  closeTransport, nativeMedia, TRANSPORT_CONNECTED, type DtlsContext, type NativeMedia, type TransportHandle,
} from './native-transport.ts';
import { RtpWriter, type RtpPacket } from './rtp/packet.ts';
import { attributeValue } from './sdp/attributes.ts';
import { serializeCandidate } from './sdp/candidate.ts';
import { answerDirection, mediaDirection, type Direction } from './sdp/direction.ts';
import { fingerprints, setupRole } from './sdp/dtls.ts';
import { iceParameters } from './sdp/ice.ts';
import type { MediaDescription, SessionDescription } from './sdp/model.ts';
import { parseSdp } from './sdp/parse.ts';
import { formatAttributes, payloadFormats } from './sdp/rtpmap.ts';
import { mid } from './sdp/stream-attributes.ts';
import { WebRtcLegBase, type PeerConnectionOps, type WebRtcEngineOptions } from './webrtc-leg.ts';

export class NativeEngine implements MediaEngine {
  private constructor(
    private readonly o: WebRtcEngineOptions,
    private readonly media: NativeMedia,
  ) {}

  /** Loads the addon now, so a server without it says so at start (MediaError MEDIA_ENGINE_UNAVAILABLE). */
  static load(o: WebRtcEngineOptions): NativeEngine {
    if (o.udpMuxPort !== undefined) throw new RangeError('the native engine has no ICE UDP mux: a leg needs a port pair of its own');
    return new NativeEngine(o, nativeMedia());
  }

  createLeg(options: WebRtcLegOptions): WebRtcLeg {
    return new NativeLeg(this.o, options, this.media);
  }

  /** Each leg's socket is its own, closed with the leg. */
  close(): void {}
}

/** The mid of our offer's one stream. */
const OFFER_MID = '0';
/** RFC 8445 §5.1.2.1 with type preference 126 (host), local preference 65535, component 1. */
const HOST_PRIORITY = 2130706431;

/** A certificate's DTLS context and SHA-256 fingerprint, made once per certificate (it is renewed monthly). */
const contexts = new WeakMap<PemCertificate, { context: DtlsContext; fingerprint: string }>();

function contextFor(media: NativeMedia, certificate: PemCertificate): { context: DtlsContext; fingerprint: string } {
  let c = contexts.get(certificate);
  if (c === undefined) {
    c = {
      context: media.context(certificate.certificate, certificate.key),
      fingerprint: new X509Certificate(certificate.certificate).fingerprint256,
    };
    contexts.set(certificate, c);
  }
  return c;
}

/** RFC 8839 §5.4: ice-ufrag of 4 to 256 characters, ice-pwd of 22 to 256, from the ice-char set (base64 is). */
function iceCredentials(): { ufrag: string; pwd: string } {
  const chars = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '');
  return { ufrag: chars(6), pwd: chars(18) };
}

/** What the browser's SDP tells the transport: its ICE credentials, its certificate's SHA-256, and whether we are DTLS server. */
interface BrowserSide {
  ufrag: string;
  pwd: string;
  fingerprint: Buffer;
  weAreServer: boolean;
}

/** Reads a browser offer's or answer's stream; MediaError MEDIA_SDP_PARSE names what is missing. */
function browserSide(sdp: SessionDescription, media: MediaDescription): BrowserSide {
  const ice = iceParameters(sdp, media);
  const sha256 = fingerprints(sdp, media).find((f) => f.algorithm === 'sha-256');
  if (ice.ufrag === undefined || ice.pwd === undefined) {
    throw new MediaError('MEDIA_SDP_PARSE', 'the browser SDP has no a=ice-ufrag and a=ice-pwd (RFC 8839 §5.4)');
  }
  if (sha256 === undefined) {
    throw new MediaError('MEDIA_SDP_PARSE', 'the browser SDP has no sha-256 a=fingerprint (the native engine checks SHA-256, RFC 8122 §5)');
  }
  // An offer's actpass or active leaves us passive, the DTLS server (RFC 5763 §5); an answer to our actpass says
  // which role the browser took. Only its passive makes us the client.
  const weAreServer = setupRole(sdp, media) !== 'passive';
  return { ufrag: ice.ufrag, pwd: ice.pwd, fingerprint: Buffer.from(sha256.value.replaceAll(':', ''), 'hex'), weAreServer };
}

class NativeConnection implements PeerConnectionOps {
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  transport: TransportHandle | undefined;
  onConnected: () => void = () => {};
  onFailed: () => void = () => {};
  onPacket: (buf: Buffer) => void = () => {};
  private readonly local = iceCredentials();
  private agent: IceLiteAgent | undefined;
  private dtls: { context: DtlsContext; fingerprint: string } | undefined;
  /** The browser's side, once its SDP is in; until then (an offer ringing) its checks are dropped. */
  private browser: BrowserSide | undefined;
  private dtlsStarted = false;
  private iceUp = false;
  private closed = false;

  constructor(
    private readonly media: NativeMedia,
    private readonly engine: WebRtcEngineOptions,
    private readonly basePort: number,
    /** What our offer lists: the configured codecs and telephone-event. */
    private readonly offerFormats: readonly PayloadFormat[],
  ) {}

  async answer(offer: SessionDescription): Promise<SessionDescription> {
    const audio = offer.media[0]!;
    const browser = browserSide(offer, audio);
    await this.bind();
    this.accept(browser);
    const streamId = mid(audio);
    const bundled = (attributeValue(offer.attributes, 'group') ?? '').split(' ')[0] === 'BUNDLE';
    return this.sdp({
      streamId, bundle: bundled && streamId !== undefined, formats: payloadFormats(audio),
      setup: browser.weAreServer ? 'passive' : 'active', direction: answerDirection(mediaDirection(offer, audio), 'sendrecv'),
    });
  }

  async offer(): Promise<SessionDescription> {
    await this.bind();
    return this.sdp({ streamId: OFFER_MID, bundle: true, formats: this.offerFormats, setup: 'actpass', direction: 'sendrecv' });
  }

  async acceptAnswer(answerSdp: string): Promise<void> {
    if (this.closed) return;
    const answer = parseSdp(answerSdp);
    const audio = answer.media.find((m) => m.port !== 0) ?? answer.media[0]!;
    this.accept(browserSide(answer, audio));
  }

  iceConnected(): boolean {
    return this.iceUp;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent?.close();
    const transport = this.transport;
    this.transport = undefined;
    if (transport !== undefined) await closeTransport(this.media, transport);
  }

  /**
   * Binds a port of the pair: the even one, else the odd one (with rtcp-mux either serves, RFC 5761), so that another
   * process holding one of them for a moment does not cost the call its pair. Both taken makes the allocator try the
   * next pair (MEDIA_NO_CANDIDATE).
   */
  private async bind(): Promise<void> {
    this.dtls = contextFor(this.media, await dtlsCertificate());
    if (this.closed) throw new MediaError('MEDIA_STATE', 'the leg was closed while its certificate was being made');
    const reasons: string[] = [];
    for (const port of [this.basePort, this.basePort + 1]) {
      try {
        this.transport = this.media.open(
          this.engine.localAddress, port,
          (chunk, offset, length, address, from) => this.stun(chunk.subarray(offset, offset + length), address, from),
          (chunk, offset, length) => this.onPacket(chunk.subarray(offset, offset + length)),
          (kind, detail) => this.transportEvent(kind, detail),
        );
        break;
      } catch (err) {
        reasons.push(`${port}: ${(err as Error).message}`);
      }
    }
    if (this.transport === undefined) {
      throw new MediaError('MEDIA_NO_CANDIDATE', `no port of the pair could be bound on ${this.engine.localAddress} (${reasons.join('; ')})`);
    }
    this.agent = new IceLiteAgent({ localUfrag: this.local.ufrag, localPwd: this.local.pwd });
    this.agent.onSelected(({ address, port }) => this.selected(address, port));
    this.agent.onConsentLost(() => {
      this.engine.logger?.info('WebRTC leg: the browser stopped its ICE consent checks');
      this.onFailed();
    });
  }

  /** The browser's SDP is in: checks are answered from now on, and DTLS starts (a client waits for ICE's pair). */
  private accept(browser: BrowserSide): void {
    this.browser = browser;
    this.agent!.setRemoteUfrag(browser.ufrag);
    if (browser.weAreServer) this.startDtls();
  }

  private startDtls(): void {
    if (this.dtlsStarted || this.transport === undefined || this.browser === undefined) return;
    this.dtlsStarted = true;
    this.media.startDtls(this.transport, this.dtls!.context, this.browser.weAreServer, this.browser.fingerprint);
  }

  private stun(datagram: Buffer, address: string, port: number): void {
    if (this.browser === undefined || this.transport === undefined) return;
    try {
      const response = this.agent!.receive(datagram, { address, port });
      if (response === undefined) return;
      this.media.sendTo(this.transport, response, address, port);
      // Until the browser nominates a pair, DTLS goes to, and is taken only from, the address of the latest check we
      // answered with success (see IceLiteAgent.checked).
      const checked = this.agent!.checked;
      if (this.agent!.selected === undefined && checked !== undefined) {
        this.iceUp = true;
        this.media.setRemote(this.transport, checked.address, checked.port);
      }
    } catch (err) {
      this.engine.logger?.warn({ err }, 'WebRTC leg: STUN handling failed');
    }
  }

  /** ICE chose the pair (the browser nominated it): DTLS and SRTP go there; a DTLS client starts now. */
  private selected(address: string, port: number): void {
    if (this.transport === undefined) return;
    this.iceUp = true;
    this.media.setRemote(this.transport, address, port);
    this.startDtls();
  }

  private transportEvent(kind: number, detail: string): void {
    if (kind === TRANSPORT_CONNECTED) {
      this.onConnected();
      return;
    }
    this.engine.logger?.info({ detail }, 'WebRTC leg: DTLS failed');
    this.onFailed();
  }

  private sdp(p: { streamId: string | undefined; bundle: boolean; formats: readonly PayloadFormat[]; setup: string; direction: Direction }): SessionDescription {
    const port = this.media.localPort(this.transport!);
    const address = this.engine.publicAddress ?? this.engine.localAddress;
    const addrType = address.includes(':') ? 'IP6' : 'IP4';
    const candidate = serializeCandidate({
      foundation: '1', component: 1, transport: 'udp', priority: HOST_PRIORITY, address, port, type: 'host', extensions: [],
    });
    return {
      version: 0,
      origin: { username: 'callhook', sessionId: String(randomInt(1, 2 ** 47)), sessionVersion: '1', netType: 'IN', addrType, address },
      sessionName: '-',
      emails: [],
      phones: [],
      bandwidths: [],
      times: [{ start: '0', stop: '0', repeats: [] }],
      attributes: [{ name: 'ice-lite' }, ...(p.bundle && p.streamId !== undefined ? [{ name: 'group', value: `BUNDLE ${p.streamId}` }] : [])],
      media: [{
        type: 'audio',
        port,
        protocol: 'UDP/TLS/RTP/SAVPF',
        formats: p.formats.map((f) => String(f.payloadType)),
        connections: [{ netType: 'IN', addrType, address }],
        bandwidths: [],
        attributes: [
          ...(p.streamId !== undefined ? [{ name: 'mid', value: p.streamId }] : []),
          { name: 'ice-ufrag', value: this.local.ufrag },
          { name: 'ice-pwd', value: this.local.pwd },
          { name: 'fingerprint', value: `sha-256 ${this.dtls!.fingerprint}` },
          { name: 'setup', value: p.setup },
          { name: p.direction },
          { name: 'rtcp-mux' },
          ...p.formats.flatMap(formatAttributes),
          { name: 'ssrc', value: `${this.ssrc} cname:callhook-${this.ssrc}` },
          { name: 'candidate', value: candidate },
          { name: 'end-of-candidates' },
        ],
      }],
    };
  }
}

class NativeLeg extends WebRtcLegBase<NativeConnection> {
  private readonly out = new RtpWriter();

  constructor(
    engine: WebRtcEngineOptions,
    options: WebRtcLegOptions,
    private readonly addon: NativeMedia,
  ) {
    super(engine, options);
  }

  protected open(base: number): NativeConnection {
    return new NativeConnection(this.addon, this.engine, base, browserFormats(this.options.codecs));
  }

  sendRtp(packet: RtpPacket): void {
    const transport = this.pc?.transport;
    if (transport === undefined || !this.sendable(packet)) return;
    // The SSRC our SDP announced (a=ssrc), so the browser maps the stream to its receiver.
    const buf = this.out.write(packet, this.pc!.ssrc);
    if (!this.addon.sendRtp(transport, buf)) return;
    this.counters.packetsOut++;
    this.counters.bytesOut += buf.length;
  }

  protected watch(connection: NativeConnection): void {
    connection.onConnected = () => this.connected(connection);
    connection.onFailed = () => this.failed(connection);
    connection.onPacket = (buf) => this.receivedDatagram(buf);
  }
}
