/**
 * Builds the admin console (console/src/) into console/dist/console.js, one minified ES module that the admin port
 * serves at /console/console.js (docs/console.md). No framework: the console is a few tables and forms and one SVG,
 * so the bundle stays small (the size is printed on stderr; docs/console.md records it).
 *
 * Run: `node --import tsx console/build.ts` (part of `npm run build`). Tests call `buildConsole()` directly.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const CONSOLE_DIR = fileURLToPath(new URL('.', import.meta.url));
export const CONSOLE_BUNDLE = join(CONSOLE_DIR, 'dist', 'console.js');

export async function buildConsole(): Promise<{ file: string; bytes: number }> {
  await mkdir(join(CONSOLE_DIR, 'dist'), { recursive: true });
  await build({
    entryPoints: [join(CONSOLE_DIR, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    outfile: CONSOLE_BUNDLE,
  });
  return { file: CONSOLE_BUNDLE, bytes: (await stat(CONSOLE_BUNDLE)).size };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { file, bytes } = await buildConsole();
  // On stderr: `npm pack --json` runs this through `prepare`, and its stdout must stay JSON.
  process.stderr.write(`console built: ${file} (${bytes} bytes)\n`);
}
