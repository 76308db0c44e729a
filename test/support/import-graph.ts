/**
 * The import graph of the TypeScript sources, read from their text: which file imports which (relative specifiers
 * only; packages and node: builtins are left out). Type-only imports count: a cycle through types is still two
 * modules that cannot be understood one without the other. For the import-cycle and layer tests.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** File → the files it imports, both as paths relative to the repository root (`src/sip/ua/inviter.ts`). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export const REPO_ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/** `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`, once comments are gone. */
const SPECIFIERS = [
  /\b(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every .ts file under `dir` (relative to the repository root) and what each imports. */
export function importGraph(dir: string): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(join(REPO_ROOT, dir))) {
    const text = withoutComments(readFileSync(file, 'utf8'));
    const imports = new Set<string>();
    for (const pattern of SPECIFIERS) {
      for (const match of text.matchAll(pattern)) {
        const target = resolveSpecifier(file, match[1]!);
        if (target !== undefined) imports.add(relative(REPO_ROOT, target));
      }
    }
    graph.set(relative(REPO_ROOT, file), [...imports].sort());
  }
  return graph;
}

/**
 * The import cycles among the graph's own files (imports of files outside it are ignored), each as the files along
 * it with the first repeated at the end: `a.ts → b.ts → a.ts`; one for each back edge of a depth-first walk.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Block comments and whole-line `//` comments, whose examples and file names are no imports. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}
