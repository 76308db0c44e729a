/**
 * docs/errors.md against the code: every member of every error-code union in src/ and the SDK (`export type
 * <Name>ErrorCode = …`) has a row in the catalogue, under the heading of its own class, and the catalogue lists no
 * code the sources do not have. The unions are read from the source text, so a code added without a row fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Each `export type XErrorCode = 'A' | 'B';` of the sources: union name → its string members. */
function codeUnions(): Map<string, string[]> {
  const unions = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), join(root, 'sdk/src/errors.ts')]) {
    // doc comments inside a union may hold semicolons and quotes: drop them first
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of text.matchAll(/export type (\w+)ErrorCode =([^;]*);/g)) {
      unions.set(m[1]!, [...m[2]!.matchAll(/'([A-Z0-9_]+)'/g)].map((c) => c[1]!));
    }
  }
  return unions;
}

/** The codes in the first column of the catalogue's tables, per `## ` section. */
function catalogue(): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  for (const section of doc.split(/\n(?=## )/).slice(1)) {
    const heading = section.slice(0, section.indexOf('\n'));
    const codes = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((c) => c[1]!);
    if (codes.length > 0) sections.set(heading, codes);
  }
  return sections;
}

/** The catalogue section whose heading names the union's class (`SipErrorCode` → "— `SipError`"). */
function sectionOf(union: string, sections: Map<string, string[]>): string[] | undefined {
  const className = union === 'Json' ? 'JsonDepthError' : union === 'Callhook' ? 'CallhookError' : `${union}Error`;
  for (const [heading, codes] of sections) if (heading.includes(`\`${className}\``)) return codes;
  return undefined;
}

/** Layers whose codes carry their prefix; the others predate the rule (docs/errors.md "The prefix rule"). */
const PREFIXES: Record<string, string> = { Sip: 'SIP_', Media: 'MEDIA_', Admin: 'ADMIN_', Cli: 'CLI_', Config: 'CONFIG_', Json: 'JSON_' };

describe('docs/errors.md', () => {
  const unions = codeUnions();
  const sections = catalogue();

  it('finds the code unions of every layer', () => {
    for (const name of ['Sip', 'Media', 'Gateway', 'Hook', 'Store', 'Frame', 'Admin', 'Cli', 'Config', 'Json', 'Callhook']) {
      assert.ok((unions.get(name)?.length ?? 0) > 0, `no ${name}ErrorCode union with codes in the sources`);
    }
  });

  it('lists every code of every union under its class, and no code the sources lack', () => {
    for (const [union, codes] of unions) {
      const listed = sectionOf(union, sections);
      assert.ok(listed !== undefined, `docs/errors.md has no section for ${union}ErrorCode`);
      assert.deepEqual([...listed].sort(), [...codes].sort(), `docs/errors.md's table for ${union}ErrorCode`);
    }
    const all = new Set([...unions.values()].flat());
    for (const codes of sections.values()) for (const code of codes) assert.ok(all.has(code), `${code} is in docs/errors.md only`);
  });

  it('every code of a prefixed layer carries its prefix', () => {
    for (const [union, prefix] of Object.entries(PREFIXES)) {
      for (const code of unions.get(union) ?? []) assert.ok(code.startsWith(prefix), `${union}ErrorCode ${code} lacks ${prefix}`);
    }
  });
});
