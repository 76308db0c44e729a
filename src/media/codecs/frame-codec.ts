/**
 * The audio codecs a transcoded call decodes and encodes, behind one interface: 20 ms frames of 16-bit mono PCM at
 * the codec's PCM rate. Opus runs at the SIP codec's rate (./opus.ts), so both sides of a call share one PCM rate
 * and no resampling is needed between them.
 */
import type { CodecName } from '../codecs.ts';
import { NoCommonCodecError } from '../errors.ts';
import { decodeG711, encodeG711 } from './g711.ts';
import { OpusCodec } from './opus.ts';

export interface FrameCodec {
  /** PCM samples per second. */
  readonly pcmRate: number;
  decode(payload: Buffer): Int16Array;
  encode(pcm: Int16Array): Buffer;
  /** PCM for one lost 20 ms frame: the codec's concealment, or silence when it has none. */
  conceal(): Int16Array;
}

/** The codecs a call can transcode between (G.722 only passes through for now). */
export function canTranscode(codec: CodecName): boolean {
  return codec === 'PCMU' || codec === 'PCMA' || codec === 'OPUS';
}

/**
 * A fresh codec instance of `codec` for one call side; `pcmRate` is the call's PCM rate (the SIP codec's). Throws
 * NoCommonCodecError for a codec that cannot be transcoded, MediaError MEDIA_CODEC_UNAVAILABLE when libopus does
 * not load.
 */
export function frameCodec(codec: CodecName, pcmRate: number): FrameCodec {
  if (codec === 'PCMU' || codec === 'PCMA') {
    const silence = new Int16Array(pcmRate / 50);
    return { pcmRate, decode: (p) => decodeG711(codec, p), encode: (pcm) => encodeG711(codec, pcm), conceal: () => silence };
  }
  if (codec === 'OPUS' && (pcmRate === 8000 || pcmRate === 16000)) return new OpusCodec(pcmRate);
  throw new NoCommonCodecError(`${codec} cannot be transcoded at ${pcmRate} Hz`);
}

/** The PCM rate a SIP codec carries: G.722's 16 kHz (its RTP clock says 8000, RFC 3551 §4.5.2), G.711's 8 kHz. */
export function pcmRateOf(codec: CodecName): number {
  return codec === 'G722' ? 16000 : codec === 'OPUS' ? 48000 : 8000;
}
