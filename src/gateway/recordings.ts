/**
 * The folder of call recordings (`<dataDir>/recordings`, one `<callId>.wav` per recorded call, the callId
 * percent-encoded): what the admin API lists and serves, and the retention that removes old ones
 * (config `recordingMaxAgeDays`).
 */
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { GatewayError } from './errors.ts';

export interface RecordingInfo {
  callId: string;
  /** The file's name in the recordings folder. */
  file: string;
  bytes: number;
  /** ISO 8601: the last write (the call's end, for a finished recording). */
  modifiedAt: string;
}

const SUFFIX = '.wav';
/** How often retention looks for recordings past their age. */
const SWEEP_INTERVAL_MS = 3_600_000;

/** The file a call's recording has (or will have): the callId percent-encoded, so it cannot leave the folder. */
export function recordingFile(callId: string): string {
  return `${encodeURIComponent(callId)}${SUFFIX}`;
}

export class Recordings {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Every recording, newest first. */
  async list(): Promise<RecordingInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: RecordingInfo[] = [];
    for (const file of names.filter((n) => n.endsWith(SUFFIX))) {
      const info = await stat(join(this.dir, file)).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      let callId: string;
      try {
        callId = decodeURIComponent(file.slice(0, -SUFFIX.length));
      } catch {
        continue; // not a name callhook wrote
      }
      out.push({ callId, file, bytes: info.size, modifiedAt: info.mtime.toISOString() });
    }
    return out.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
  }

  /** The WAV of a call. Throws GatewayError NOT_FOUND. */
  async read(callId: string): Promise<Buffer> {
    try {
      return await readFile(join(this.dir, recordingFile(callId)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new GatewayError('NOT_FOUND', `no recording of call ${callId}`);
      throw e;
    }
  }

  /** Removes recordings older than `maxAgeDays` now and every hour (0: keep them all). */
  startRetention(maxAgeDays: number): void {
    if (maxAgeDays <= 0) return;
    const sweep = (): void => void this.removeOlderThan(Date.now() - maxAgeDays * 86_400_000);
    sweep();
    this.timer = setInterval(sweep, SWEEP_INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async removeOlderThan(cutoff: number): Promise<void> {
    try {
      for (const r of await this.list()) {
        if (Date.parse(r.modifiedAt) < cutoff) await unlink(join(this.dir, r.file));
      }
    } catch (err) {
      this.log.warn({ err, dir: this.dir }, 'removing old recordings failed');
    }
  }
}
