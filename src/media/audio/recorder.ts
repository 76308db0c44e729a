/**
 * A call's recording: one stereo 16-bit WAV at 8000 Hz, left our side (what callhook sends towards SIP: the
 * browser's audio or a played sound), right the far end (what the SIP side sends). It is written as it goes: every
 * `flushMs` the samples both channels have settled are appended and the header rewritten, so the file is a valid WAV
 * at each flush and a crash loses at most that much.
 *
 * Each channel is placed on the call's time line: a frame goes where the previous one ended unless it comes more
 * than GAP_SAMPLES later than that, which is a real pause (hold, a peer that stops sending) and is kept as silence;
 * so network jitter and a late timer on a loaded server do not tear the audio, and the two channels stay aligned to
 * within that gap. A channel
 * silent at a flush is padded with silence up to `now - MARGIN`, so a late frame of the other is not cut off.
 *
 * One write at a time per recording: a flush due while the previous one is still being written is left to the next,
 * which then writes everything pending at once. The file system's operations run on libuv's few threads; on a
 * machine short of CPU each takes tens of milliseconds, and a queue of one write per call per second grew without
 * bound from about 150 calls (bench/server-calls.ts: the memory of the queued frames, then a stalled process).
 * Coalescing makes each write larger and rarer instead, so the operations a second fall as they slow down.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { G711_RATE } from './resample.ts';
import { pcmWavHeader, WAV_HEADER_BYTES } from './wav.ts';

export type RecordedSide = 'local' | 'remote';

export interface CallRecorderOptions {
  /** The WAV file to write (its folder is created). */
  path: string;
  logger: Logger;
  /** How often the samples so far are written (ms). Default 1000. */
  flushMs?: number;
  clock?: Clock;
}

const SAMPLES_PER_MS = G711_RATE / 1000;
/** A frame this much later than the end of its channel starts after a pause, not where the channel ended (300 ms). */
const GAP_SAMPLES = 300 * SAMPLES_PER_MS;
/** Frames up to this late are still placed before a flush pads their channel (400 ms). */
const MARGIN_SAMPLES = 400 * SAMPLES_PER_MS;
const DEFAULT_FLUSH_MS = 1000;
/**
 * Samples not yet written: more than 10 s (a disk that cannot keep up) ends the recording rather than letting its
 * backlog grow in memory.
 */
const MAX_BACKLOG_SAMPLES = 10_000 * SAMPLES_PER_MS;

/** The samples of one channel not yet written, from the file's current end. */
class PendingChannel {
  samples = new Int16Array(G711_RATE);
  length = 0;

  /** Appends `samples` at `position` (relative to the file's end), with silence before it when it is later. */
  put(position: number, samples: Int16Array): void {
    const at = position > this.length + GAP_SAMPLES ? position : this.length;
    this.reserve(at + samples.length);
    this.samples.fill(0, this.length, at);
    this.samples.set(samples, at);
    this.length = at + samples.length;
  }

  /** Silence up to `length`. */
  padTo(length: number): void {
    if (length <= this.length) return;
    this.reserve(length);
    this.samples.fill(0, this.length, length);
    this.length = length;
  }

  /** The first `n` samples leave the channel. */
  drop(n: number): void {
    this.samples.copyWithin(0, n, this.length);
    this.length -= n;
  }

  private reserve(n: number): void {
    if (n <= this.samples.length) return;
    const grown = new Int16Array(Math.max(n, this.samples.length * 2));
    grown.set(this.samples.subarray(0, this.length));
    this.samples = grown;
  }
}

export class CallRecorder {
  readonly path: string;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private channels: Record<RecordedSide, PendingChannel> = { local: new PendingChannel(), remote: new PendingChannel() };
  /** Samples per channel already handed to the file. */
  private written = 0;
  private file: Promise<FileHandle> | undefined;
  /** The write in flight, if any (one at a time: see the file comment). */
  private writing: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private failed = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly o: CallRecorderOptions) {
    this.path = o.path;
    this.clock = o.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.schedule();
  }

  /** One frame of 8000 Hz samples that went out (`local`) or came in (`remote`) just now. */
  write(side: RecordedSide, samples: Int16Array): void {
    if (this.closed !== undefined || this.failed) return;
    this.channels[side].put(this.position() - this.written, samples);
  }

  /** Writes what is left and closes the file. Safe to call again. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      await this.writing;
      const { local, remote } = this.channels;
      this.flush(Math.max(local.length, remote.length));
      await this.writing;
      await this.file?.then((f) => f.close()).catch(() => undefined);
    })();
    return this.closed;
  }

  /** Samples since the start of the recording, by the clock. */
  private position(): number {
    return Math.round((this.clock.now() - this.startedAt) * SAMPLES_PER_MS);
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      const behind = this.position() - this.written;
      if (behind > MAX_BACKLOG_SAMPLES + MARGIN_SAMPLES) this.fail(new Error(`the disk is ${(behind / G711_RATE).toFixed(0)} s behind`));
      else if (this.writing === undefined) this.flush(behind - MARGIN_SAMPLES);
      this.schedule();
    }, this.o.flushMs ?? DEFAULT_FLUSH_MS, { unref: true });
  }

  /** Interleaves `n` samples of each channel (silence where one has fewer) and writes them to the file. */
  private flush(n: number): void {
    if (n <= 0 || this.failed) return;
    const { local, remote } = this.channels;
    local.padTo(n);
    remote.padTo(n);
    const frames = Buffer.allocUnsafe(n * 4);
    for (let i = 0; i < n; i++) {
      frames.writeInt16LE(local.samples[i]!, i * 4);
      frames.writeInt16LE(remote.samples[i]!, i * 4 + 2);
    }
    local.drop(n);
    remote.drop(n);
    const offset = WAV_HEADER_BYTES + this.written * 4;
    this.written += n;
    const dataBytes = this.written * 4;
    this.writing = (async () => {
      try {
        const file = await this.opened();
        await file.write(frames, 0, frames.length, offset);
        await file.write(pcmWavHeader(2, G711_RATE, dataBytes), 0, WAV_HEADER_BYTES, 0);
      } catch (err) {
        // A full disk or a removed folder ends this recording, not the call.
        this.fail(err);
      } finally {
        this.writing = undefined;
      }
    })();
  }

  /** Ends the recording (the call goes on); what was pending is let go. */
  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.channels.local = new PendingChannel();
    this.channels.remote = new PendingChannel();
    this.o.logger.warn({ err, path: this.path }, 'recording failed: the call goes on unrecorded');
  }

  private opened(): Promise<FileHandle> {
    this.file ??= (async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const file = await open(this.path, 'w');
      await file.write(pcmWavHeader(2, G711_RATE, 0), 0, WAV_HEADER_BYTES, 0);
      return file;
    })();
    return this.file;
  }
}
