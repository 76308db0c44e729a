/**
 * Where a heap's growth went (issue 18): two V8 heap snapshots of the server (`--heapsnapshot-signal=SIGUSR2
 * --diagnostic-dir=<dir>` in BENCH_NODE_ARGS, signalled while idle), their self sizes summed by node type and
 * constructor, the second less the first, divided by `count` (the sessions, or calls, the second has more of).
 * Prints the total per unit, then the rows that changed most: bytes per unit, objects per unit, `type:constructor`
 * (strings and compiled code as one row each, whatever their text).
 *
 *   node --max-old-space-size=6000 --import tsx bench/heap-snapshot-diff.ts <base.heapsnapshot> <other.heapsnapshot> <count> [rows=40]
 *
 * (A snapshot of a server with thousands of sessions is some 70 MB of JSON: parsed whole, it needs the larger heap.)
 *
 * E.g. a server with one registered session against one with 2,000 (bench/sessions.ts with each, a snapshot taken
 * a few seconds into the idle window) gives what a registered session holds; two builds' snapshots at 2,000 each, with
 * the same `count`, what a change saved per session.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Types whose name is their contents or a detail (string texts, code): one row for all of each. */
const ANONYMOUS = new Set(['string', 'concatenated string', 'sliced string', 'code', 'number']);
/** Not on the V8 heap: the embedder's own estimates. */
const OUTSIDE = new Set(['synthetic', 'native']);

function sizesByConstructor(file: string): { rows: Map<string, { count: number; bytes: number }>; total: number } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [type, name, size] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const rows = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const t = types[snap.nodes[i + type]!]!;
    if (OUTSIDE.has(t)) continue;
    const key = `${t}:${ANONYMOUS.has(t) ? '' : snap.strings[snap.nodes[i + name]!]!.slice(0, 40)}`;
    const row = rows.get(key) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += snap.nodes[i + size]!;
    total += snap.nodes[i + size]!;
    rows.set(key, row);
  }
  return { rows, total };
}

const [baseFile, otherFile, countArg, rowsArg] = process.argv.slice(2);
if (baseFile === undefined || otherFile === undefined || countArg === undefined) {
  console.error('usage: heap-snapshot-diff.ts <base.heapsnapshot> <other.heapsnapshot> <count> [rows=40]');
  process.exit(2);
}
const count = Number(countArg);
const base = sizesByConstructor(baseFile);
const other = sizesByConstructor(otherFile);
console.log(`total: ${((other.total - base.total) / count).toFixed(0)} bytes per unit (${count} units)`);
const none = { count: 0, bytes: 0 };
const changes = [...new Set([...base.rows.keys(), ...other.rows.keys()])]
  .map((key) => {
    const [b, o] = [base.rows.get(key) ?? none, other.rows.get(key) ?? none];
    return { key, bytes: (o.bytes - b.bytes) / count, objects: (o.count - b.count) / count };
  })
  .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
  .slice(0, Number(rowsArg ?? 40));
for (const c of changes) console.log(`${c.bytes.toFixed(0).padStart(7)} ${c.objects.toFixed(2).padStart(7)}  ${c.key}`);
