/**
 * The last step of the server's build (`npm run build`, after tsc): rewrites each dist/ module without its comments
 * and with non-ASCII characters escaped. V8 keeps every loaded module's source text in the heap for as long as the
 * module lives (it compiles functions lazily, from that text), and a text with one character beyond Latin-1 (an
 * arrow, a dash, `≤` in a comment) is kept at two bytes a character. The ~230 modules `callhook start` loads held
 * 1.8 MiB of source that way; compacted, the started server's heap is about 0.8 MiB smaller (docs/benchmarks.md,
 * "Idle RSS and RSS with calls up"). The declarations (.d.ts) keep their comments: they are the package's typed API.
 *
 * One module in, one module out, at the same path: paths resolved against `import.meta.url` hold unchanged.
 *
 *   node --import tsx scripts/compact-dist.ts [DIR]    DIR defaults to dist
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transform } from 'esbuild';

async function modules(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => join(e.parentPath, e.name));
}

const dir = process.argv[2] ?? 'dist';
let before = 0;
let after = 0;
for (const file of await modules(dir)) {
  const source = await readFile(file, 'utf8');
  // esbuild drops comments other than legal ones; `legalComments: 'none'` drops those too. No minification: stack
  // traces keep the names of the sources.
  const { code } = await transform(source, { format: 'esm', target: 'es2022', legalComments: 'none', charset: 'ascii' });
  await writeFile(file, code);
  before += source.length;
  after += code.length;
}
// On stderr: `npm pack --json` runs the build through `prepare`, and its stdout must stay JSON.
process.stderr.write(`dist compacted: ${before} → ${after} characters\n`);
