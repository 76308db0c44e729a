/**
 * scripts/compact-dist.ts, the build's last step over dist/: each module loses its comments and keeps only ASCII
 * (V8 holds a loaded module's source in the heap, at two bytes a character once one character is beyond Latin-1),
 * and still runs as before, paths against import.meta.url included.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';

const SCRIPT = new URL('../../scripts/compact-dist.ts', import.meta.url).pathname;

describe('compact-dist', () => {
  it('drops comments and escapes non-ASCII characters; the modules behave the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compact-dist-'));
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'leaf.js'), [
        '/** The arrow → and ≤ live in this doc comment. */',
        'export const arrow = "a → b"; // and here',
        'export const here = new URL(".", import.meta.url).pathname;',
      ].join('\n'));
      writeFileSync(join(dir, 'main.js'), [
        '/*! a legal comment */',
        'import { arrow, here } from "./sub/leaf.js";',
        '/* a block comment */',
        'export const both = `${arrow} ≤ c`;',
        'export { here };',
      ].join('\n'));
      execFileSync(process.execPath, ['--import', 'tsx', SCRIPT, dir], { stdio: 'pipe' });
      for (const file of [join(dir, 'main.js'), join(dir, 'sub', 'leaf.js')]) {
        const text = readFileSync(file, 'utf8');
        assert.doesNotMatch(text, /\/\*|\/\//, `${file} still has a comment:\n${text}`);
        assert.match(text, /^[\x00-\x7f]*$/, `${file} still has a character beyond ASCII:\n${text}`);
      }
      const m = await import(pathToFileURL(join(dir, 'main.js')).href) as { both: string; here: string };
      assert.equal(m.both, 'a → b ≤ c');
      assert.equal(m.here, `${join(dir, 'sub')}/`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
