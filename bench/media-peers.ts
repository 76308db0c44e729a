/**
 * The peers the media tests and the relay benchmark put on either side of callhook's media library, on 127.0.0.1
 * only:
 *
 * - BrowserPeer: a werift RTCPeerConnection playing the browser. It offers what Chrome offers for audio (Opus,
 *   PCMU, PCMA, telephone-event at 48000 and 8000 Hz) and, like the WCS SDK, sends its SDP without candidates: the
 *   server must find it through its ICE checks. It is a WebRtcPeer, as is ./datachannel-browser.ts's
 *   libdatachannel one.
 * - UdpRtpPeer: a plain UDP socket playing the SIP phone: it records the RTP it receives, can echo it back
 *   (sipp `-rtp_echo` style) and sends RTP of its own.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, type RTCRtpTransceiver, type RtpPacket as WeriftRtpPacket,
} from 'werift';
import { parseRtp, serializeRtp, type RtpPacket } from '../src/media/rtp/packet.ts';
import { removeAttributes } from '../src/media/sdp/attributes.ts';
import { parseSdp } from '../src/media/sdp/parse.ts';
import { serializeSdp } from '../src/media/sdp/serialize.ts';

export const LOOPBACK = '127.0.0.1';

/** The audio formats and payload types Chrome offers. */
export const CHROME_AUDIO: Array<{ mimeType: string; clockRate: number; channels?: number; payloadType: number }> = [
  { mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 },
  { mimeType: 'audio/PCMU', clockRate: 8000, payloadType: 0 },
  { mimeType: 'audio/PCMA', clockRate: 8000, payloadType: 8 },
  { mimeType: 'audio/telephone-event', clockRate: 48000, payloadType: 110 },
  { mimeType: 'audio/telephone-event', clockRate: 8000, payloadType: 126 },
];

export interface ReceivedRtp {
  packet: { payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number; marker: boolean };
  payload: Buffer;
  at: number;
}

/** A packet as the peers record it, received now. */
export function receivedRtp(h: ReceivedRtp['packet'], payload: Buffer): ReceivedRtp {
  return {
    packet: { payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, marker: h.marker },
    payload,
    at: performance.now(),
  };
}

/** What a browser placing a call does: its offer, the server's answer taken, DTLS up, RTP both ways, and the close. */
export interface WebRtcPeer {
  /** Every RTP packet received, in order. */
  readonly received: ReceivedRtp[];
  /** The offer, without candidates. */
  createOffer(): Promise<string>;
  setAnswer(sdp: string): Promise<void>;
  /** Resolves when DTLS is up; rejects after `timeoutMs`. */
  connected(timeoutMs?: number): Promise<void>;
  /** Calls `fn` when DTLS comes up, as it does (not when an await would see it). */
  onConnected(fn: () => void): void;
  /** Sends one RTP packet with exactly this payload type. */
  send(payloadType: number, sequenceNumber: number, timestamp: number, payload: Buffer, marker?: boolean): void;
  /** Called for every packet received (after it is recorded). */
  onRtp(fn: (r: ReceivedRtp) => void): void;
  close(): Promise<void>;
}

export class BrowserPeer implements WebRtcPeer {
  readonly pc: RTCPeerConnection;
  readonly received: ReceivedRtp[] = [];
  private transceiver: RTCRtpTransceiver | undefined;
  private onPacket: ((r: ReceivedRtp) => void) | undefined;

  /**
   * `video`: also offer a VP8 video stream, as a browser call with video does. `address`: the one IPv4 address ICE
   * gathers on (default 127.0.0.1).
   */
  constructor(private readonly o: { audio?: typeof CHROME_AUDIO; video?: boolean; address?: string } = {}) {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [o.address ?? LOOPBACK],
      iceInterfaceAddresses: { udp4: o.address ?? LOOPBACK },
      // One transport for both streams: werift drops the video transport when the answer bundles audio alone, but
      // leaves its socket open.
      bundlePolicy: o.video ? 'max-bundle' : 'max-compat',
      codecs: {
        audio: (o.audio ?? CHROME_AUDIO).map((c) => new RTCRtpCodecParameters(c)),
        video: o.video ? [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96 })] : [],
      },
      headerExtensions: { audio: [], video: [] },
    });
  }

  /** The browser's offer for a call, as the WCS SDK sends it: no candidates. */
  async createOffer(): Promise<string> {
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    if (this.o.video) this.pc.addTransceiver('video', { direction: 'sendrecv' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.listen();
    return withoutCandidates(this.pc.localDescription!.sdp);
  }

  async setAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: withCredentialsOnRejected(sdp) });
  }

  /** Incoming call: answers the server's offer (again without candidates). */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    this.transceiver = this.pc.getTransceivers()[0]!;
    this.transceiver.setDirection('sendrecv');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.listen();
    return withoutCandidates(this.pc.localDescription!.sdp);
  }

  /** Resolves when DTLS is up; rejects after `timeoutMs`. */
  async connected(timeoutMs = 10_000): Promise<void> {
    if (this.pc.connectionState === 'connected') return;
    await withTimeout(this.pc.connectionStateChange.watch((s) => s === 'connected'), timeoutMs, 'browser peer did not connect');
  }

  onConnected(fn: () => void): void {
    const { unSubscribe } = this.pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected') return;
      unSubscribe();
      fn();
    });
  }

  /** Sends one RTP packet with exactly this payload type (not rewritten to the main codec). */
  send(payloadType: number, sequenceNumber: number, timestamp: number, payload: Buffer, marker = false): void {
    const sender = this.transceiver!.sender;
    void sender.dtlsTransport.sendRtp(payload, new RtpHeader({ payloadType, sequenceNumber, timestamp, ssrc: sender.ssrc, marker }));
  }

  /** Called for every packet received (after it is recorded). */
  onRtp(fn: (r: ReceivedRtp) => void): void {
    this.onPacket = fn;
  }

  async close(): Promise<void> {
    await this.pc.close();
  }

  private listen(): void {
    const dtls = this.transceiver!.sender.dtlsTransport;
    // Packets are read straight from the transport; werift's receiver pipeline is not needed (and costs CPU the
    // load client of bench/media-relay.ts cannot spare).
    dtls.onRtp.allUnsubscribe();
    dtls.onRtp.subscribe((p: WeriftRtpPacket) => {
      const r = receivedRtp(p.header, p.payload);
      this.received.push(r);
      this.onPacket?.(r);
    });
  }
}

export class UdpRtpPeer {
  readonly received: ReceivedRtp[] = [];
  echo = false;
  private lastFrom: RemoteInfo | undefined;
  private onPacket: ((r: ReceivedRtp) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('message', (buf, from) => {
      this.lastFrom = from;
      let p: RtpPacket;
      try {
        p = parseRtp(buf);
      } catch {
        return;
      }
      const r = receivedRtp(p.header, p.payload);
      if (this.echo) socket.send(buf, from.port, from.address);
      else this.received.push(r);
      this.onPacket?.(r);
    });
  }

  static async open(): Promise<UdpRtpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, LOOPBACK, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpRtpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Where the last packet came from (the RTP leg's port, if it is symmetric). */
  get lastSender(): RemoteInfo | undefined {
    return this.lastFrom;
  }

  onRtp(fn: (r: ReceivedRtp) => void): void {
    this.onPacket = fn;
  }

  send(to: { address: string; port: number }, packet: RtpPacket): void {
    this.socket.send(serializeRtp(packet), to.port, to.address);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** An RTP packet as a G.711 phone sends it (20 ms, 160 bytes). */
export function g711Packet(payloadType: number, seq: number, ssrc: number, payload = Buffer.alloc(160, 0xff)): RtpPacket {
  return {
    header: { marker: seq === 0, payloadType, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc, csrcs: [] },
    payload,
    paddingSize: 0,
  };
}

/**
 * werift reads ICE and DTLS parameters from every media description of an answer, even one rejected with port 0,
 * and fails the whole connection without them; browsers do not need them there. The test peer
 * copies them from the first accepted stream.
 */
function withCredentialsOnRejected(sdp: string): string {
  const parsed = parseSdp(sdp);
  const accepted = parsed.media.find((m) => m.port !== 0);
  if (!accepted) return sdp;
  const transport = accepted.attributes.filter((a) => a.name.startsWith('ice-') || a.name === 'fingerprint' || a.name === 'setup');
  for (const m of parsed.media) if (m.port === 0) m.attributes.push(...transport.map((a) => ({ ...a })));
  return serializeSdp(parsed);
}

export function withoutCandidates(sdp: string): string {
  const parsed = parseSdp(sdp);
  for (const m of parsed.media) removeAttributes(m.attributes, (a) => a.name === 'candidate' || a.name === 'end-of-candidates');
  return serializeSdp(parsed);
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
