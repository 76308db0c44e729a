/**
 * Opus (RFC 6716) towards the browser: the encoder through libopus's native binding @discordjs/opus, the decoder
 * through libopus in WebAssembly (./libopus-decoder.ts), the one build whose API reads in-band FEC (both chosen by
 * measurement, docs/architecture.md "Transcoding"). The PCM side runs at the SIP codec's sampling rate — 8 kHz for G.711, 16 kHz
 * for G.722 — and libopus converts to and from its internal 48 kHz itself, so wideband audio is never squeezed
 * through 8 kHz. The RTP clock stays 48 kHz whatever the PCM rate (RFC 7587 §4.1).
 *
 * The encoder: VOIP-tuned bitrate, in-band FEC on (the browser's decoder uses it, RFC 7587 §3.3), complexity 0, which
 * costs about a sixth less than complexity 1 and a third of complexity 5 at the PCM rates used here, for telephone
 * audio that has already been through G.711 or G.722: a sweep's SNR towards the browser stays at 29–37 dB
 * (docs/benchmarks.md "Transcoded calls"), and DTX when the browser asks for it (`usedtx=1`,
 * RFC 7587 §6.1). The decoder: a lost packet is rebuilt from the next one's in-band FEC data when that is already
 * here (`recover`), else concealed by libopus's packet-loss concealment (`conceal`).
 */
import { createRequire } from 'node:module';
import type { OpusEncoder } from '@discordjs/opus';
import { MediaError } from '../errors.ts';
import { LibopusDecoder } from './libopus-decoder.ts';

/** libopus CTLs (opus_defines.h). */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;

/** 24 kbit/s: fullband-quality voice (RFC 7587 §3.1.1 recommends 20–32 kbit/s for wideband and above). */
const BITRATE = 24_000;
const COMPLEXITY = 0;
/** The loss the encoder plans FEC for (%): a few percent, as on a browser's real network. */
const EXPECTED_LOSS_PERCENT = 5;

export type OpusPcmRate = 8000 | 16000;

/**
 * What the browser's fmtp asks of this side (RFC 7587 §6.1): `useinbandfec=1`, its packets carry FEC data worth
 * reading; `usedtx=1`, it prefers DTX in what it receives.
 */
export interface OpusFmtp {
  useInbandFec: boolean;
  useDtx: boolean;
}

/** The parameters of an Opus a=fmtp line (`minptime=10;useinbandfec=1`) that this side honours. */
export function opusFmtp(fmtp: string | undefined): OpusFmtp {
  const params = new Map((fmtp ?? '').split(';').map((p) => {
    const [name = '', value = ''] = p.split('=');
    return [name.trim().toLowerCase(), value.trim()] as const;
  }));
  return { useInbandFec: params.get('useinbandfec') === '1', useDtx: params.get('usedtx') === '1' };
}

/**
 * libopus's encoder output that need not be sent: with DTX on, a frame of silence comes out as a packet of at most
 * 2 bytes (opus_encode's documentation), and the receiver's decoder fills the gap with comfort noise.
 */
export function isDtxFrame(packet: Buffer): boolean {
  return packet.length <= 2;
}

type OpusModule = typeof import('@discordjs/opus');
let opusModule: OpusModule | undefined;

/** The native binding, loaded at the first transcoded call (a passthrough-only server never needs it). */
function loadOpus(): OpusModule {
  if (opusModule) return opusModule;
  try {
    opusModule = createRequire(import.meta.url)('@discordjs/opus') as OpusModule;
  } catch (err) {
    throw new MediaError('MEDIA_CODEC_UNAVAILABLE', `the Opus library (@discordjs/opus) could not be loaded: ${(err as Error).message}`);
  }
  return opusModule;
}

/** One call's Opus encoder and decoder, each 20 ms frame at `pcmRate`. */
export class OpusCodec {
  readonly frameSamples: number;
  private readonly encoder: OpusEncoder;
  private readonly decoder: LibopusDecoder;

  /** `dtx`: the encoder stops sending during silence (the browser's `usedtx=1`). */
  constructor(readonly pcmRate: OpusPcmRate, dtx = false) {
    const { OpusEncoder } = loadOpus();
    this.frameSamples = pcmRate / 50;
    this.encoder = new OpusEncoder(pcmRate, 1);
    this.encoder.applyEncoderCTL(OPUS_SET_BITRATE, BITRATE);
    this.encoder.applyEncoderCTL(OPUS_SET_COMPLEXITY, COMPLEXITY);
    this.encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
    this.encoder.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, EXPECTED_LOSS_PERCENT);
    this.encoder.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    if (dtx) this.encoder.applyEncoderCTL(OPUS_SET_DTX, 1);
    this.decoder = new LibopusDecoder(pcmRate);
  }

  /** One 20 ms frame of PCM to one Opus packet. */
  encode(pcm: Int16Array): Buffer {
    return this.encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  /**
   * One Opus packet to PCM (its duration is the packet's: 20 ms from a browser). Throws MediaError
   * MEDIA_CODEC_DATA for a packet libopus cannot read.
   */
  decode(packet: Buffer): Int16Array {
    return this.decoder.decode(packet);
  }

  /** The lost 20 ms frame before `next`, from `next`'s in-band FEC data (concealment when it carries none). */
  recover(next: Buffer): Int16Array {
    return this.decoder.recover(next, this.frameSamples);
  }

  /** 20 ms of packet-loss concealment in place of a lost packet. */
  conceal(): Int16Array {
    return this.decoder.conceal(this.frameSamples);
  }
}
