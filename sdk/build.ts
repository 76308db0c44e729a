/**
 * Builds the SDK into `dist/` (or `--out DIR`):
 *
 *   callhook.mjs          ESM for bundlers and `<script type="module">` (and Node, with `ws` as WebSocket)
 *   callhook.js           IIFE for a plain `<script>` tag: everything on the global `Callhook`
 *   node.mjs              the backend helper (`@callhook/sdk/node`: verifySignature), ESM for Node 20
 *   callhook.d.mts, node.d.mts, callhook.global.d.ts, types/, types-node/   declarations, emitted by tsc
 *
 * Run: `node --import tsx sdk/build.ts [--out DIR] [--no-types]`. Tests call `buildSdk()` directly.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';

const SDK_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_OUT_DIR = join(SDK_DIR, 'dist');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const TSC_TIMEOUT_MS = 120_000;

export interface BuildSdkOptions {
  /** Where the files go; default sdk/dist. */
  outDir?: string;
  /** Emit the declarations too (tsc, a few seconds); default true. */
  types?: boolean;
}

export interface SdkBuild {
  outDir: string;
  esm: string;
  iife: string;
  node: string;
}

export async function buildSdk(options: BuildSdkOptions = {}): Promise<SdkBuild> {
  const outDir = resolve(options.outDir ?? DEFAULT_OUT_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const out: SdkBuild = {
    outDir,
    esm: join(outDir, 'callhook.mjs'),
    iife: join(outDir, 'callhook.js'),
    node: join(outDir, 'node.mjs'),
  };
  // The output depends on nothing but the sources (paths in its comments are relative to the repository), so a
  // build anywhere equals the committed sdk/dist, which a test checks. Unminified: readable without a source map.
  const common: BuildOptions = { bundle: true, absWorkingDir: REPO_DIR, logLevel: 'silent', legalComments: 'none' };
  const browser: BuildOptions = { ...common, entryPoints: [join(SDK_DIR, 'src/index.ts')], platform: 'browser', target: 'es2022' };
  await Promise.all([
    build({ ...browser, format: 'esm', outfile: out.esm }),
    build({ ...browser, format: 'iife', globalName: 'Callhook', outfile: out.iife }),
    build({ ...common, entryPoints: [join(SDK_DIR, 'src/node/index.ts')], platform: 'node', target: 'node20', format: 'esm', outfile: out.node }),
  ]);
  if (options.types !== false) await emitTypes(outDir);
  return out;
}

async function emitTypes(outDir: string): Promise<void> {
  const tsc = (project: string, dir: string) =>
    promisify(execFile)(process.execPath, [TSC, '-p', join(SDK_DIR, project), '--outDir', join(outDir, dir)], { timeout: TSC_TIMEOUT_MS }).catch(
      (err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`tsc -p sdk/${project} failed:\n${err.stdout || err.stderr || err.message}`, { cause: err });
      },
    );
  await Promise.all([tsc('tsconfig.json', 'types'), tsc('tsconfig.node.json', 'types-node')]);
  // Entry declarations next to the bundles, where the package's "exports" point.
  await writeFile(join(outDir, 'callhook.d.mts'), "export * from './types/sdk/src/index.js';\n");
  await writeFile(join(outDir, 'node.d.mts'), "export * from './types-node/sdk/src/node/index.js';\n");
  await writeFile(
    join(outDir, 'callhook.global.d.ts'),
    [
      '// The global of the script-tag bundle (callhook.js): /// <reference types="@callhook/sdk/global" />',
      "import type * as CallhookSdk from './callhook.mjs';",
      'declare global {',
      '  const Callhook: typeof CallhookSdk;',
      '}',
      'export {};',
      '',
    ].join('\n'),
  );
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = argValue('--out');
  const result = await buildSdk({ ...(outDir !== undefined && { outDir }), types: !process.argv.includes('--no-types') });
  console.log(`SDK built in ${result.outDir}`);
}
