/**
 * The layer order of docs/architecture.md "Layers", checked on the real sources: every import from one layer into
 * another must be one the table allows. Imports point down only; the three libraries (sip, media, hooks) are peers
 * that never import one another or the configuration. Type-only imports count: a type from a layer above is still
 * a dependency on it. A file in no layer fails too, so a new folder gets a place in the table (and the docs).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importGraph, type ImportGraph } from '../support/import-graph.ts';

type Layer =
  | 'base'
  | 'client-protocol'
  | 'sip'
  | 'media'
  | 'hooks'
  | 'config'
  | 'store'
  | 'gateway'
  | 'client-api'
  | 'admin'
  | 'cluster'
  | 'composition'
  | 'sdk';

/** Where each layer's files are: a folder (ending in `/`) or one file, relative to the repository root. */
const PLACES: ReadonlyArray<readonly [string, Layer]> = [
  // Base modules: small, self-contained, below every layer. clock.ts and errors.ts come with the clock and the
  // error-model refactors of issue 11.
  ['src/version.ts', 'base'],
  ['src/log.ts', 'base'],
  ['src/clock.ts', 'base'],
  ['src/errors.ts', 'base'],
  ['src/json/', 'base'],
  ['src/token-bucket.ts', 'base'],
  ['src/own-string.ts', 'base'],
  ['src/host-address.ts', 'base'],
  // Random hex tokens from one pool of the CSPRNG's bytes (issue 18): SIP's tokens and the gateway's auth tokens.
  ['src/random-hex.ts', 'base'],
  // The client protocol's words, shared with the browser SDK: imports nothing at all, so it is safe in a browser.
  ['src/client-protocol/', 'client-protocol'],
  ['src/sip/', 'sip'],
  ['src/media/', 'media'],
  ['src/hooks/', 'hooks'],
  ['src/config/', 'config'],
  ['src/store/', 'store'],
  ['src/gateway/', 'gateway'],
  ['src/client-api/', 'client-api'],
  ['src/admin/', 'admin'],
  ['src/cluster/', 'cluster'],
  ['src/server.ts', 'composition'],
  ['src/bin.ts', 'composition'],
  ['sdk/src/', 'sdk'],
];

const BELOW = ['base', 'client-protocol'] as const;

/** What each layer may import besides itself. */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  base: ['base'],
  'client-protocol': [],
  sip: ['base'],
  media: ['base'],
  hooks: ['base'],
  config: ['base'],
  // The store is an adapter plugged into the hook engine: it implements the engine's storage interfaces.
  store: ['hooks', 'base'],
  gateway: ['sip', 'media', 'hooks', 'store', 'config', ...BELOW],
  'client-api': ['gateway', 'config', ...BELOW],
  admin: ['gateway', 'hooks', 'store', 'config', ...BELOW],
  // Nodes sharing a store: takes a lost node over through the store and emits what it owed through the hook engine.
  cluster: ['gateway', 'hooks', 'store', ...BELOW],
  composition: ['admin', 'cluster', 'client-api', 'gateway', 'store', 'config', 'sip', 'media', 'hooks', ...BELOW],
  sdk: ['client-protocol'],
};

/** Single imports the layers allow although their layers do not, each with its reason. */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: string; why: string }> = [
  {
    from: 'src/admin/cli/main.ts',
    to: 'src/server.ts',
    why: 'the command line is an entry point like bin/: `callhook start` loads the composition root (lazily)',
  },
  {
    from: 'sdk/src/node/index.ts',
    to: 'src/hooks/signature.ts',
    why: "the SDK's Node entry re-exports the hook signature verifier: backends and server share one implementation",
  },
];

function layerOf(file: string): Layer | undefined {
  return PLACES.find(([place]) => (place.endsWith('/') ? file.startsWith(place) : file === place))?.[1];
}

/** Every import that crosses layers in a direction the table does not allow, as `file → target (from → to)`. */
function upwardImports(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      if (from !== undefined && to === from) continue;
      if (from !== undefined && to !== undefined && MAY_IMPORT[from].includes(to)) continue;
      if (EXCEPTIONS.some((e) => e.from === file && e.to === target)) continue;
      found.push(`${file} → ${target} (${from ?? 'no layer'} → ${to ?? 'no layer'})`);
    }
  }
  return found.sort();
}

function sources(): ImportGraph {
  return new Map([...importGraph('src'), ...importGraph('sdk/src')]);
}

describe('layers (docs/architecture.md "Layers")', () => {
  it('the check finds an import that points up, one between peer libraries and one out of every layer', () => {
    const graph = new Map([
      ['src/sip/transport/x.ts', ['src/config/schema.ts', 'src/log.ts', 'src/sip/errors.ts']],
      ['src/hooks/x.ts', ['src/media/x.ts']],
      ['src/gateway/x.ts', ['src/sip/x.ts', 'src/hooks/x.ts', 'test/support/x.ts']],
      ['src/admin/cli/main.ts', ['src/server.ts']],
    ]);
    assert.deepEqual(upwardImports(graph), [
      'src/gateway/x.ts → test/support/x.ts (gateway → no layer)',
      'src/hooks/x.ts → src/media/x.ts (hooks → media)',
      'src/sip/transport/x.ts → src/config/schema.ts (sip → config)',
    ]);
  });

  it('every source file of src/ and sdk/src/ belongs to a layer of the table', () => {
    const unplaced = [...sources().keys()].filter((file) => layerOf(file) === undefined);
    assert.deepEqual(unplaced, [], `files in no layer (add their place to the table and to docs/architecture.md):\n  ${unplaced.join('\n  ')}`);
  });

  it('every import between layers points down the table (or is one of its named exceptions)', () => {
    const offending = upwardImports(sources());
    assert.equal(offending.length, 0, `imports that point up the layer order:\n  ${offending.join('\n  ')}`);
  });

  it('each named exception is still an import of the sources, so none outlives its reason', () => {
    const graph = sources();
    const stale = EXCEPTIONS.filter((e) => !graph.get(e.from)?.includes(e.to)).map((e) => `${e.from} → ${e.to}`);
    assert.deepEqual(stale, []);
  });
});
