/**
 * What calls need of the media library, built once from the configuration (config `rtpPortMin..Max`,
 * `webrtcPortMin..Max`, `webrtcPort`, `localIp`/`publicIp`, `codecs`, `codecPolicy`, `rtpInactivityTimeoutMs`, `webrtcConnectTimeoutMs`,
 * `webrtcEngine`): the WebRTC engine, the RTP port allocator, and the codec choice.
 *
 * Of the configured `codecs`, `pcmu`, `pcma` and `g722` are the SIP side's codecs in their configured order, and
 * `telephone-event` decides whether RFC 4733 DTMF is offered on the SIP side; Opus is the browser's only and is
 * never configured (`codecPolicy` says when it is used).
 */
import type { Logger } from '../log.ts';
import type { CodecName, CodecPolicy } from './codecs.ts';
import { DataChannelEngine } from './datachannel-engine.ts';
import type { MediaEngine } from './engine.ts';
import { PortPairAllocator } from './ports.ts';
import type { WebRtcEngineOptions } from './webrtc-leg.ts';

export interface CallMedia {
  engine: MediaEngine;
  /** The rtpPortMin..Max pairs of the SIP-side RTP legs. */
  rtpPorts: PortPairAllocator;
  /**
   * The webrtcPortMin..Max pairs of the browser legs (the engine's allocator; for `show calls` and tests); unused
   * with `webrtcPort`.
   */
  webrtcPorts: PortPairAllocator;
  /** The one UDP port of every browser leg (config `webrtcPort`, ICE UDP mux), when set. */
  webrtcPort: number | undefined;
  /** Address RTP sockets bind (config `localIp`). */
  localIp: string;
  /** Address written into our SDP for the SIP side (config `publicIp`). */
  publicIp: string;
  /** The codecs of the SIP side, in preference order (config `codecs`). */
  codecs: readonly CodecName[];
  /** What calls do when the legs' codecs differ (config `codecPolicy`); a call hook's answer may change it per call. */
  codecPolicy: CodecPolicy;
  /** Offer and accept RFC 4733 telephone-event on the SIP side. */
  telephoneEvent: boolean;
  /** No RTP from the SIP side for this long ends an established call (0: never). */
  rtpInactivityMs: number;
}

export type WebRtcEngineName = 'libdatachannel' | 'werift' | 'native';

/** The settings calls' media is built from; plain values named as in the configuration, so a Config fits. */
export interface CallMediaConfig {
  localIp: string;
  publicIp: string;
  rtpPortMin: number;
  rtpPortMax: number;
  webrtcPortMin: number;
  webrtcPortMax: number;
  /** One UDP port for all browser legs (ICE UDP mux); unset: a pair per leg from webrtcPortMin..Max. */
  webrtcPort?: number | undefined;
  codecs: string;
  codecPolicy: CodecPolicy;
  rtpInactivityTimeoutMs: number;
  webrtcConnectTimeoutMs: number;
  webrtcEngine: WebRtcEngineName;
}

/**
 * Only the chosen engine is loaded: libdatachannel is a native module that a platform may lack, and werift takes
 * most of start-up's module loading (docs/benchmarks.md "Start-up"), so a server on libdatachannel never loads it.
 */
const ENGINES: Readonly<Record<WebRtcEngineName, (o: WebRtcEngineOptions) => Promise<MediaEngine>>> = {
  libdatachannel: (o) => DataChannelEngine.load(o),
  werift: async (o) => new (await import('./werift-engine.ts')).WeriftEngine(o),
  native: async (o) => (await import('./native-engine.ts')).NativeEngine.load(o),
};

const CODEC_BY_CONFIG_NAME: Readonly<Record<string, CodecName>> = { pcmu: 'PCMU', pcma: 'PCMA', g722: 'G722' };

/** The audio codecs of a `codecs` setting (`"g722,pcma,telephone-event"` → G722, PCMA), in its order. */
export function codecPreference(setting: string): CodecName[] {
  const codecs: CodecName[] = [];
  for (const name of setting.split(',')) {
    const codec = CODEC_BY_CONFIG_NAME[name.trim().toLowerCase()];
    if (codec !== undefined && !codecs.includes(codec)) codecs.push(codec);
  }
  return codecs;
}

export async function createCallMedia(config: CallMediaConfig, logger: Logger): Promise<CallMedia> {
  const log = logger.child({ component: 'media' });
  const webrtcPorts = new PortPairAllocator('WebRTC ports', config.webrtcPortMin, config.webrtcPortMax, log);
  return {
    engine: await ENGINES[config.webrtcEngine]({
      localAddress: config.localIp,
      publicAddress: config.publicIp,
      ports: webrtcPorts,
      ...(config.webrtcPort !== undefined && { udpMuxPort: config.webrtcPort }),
      connectTimeoutMs: config.webrtcConnectTimeoutMs,
      logger: log,
    }),
    rtpPorts: new PortPairAllocator('RTP ports', config.rtpPortMin, config.rtpPortMax, log),
    webrtcPorts,
    webrtcPort: config.webrtcPort,
    localIp: config.localIp,
    publicIp: config.publicIp,
    codecs: codecPreference(config.codecs),
    codecPolicy: config.codecPolicy,
    telephoneEvent: config.codecs.split(',').some((c) => c.trim().toLowerCase() === 'telephone-event'),
    rtpInactivityMs: config.rtpInactivityTimeoutMs,
  };
}
