/**
 * The audio codecs a transcoded call decodes and encodes, behind one interface: 20 ms frames of 16-bit mono PCM at
 * the call's PCM rate, the SIP codec's. Opus runs at that rate itself (./opus.ts: libopus converts to and from its
 * 48 kHz, so a G.722 call is resampled 48 ⇄ 16 kHz, never through 8 kHz); G.711 on one side and G.722 on the other
 * are converted 8 ⇄ 16 kHz by ./halfband.ts.
 */
import type { CodecName } from '../codecs.ts';
import { NoCommonCodecError } from '../errors.ts';
import { decodeG711, encodeG711 } from './g711.ts';
import { G722Decoder, G722Encoder } from './g722.ts';
import { Downsampler, Upsampler } from './halfband.ts';
import { OpusCodec } from './opus.ts';

export interface FrameCodec {
  /** PCM samples per second. */
  readonly pcmRate: number;
  /**
   * The PCM of a payload. G.711's holds only until this codec's next decoding (of a 20 ms packet, its array is
   * reused); Opus's (and `conceal`'s, `recover`'s) only until the next Opus decoding (./libopus-decoder.ts).
   */
  decode(payload: Buffer): Int16Array;
  encode(pcm: Int16Array): Buffer;
  /** PCM for one lost 20 ms frame: the codec's concealment, or silence when it has none. */
  conceal(): Int16Array;
  /** A codec with in-band FEC (Opus): the lost 20 ms frame before `next`, rebuilt from `next`'s FEC data. */
  recover?(next: Buffer): Int16Array;
}

/**
 * A fresh codec instance of `codec` for one call side; `pcmRate` is the call's PCM rate (the SIP codec's); `dtx`:
 * an Opus encoder stops sending during silence. Throws NoCommonCodecError for a codec that cannot be transcoded,
 * MediaError MEDIA_CODEC_UNAVAILABLE when libopus does not load.
 */
export function frameCodec(codec: CodecName, pcmRate: number, dtx = false): FrameCodec {
  const rate = pcmRate === 8000 || pcmRate === 16000 ? pcmRate : undefined;
  if (rate === undefined) throw new NoCommonCodecError(`${codec} cannot be transcoded at ${pcmRate} Hz`);
  if (codec === 'OPUS') return new OpusCodec(rate, dtx);
  const native = nativeCodec(codec);
  if (native.pcmRate === rate) return native;
  return native.pcmRate === 8000 ? upsampled(native) : downsampled(native);
}

/** G.711 or G.722 at its own sampling rate. */
function nativeCodec(codec: 'PCMU' | 'PCMA' | 'G722'): FrameCodec {
  const pcmRate = pcmRateOf(codec);
  const silence = new Int16Array(pcmRate / 50);
  if (codec === 'G722') {
    const encoder = new G722Encoder();
    const decoder = new G722Decoder();
    return { pcmRate, decode: (p) => decoder.decode(p), encode: (pcm) => encoder.encode(pcm), conceal: () => silence };
  }
  const frame = new Int16Array(pcmRate / 50);
  return {
    pcmRate, decode: (p) => decodeG711(codec, p, p.length === frame.length ? frame : undefined),
    encode: (pcm) => encodeG711(codec, pcm), conceal: () => silence,
  };
}

/** An 8 kHz codec (G.711) in a 16 kHz call (G.722 on the SIP side). */
function upsampled(codec: FrameCodec): FrameCodec {
  const up = new Upsampler();
  const down = new Downsampler();
  const silence = new Int16Array(codec.pcmRate / 25);
  return { pcmRate: 16000, decode: (p) => up.process(codec.decode(p)), encode: (pcm) => codec.encode(down.process(pcm)), conceal: () => silence };
}

/** A 16 kHz codec (G.722) in an 8 kHz call (G.711 on the SIP side). */
function downsampled(codec: FrameCodec): FrameCodec {
  const up = new Upsampler();
  const down = new Downsampler();
  const silence = new Int16Array(codec.pcmRate / 100);
  return { pcmRate: 8000, decode: (p) => down.process(codec.decode(p)), encode: (pcm) => codec.encode(up.process(pcm)), conceal: () => silence };
}

/** The PCM rate a SIP codec carries: G.722's 16 kHz (its RTP clock says 8000, RFC 3551 §4.5.2), G.711's 8 kHz. */
export function pcmRateOf(codec: CodecName): number {
  return codec === 'G722' ? 16000 : codec === 'OPUS' ? 48000 : 8000;
}
