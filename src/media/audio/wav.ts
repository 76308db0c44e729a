/**
 * WAV files (RIFF WAVE, the Microsoft/IBM multimedia format; format codes of RFC 2361 Appendix A): reading the
 * sounds callhook plays, and the header of the recordings it writes. Parsing a RIFF file is a loop over chunks, so
 * it is done here with Node's Buffer rather than with a package.
 */
import type { G711Law } from '../codecs/g711.ts';
import { MediaError } from '../errors.ts';

/** wFormatTag values (RFC 2361 Appendix A) callhook can play. */
const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Sample rates a played sound may have: telephone, wideband and WebRTC's, each resampled to G.711's 8000 Hz. */
export const PLAYABLE_PCM_RATES: readonly number[] = [8000, 16000, 48000];

/** The audio of a WAV file, as stored: 16-bit little-endian PCM, or G.711 bytes at 8000 Hz. */
export interface WavAudio {
  encoding: 'L16' | G711Law;
  sampleRate: number;
  /** The `data` chunk. */
  data: Buffer;
}

function unsupported(what: string): MediaError {
  return new MediaError(
    'MEDIA_AUDIO_FORMAT',
    `unsupported audio format: ${what} (callhook plays WAV files, mono: 16-bit PCM at ${PLAYABLE_PCM_RATES.join(', ')} Hz, or G.711 A-law / µ-law at 8000 Hz)`,
  );
}

const FORMAT_NAMES: Readonly<Record<number, string>> = {
  0x0002: 'Microsoft ADPCM', 0x0003: 'IEEE float', 0x0011: 'IMA ADPCM', 0x0031: 'GSM 6.10', 0x0055: 'MPEG layer 3',
};

/** Reads a WAV file's format and samples. Throws MediaError MEDIA_AUDIO_FORMAT naming what is not supported. */
export function readWav(file: Buffer): WavAudio {
  if (file.length < 12 || file.toString('latin1', 0, 4) !== 'RIFF' || file.toString('latin1', 8, 12) !== 'WAVE') {
    const magic = file.subarray(0, 4).toString('latin1');
    const kind = magic === 'OggS' ? 'an Ogg file' : magic.startsWith('ID3') || (file[0] === 0xff && ((file[1] ?? 0) & 0xe0) === 0xe0) ? 'an MP3 file' : 'not a RIFF WAVE file';
    throw unsupported(kind);
  }
  let fmt: Buffer | undefined;
  let data: Buffer | undefined;
  // Chunks follow the 12-byte RIFF header, each padded to an even length.
  for (let at = 12; at + 8 <= file.length; ) {
    const id = file.toString('latin1', at, at + 4);
    const size = file.readUInt32LE(at + 4);
    const body = file.subarray(at + 8, Math.min(file.length, at + 8 + size));
    if (id === 'fmt ') fmt = body;
    else if (id === 'data') data = body;
    at += 8 + size + (size & 1);
  }
  if (fmt === undefined || fmt.length < 16) throw unsupported('a WAV file without a fmt chunk');
  if (data === undefined) throw unsupported('a WAV file without a data chunk');
  let tag = fmt.readUInt16LE(0);
  // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its SubFormat GUID.
  if (tag === WAVE_FORMAT_EXTENSIBLE && fmt.length >= 26) tag = fmt.readUInt16LE(24);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const bits = fmt.readUInt16LE(14);
  if (channels !== 1) throw unsupported(`${channels} channels`);
  if (tag === WAVE_FORMAT_PCM) {
    if (bits !== 16) throw unsupported(`${bits}-bit PCM`);
    if (!PLAYABLE_PCM_RATES.includes(sampleRate)) throw unsupported(`PCM at ${sampleRate} Hz`);
    return { encoding: 'L16', sampleRate, data: data.subarray(0, data.length & ~1) };
  }
  if (tag === WAVE_FORMAT_ALAW || tag === WAVE_FORMAT_MULAW) {
    const law = tag === WAVE_FORMAT_ALAW ? 'A-law' : 'µ-law';
    if (sampleRate !== 8000) throw unsupported(`${law} at ${sampleRate} Hz`);
    if (bits !== 8) throw unsupported(`${bits}-bit ${law}`);
    return { encoding: tag === WAVE_FORMAT_ALAW ? 'PCMA' : 'PCMU', sampleRate, data };
  }
  throw unsupported(`WAV format ${FORMAT_NAMES[tag] ?? `0x${tag.toString(16).padStart(4, '0')}`}`);
}

/** Bytes of the canonical 16-bit PCM header: RIFF, fmt (16 bytes), data. */
export const WAV_HEADER_BYTES = 44;

/**
 * The header of a 16-bit PCM WAV file holding `dataBytes` of samples. A recording rewrites it as it grows, so the
 * file on disk is a valid WAV at every flush.
 */
export function pcmWavHeader(channels: number, sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
