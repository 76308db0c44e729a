/**
 * A sound callhook plays into a call (`play` of a server-started call, `inject_sound`): a WAV file read whole,
 * decoded and resampled to 16-bit samples at 8000 Hz, ready to be cut into 20 ms G.711 frames of either law.
 *
 * The same prompt is usually played into many calls (a notification campaign, an IVR menu), and resampling costs
 * tens of milliseconds a second of audio: the last CACHED_SOUNDS sounds are kept, each as long as its file's size and
 * modification time are unchanged.
 */
import { readFile, stat } from 'node:fs/promises';
import { MediaError } from '../errors.ts';
import { decodeG711 } from '../codecs/g711.ts';
import { G711_RATE, resampleTo8k } from './resample.ts';
import { readWav } from './wav.ts';

/** Larger files are refused: 64 MiB is over half an hour of 16-bit PCM even at 16 kHz, more than a prompt needs. */
export const MAX_SOUND_FILE_BYTES = 64 * 1024 * 1024;

/** How many converted sounds are kept (the least recently played goes first). */
const CACHED_SOUNDS = 32;
const cache = new Map<string, { version: string; sound: Sound }>();

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
  const info = await fileStep(path, () => stat(path));
  if (!info.isFile()) throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} is not a regular file`);
  if (info.size > MAX_SOUND_FILE_BYTES) {
    throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} is ${info.size} bytes, more than the ${MAX_SOUND_FILE_BYTES} allowed`);
  }
  const version = `${info.size}:${info.mtimeMs}`;
  const cached = cache.get(path);
  // Most recently used last: the Map's order is the eviction order.
  cache.delete(path);
  if (cached?.version === version) {
    cache.set(path, cached);
    return cached.sound;
  }
  const sound = await convert(path, await fileStep(path, () => readFile(path)));
  cache.set(path, { version, sound });
  if (cache.size > CACHED_SOUNDS) cache.delete(cache.keys().next().value!);
  return sound;
}

/** A file system step on a sound file; its failure as MediaError MEDIA_SOUND_FILE naming the file and why. */
async function fileStep<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`;
    throw new MediaError('MEDIA_SOUND_FILE', `sound file ${path} ${reason}`);
  }
}

/** A WAV file's bytes as a Sound. Throws MediaError naming the file. */
async function convert(path: string, file: Buffer): Promise<Sound> {
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
