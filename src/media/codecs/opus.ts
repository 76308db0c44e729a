/**
 * Opus (RFC 6716) towards the browser, through libopus's native binding @discordjs/opus (chosen by measurement,
 * docs/architecture.md "Transcoding"). The PCM side runs at the SIP codec's sampling rate — 8 kHz for G.711, 16 kHz
 * for G.722 — and libopus converts to and from its internal 48 kHz itself, so wideband audio is never squeezed
 * through 8 kHz. The RTP clock stays 48 kHz whatever the PCM rate (RFC 7587 §4.1).
 *
 * The encoder: VOIP-tuned bitrate, in-band FEC on (the browser's decoder uses it, RFC 7587 §3.3), complexity 5,
 * which halves libopus's default cost for no audible loss on voice. The decoder: a lost packet is concealed by
 * libopus's packet-loss concealment (`conceal`). @discordjs/opus calls opus_decode with decode_fec 0 always, so the
 * browser's in-band FEC cannot be read here; concealment covers single losses.
 */
import { createRequire } from 'node:module';
import type { OpusEncoder } from '@discordjs/opus';
import { MediaError } from '../errors.ts';

/** libopus CTLs (opus_defines.h). */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;

/** 24 kbit/s: fullband-quality voice (RFC 7587 §3.1.1 recommends 20–32 kbit/s for wideband and above). */
const BITRATE = 24_000;
const COMPLEXITY = 5;
/** The loss the encoder plans FEC for (%): a few percent, as on a browser's real network. */
const EXPECTED_LOSS_PERCENT = 5;

export type OpusPcmRate = 8000 | 16000;

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
  private readonly decoder: OpusEncoder;

  constructor(readonly pcmRate: OpusPcmRate) {
    const { OpusEncoder } = loadOpus();
    this.frameSamples = pcmRate / 50;
    // One OpusEncoder object holds one libopus encoder and one decoder, each created on first use.
    this.encoder = new OpusEncoder(pcmRate, 1);
    this.encoder.applyEncoderCTL(OPUS_SET_BITRATE, BITRATE);
    this.encoder.applyEncoderCTL(OPUS_SET_COMPLEXITY, COMPLEXITY);
    this.encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
    this.encoder.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, EXPECTED_LOSS_PERCENT);
    this.encoder.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    this.decoder = new OpusEncoder(pcmRate, 1);
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
    let out: Buffer;
    try {
      out = this.decoder.decode(packet);
    } catch (err) {
      throw new MediaError('MEDIA_CODEC_DATA', `an Opus packet could not be decoded: ${(err as Error).message}`);
    }
    return pcmOf(out);
  }

  /**
   * 20 ms of packet-loss concealment in place of a lost packet. The binding asks libopus for its largest frame
   * (120 ms) of concealment; the first 20 ms are the ones that belong here, and the decoder resumes at the next
   * packet.
   */
  conceal(): Int16Array {
    return pcmOf(this.decoder.decode(Buffer.alloc(0))).subarray(0, this.frameSamples);
  }
}

function pcmOf(b: Buffer): Int16Array {
  // A Buffer may start at an odd offset of its pool: copy unless aligned.
  if (b.byteOffset % 2 === 0) return new Int16Array(b.buffer, b.byteOffset, b.length / 2);
  return new Int16Array(Uint8Array.from(b).buffer);
}
