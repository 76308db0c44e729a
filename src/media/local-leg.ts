/**
 * The leg of a call that has no browser (a call the REST API starts): callhook itself is the endpoint. It stands
 * where a browser's WebRTC leg would, so the bridge, hold, DTMF both ways, recording and played sounds work on it
 * unchanged: it "negotiated" the first configured G.711 law and telephone-event, sends nothing (what callhook says
 * is a played sound, which the bridge sends towards SIP itself) and drops what the bridge hands it (the far end's
 * audio, which a recording taps in the bridge).
 */
import { CODECS, TELEPHONE_EVENT } from './codecs.ts';
import type { G711Law } from './codecs/g711.ts';
import type { WebRtcLeg, WebRtcLegState, WebRtcLegStats, WebRtcMedia } from './engine.ts';
import { MediaError } from './errors.ts';
import type { RtpPacket } from './rtp/packet.ts';

export class LocalAudioLeg implements WebRtcLeg {
  readonly localPort = undefined;
  readonly localSdp = undefined;
  readonly media: WebRtcMedia;
  private stateValue: WebRtcLegState = 'connected';
  private readonly counters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 };

  constructor(law: G711Law) {
    this.media = { codec: { ...CODECS[law] }, telephoneEvent: { ...TELEPHONE_EVENT } };
  }

  get state(): WebRtcLegState {
    return this.stateValue;
  }

  setRemoteOffer(): Promise<string> {
    return Promise.reject(new MediaError('MEDIA_STATE', 'a call without a browser takes no browser offer'));
  }

  createOffer(): Promise<string> {
    return Promise.reject(new MediaError('MEDIA_STATE', 'a call without a browser makes no browser offer'));
  }

  setRemoteAnswer(): Promise<void> {
    return Promise.reject(new MediaError('MEDIA_STATE', 'a call without a browser takes no browser answer'));
  }

  /** Nothing comes from a leg without a browser. */
  onRtp(): () => void {
    return () => undefined;
  }

  /** The leg never fails: it has no network of its own. */
  onStateChange(): () => void {
    return () => undefined;
  }

  /** The far end's audio reaches callhook here; it is counted (a recording has it from the bridge already). */
  sendRtp(packet: RtpPacket): void {
    if (this.stateValue !== 'connected') return;
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.payload.length;
  }

  stats(): WebRtcLegStats {
    // Nothing crosses a network between the bridge and this leg: nothing can be lost.
    return { ...this.counters, packetsLost: 0 };
  }

  close(): Promise<void> {
    this.stateValue = 'closed';
    return Promise.resolve();
  }
}
