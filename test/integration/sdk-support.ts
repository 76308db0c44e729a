/**
 * What the SDK's integration tests share: the SDK built with its real build script (esbuild) into a temp
 * directory and loaded from the bundle a user would load, and a `ws` WebSocket that records every frame both
 * ways, to hand the SDK as its WebSocket constructor in Node.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { buildSdk, type SdkBuild } from '../../sdk/build.ts';
import type { Emitter } from '../../sdk/src/index.ts';

export type SdkModule = typeof import('../../sdk/src/index.ts');

export interface BuiltSdk {
  build: SdkBuild;
  /** The ESM bundle (dist/callhook.mjs), imported. */
  sdk: SdkModule;
  remove(): Promise<void>;
}

/** Builds the SDK into a fresh temp directory (bundles; declarations with `types`) and imports the ESM bundle. */
export async function buildAndLoadSdk(options: { types?: boolean } = {}): Promise<BuiltSdk> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-sdk-'));
  try {
    const build = await buildSdk({ outDir: join(dir, 'dist'), types: options.types ?? false });
    const sdk = (await import(pathToFileURL(build.esm).href)) as SdkModule;
    return { build, sdk, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A `ws` WebSocket that keeps every text frame it sends and receives, parsed. All instances: `opened`. */
export class RecordingWebSocket extends WebSocket {
  static opened: RecordingWebSocket[] = [];
  readonly sentFrames: Array<{ message: string; data: unknown[] }> = [];
  readonly receivedFrames: Array<{ message: string; data: unknown[]; raw: string }> = [];

  constructor(url: string) {
    super(url);
    RecordingWebSocket.opened.push(this);
    this.on('message', (data, isBinary) => {
      if (isBinary) return;
      const raw = data.toString();
      const parsed = JSON.parse(raw) as { message: string; data: unknown[] };
      this.receivedFrames.push({ ...parsed, raw });
    });
  }

  override send(data: string): void {
    this.sentFrames.push(JSON.parse(data) as { message: string; data: unknown[] });
    super.send(data);
  }
}

/** Resolves with the next payload of `event` (a Session's or a Call's); rejects after `ms` naming the event. */
export function nextEvent<E extends object, K extends keyof E & string>(emitter: Emitter<E>, event: K, ms: number): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${ms} ms`));
    }, ms);
    const off = emitter.on(event, (payload) => {
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}
