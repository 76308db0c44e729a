/**
 * The media engine implemented with werift 0.24.4 (pure TypeScript): one RTCPeerConnection per leg, configured as
 * callhook's end of a browser call (docs/client-protocol.md "Calls"):
 *
 * - ICE-lite (RFC 8445 §2.5) with one host candidate: the WCS SDK sends no trickle candidates, so the browser
 *   (always controlling against a lite agent) finds us through the candidate in our SDP and we learn its address
 *   from its checks. Candidates come from the configured address only (never the host's other interfaces), with
 *   no STUN server; the socket binds `localAddress`, the candidate says `publicAddress` (1:1 NAT).
 * - The ICE socket's port comes from the webrtcPortMin..Max allocator: werift is given the pair as its port range.
 *   When neither port can be bound, werift gathers no candidate; the leg then tries the next pair.
 * - RTP is read from the DTLS transport (every decrypted packet, whatever SSRC the browser uses) and written to it
 *   with our own header: werift's RTCRtpSender.sendRtp stamps the main codec's payload type on every packet, which
 *   would turn DTMF (telephone-event) into noise.
 */
import {
  RTCPeerConnection, RTCRtpCodecParameters, RtpHeader as WeriftRtpHeader, type RTCRtpSender,
  type RtpPacket as WeriftRtpPacket,
} from 'werift';
import { isIPv6 } from 'node:net';
import { browserFormats, type PayloadFormat } from './codecs.ts';
import type { MediaEngine, WebRtcLeg, WebRtcLegOptions } from './engine.ts';
import type { RtpPacket } from './rtp/packet.ts';
import type { SessionDescription } from './sdp/model.ts';
import { serializeSdp } from './sdp/serialize.ts';
import { WebRtcLegBase, withCandidate, type PeerConnectionOps, type WebRtcEngineOptions } from './webrtc-leg.ts';
import { installFastRtpHeaderParse } from './werift-rtp-header.ts';

export class WeriftEngine implements MediaEngine {
  constructor(private readonly o: WebRtcEngineOptions) {
    if (o.udpMuxPort !== undefined) throw new RangeError('the werift engine has no ICE UDP mux: a leg needs a port pair of its own');
    // werift parses each received SRTP packet's header twice with a slow bit reader: see ./werift-rtp-header.ts.
    installFastRtpHeaderParse();
  }

  createLeg(options: WebRtcLegOptions): WebRtcLeg {
    return new WeriftLeg(this.o, options);
  }

  /** Each leg's socket is its own, closed with the leg: nothing outlives them. */
  close(): void {}
}

/** werift gathers host candidates while setLocalDescription runs; this bounds the wait should it not. */
const GATHER_TIMEOUT_MS = 5_000;

class WeriftConnection implements PeerConnectionOps {
  /** The audio stream's sender, once a description made the transceiver (kept: sendRtp needs it per packet). */
  sender: RTCRtpSender | undefined;

  constructor(readonly pc: RTCPeerConnection) {}

  async answer(offer: SessionDescription): Promise<SessionDescription> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: serializeSdp(offer) });
    const transceiver = this.pc.getTransceivers()[0]!;
    transceiver.setDirection('sendrecv');
    this.sender = transceiver.sender;
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  }

  async offer(): Promise<SessionDescription> {
    this.sender = this.pc.addTransceiver('audio', { direction: 'sendrecv' }).sender;
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.gathered();
  }

  async acceptAnswer(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  iceConnected(): boolean {
    return this.pc.iceConnectionState === 'connected' || this.pc.iceConnectionState === 'completed';
  }

  async close(): Promise<void> {
    await this.pc.close();
  }

  /** Our SDP once werift has gathered its host candidate. */
  private async gathered(): Promise<SessionDescription> {
    const pc = this.pc;
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
    return withCandidate(pc.localDescription?.sdp);
  }
}

class WeriftLeg extends WebRtcLegBase<WeriftConnection> {
  protected open(base: number): WeriftConnection {
    const e = this.engine;
    const family = isIPv6(e.localAddress) ? 'udp6' : 'udp4';
    const codecs = browserFormats(this.options.codecs).map(weriftCodec);
    return new WeriftConnection(new RTCPeerConnection({
      iceLite: true,
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [e.publicAddress ?? e.localAddress],
      iceInterfaceAddresses: { [family]: e.localAddress },
      icePortRange: [base, base + 1],
      codecs: { audio: codecs, video: [] },
      headerExtensions: { audio: [], video: [] },
    }));
  }

  sendRtp(packet: RtpPacket): void {
    const sender = this.pc?.sender;
    if (!sender || !this.sendable(packet)) return;
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

  protected watch(connection: WeriftConnection): void {
    const transport = connection.sender?.dtlsTransport;
    // werift's receiver pipeline (routing by SSRC, statistics, receiver reports, NACK, TWCC) serves media werift
    // consumes itself. The relay takes RTP straight from the transport (whatever SSRC the browser uses), so that
    // pipeline is detached and costs nothing per packet. RTCP from the browser still reaches werift's sender.
    transport?.onRtp.allUnsubscribe();
    transport?.onRtp.subscribe((p: WeriftRtpPacket) => {
      const h = p.header;
      const packet: RtpPacket = {
        header: {
          marker: h.marker, payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp,
          ssrc: h.ssrc, csrcs: h.csrc,
        },
        payload: p.payload,
        paddingSize: 0,
      };
      this.received(packet, p.payload.length + h.serializeSize);
    });
    connection.pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') this.connected(connection);
      else if (s === 'failed' || s === 'closed') this.failed(connection);
      // 'disconnected' (consent freshness, RFC 7675) may recover; an ICE-lite agent does not check consent anyway.
    });
  }
}

function weriftCodec(f: Readonly<PayloadFormat>): RTCRtpCodecParameters {
  const c = new RTCRtpCodecParameters({
    mimeType: `audio/${f.encoding}`, clockRate: f.clockRate, payloadType: f.payloadType,
    ...(f.channels !== undefined && { channels: f.channels }),
  });
  if (f.fmtp !== undefined) c.parameters = f.fmtp;
  return c;
}
