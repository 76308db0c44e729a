/**
 * docs/hooks.md against the code's method table (src/hooks/methods.ts): under "## Methods" there is one
 * `### \`<method>\`` section per REST method, in the table's order, none more; each states the method's type as
 * the table has it, and shows an example request and response (two JSON blocks).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { methodType, REST_METHOD_NAMES } from '../../src/hooks/methods.ts';

const doc = readFileSync(new URL('../../docs/hooks.md', import.meta.url), 'utf8');

/** The "## Methods" chapter, split into its `### ` sections: [heading line, text]. */
function methodSections(): Array<[string, string]> {
  const start = doc.indexOf('\n## Methods\n');
  assert.ok(start >= 0, 'docs/hooks.md has no "## Methods" chapter');
  const rest = doc.slice(start + 1);
  const nextChapter = rest.slice(1).search(/\n## /);
  const chapter = nextChapter < 0 ? rest : rest.slice(0, nextChapter + 1);
  return chapter
    .split(/\n(?=### )/)
    .slice(1)
    .map((section) => {
      const newline = section.indexOf('\n');
      return [section.slice(0, newline), section.slice(newline + 1)];
    });
}

describe('docs/hooks.md', () => {
  it('has one section per REST method of src/hooks/methods.ts, in its order, and no other', () => {
    const names = methodSections().map(([heading]) => {
      const m = /^### `([A-Za-z]+)`$/.exec(heading);
      assert.ok(m, `a section heading that names no method: ${heading}`);
      return m[1];
    });
    assert.deepEqual(names, [...REST_METHOD_NAMES]);
  });

  it('states each method type as the table has it', () => {
    for (const [heading, text] of methodSections()) {
      const name = heading.slice(5, -1);
      const stated = /\*\*Type\*\*: `(\w+)`/.exec(text)?.[1];
      assert.equal(stated, methodType(name), `${name}: the section says type ${String(stated)}`);
    }
  });

  it('shows an example request and response (JSON) for each method', () => {
    for (const [heading, text] of methodSections()) {
      const blocks = [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
      assert.ok(blocks.length >= 2, `${heading}: ${blocks.length} JSON example(s), expected a request and a response`);
      for (const block of blocks) {
        // Examples are JSON apart from the "…" that shortens long values.
        assert.match(block.trim(), /^\{[\s\S]*\}$/, `${heading}: an example is not a JSON object: ${block}`);
      }
    }
  });
});
