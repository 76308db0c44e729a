/**
 * The repository stands alone: someone who clones it has docs/ and the RFCs, nothing else. No tracked file may name
 * material outside it — the specification and research notes the project was started from, which live in a folder
 * next to the repository (the patterns below name them) — and docs/configuration.md lists every setting the schema
 * accepts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';

const ROOT = new URL('../../', import.meta.url);
const THIS_FILE = 'test/unit/docs-self-contained.test.ts';

/**
 * Names of outside material. docs/client-protocol.md, docs/webphone.md and docs/admin.md are the project's own, so
 * those names are fine; `config.md` is not (the project's page is docs/configuration.md).
 */
const OUTSIDE = [
  { name: 'a path out of the repository into shared/', pattern: /\.\.\/shared\b|\bshared\/(spec|reference)\b/ },
  { name: 'the spec\'s hooks page (docs/hooks.md is the project\'s)', pattern: /\brest-hooks\.md\b/ },
  { name: 'wcs-notes (write what it says into docs/)', pattern: /\bwcs-notes\b/ },
  { name: 'config.md (docs/configuration.md is the project\'s)', pattern: /(?<![\w-])config\.md\b/ },
];

function trackedTextFiles(): string[] {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return files.filter((f) => f !== THIS_FILE && !/\.(png|jpe?g|gif|ico|wav|pcap|woff2?)$/i.test(f));
}

describe('the repository stands alone', () => {
  it('no tracked file names material outside the repository', () => {
    const found: string[] = [];
    for (const file of trackedTextFiles()) {
      let text: string;
      try {
        text = readFileSync(new URL(file, ROOT), 'utf8');
      } catch {
        continue; // listed but absent in this checkout (a deleted, uncommitted file)
      }
      text.split('\n').forEach((line, i) => {
        for (const { name, pattern } of OUTSIDE) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${name}: ${line.trim().slice(0, 120)}`);
      });
    }
    assert.deepEqual(found, [], `cite docs/ or an RFC section instead:\n${found.join('\n')}`);
  });

  it('code names a page of docs/ by its path, so a reader knows it is the project\'s own', () => {
    const bare = /(?<![\w/.-])(client-protocol|admin|webphone|hooks|configuration|security|architecture|errors)\.md\b/;
    const found: string[] = [];
    for (const file of trackedTextFiles().filter((f) => /^(src|test|sdk\/src|examples|web|bench)\//.test(f))) {
      readFileSync(new URL(file, ROOT), 'utf8').split('\n').forEach((line, i) => {
        if (bare.test(line)) found.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    assert.deepEqual(found, [], `write docs/<page>.md:\n${found.join('\n')}`);
  });

  it('docs/configuration.md lists every setting of the schema', () => {
    const doc = readFileSync(new URL('docs/configuration.md', ROOT), 'utf8');
    const missing = Object.keys(configSchema.in.shape).filter((key) => !doc.includes(`\`${key}\``));
    assert.deepEqual(missing, [], `settings missing from docs/configuration.md: ${missing.join(', ')}`);
  });
});
