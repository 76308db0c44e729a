/**
 * A sound callhook plays into a call (`play` of a server-started call, `inject_sound`): a WAV file read whole,
 * decoded and resampled to 16-bit samples at 8000 Hz, ready to be cut into 20 ms G.711 frames of either law.
 */
import { readFile, stat } from 'node:fs/promises';
import { MediaError } from '../errors.ts';
import { decodeG711 } from './g711.ts';
import { G711_RATE, resampleTo8k } from './resample.ts';
import { readWav } from './wav.ts';

/** Larger files are refused: 64 MiB is over half an hour of 16-bit PCM even at 16 kHz, more than a prompt needs. */
export const MAX_SOUND_FILE_BYTES = 64 * 1024 * 1024;

export interface Sound {
  /** 16-bit samples at 8000 Hz, mono. */
  samples: Int16Array;
  /** The file it came from, for logs. */
  path: string;
}

/**
 * Reads and converts a sound file. Throws MediaError MEDIA_SOUND_FILE (missing, unreadable, a directory, too large,
 * empty) or MEDIA_AUDIO_FORMAT (a format callhook does not play, named), each naming the file.
 */
export async function loadSound(path: string): Promise<Sound> {
  let file: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} is not a regular file`);
    if (info.size > MAX_SOUND_FILE_BYTES) {
      throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} is ${info.size} bytes, more than the ${MAX_SOUND_FILE_BYTES} allowed`);
    }
    file = await readFile(path);
  } catch (e) {
    if (e instanceof MediaError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`;
    throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} ${reason}`);
  }
  let wav;
  try {
    wav = readWav(file);
  } catch (e) {
    if (e instanceof MediaError) throw new MediaError(e.code, `sound file ${path}: ${e.message}`);
    throw e;
  }
  const pcm = wav.encoding === 'L16'
    ? new Int16Array(wav.data.buffer.slice(wav.data.byteOffset, wav.data.byteOffset + wav.data.length))
    : decodeG711(wav.encoding, wav.data);
  const samples = await resampleTo8k(pcm, wav.encoding === 'L16' ? wav.sampleRate : G711_RATE);
  if (samples.length === 0) throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} holds no samples`);
  return { samples, path };
}
