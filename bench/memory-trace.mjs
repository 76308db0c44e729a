/**
 * Where a server's memory is, every 2 s, for the benches that start one (issue 18, memory): preload it with
 * `BENCH_NODE_ARGS="--import <callhook>/bench/memory-trace.mjs"` and it appends one JSON line per sample to
 * `$MEMORY_TRACE_DIR/memory-<pid>.jsonl` (default: the temp dir): RSS split into anonymous and file-backed pages
 * (/proc/self/status; the `node` binary's pages are most of the file-backed), V8's heap (total and used, and per
 * space: [size, used] in KiB), external memory and ArrayBuffers, in MiB. Anonymous RSS less V8's heap is what
 * malloc holds: OpenSSL, libuv, Buffers' contents.
 *
 * Plain JavaScript so that it loads before anything else, tsx included.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';

const file = join(process.env.MEMORY_TRACE_DIR ?? tmpdir(), `memory-${process.pid}.jsonl`);
const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

function rssParts() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssAnon: mib(kib('RssAnon') * 1024), rssFile: mib(kib('RssFile') * 1024) };
}

setInterval(() => {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, [Math.round(s.space_size / 1024), Math.round(s.space_used_size / 1024)]]),
  );
  const sample = {
    time: new Date().toISOString(), rss: mib(m.rss), ...rssParts(), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed),
    external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), spaces,
  };
  appendFileSync(file, JSON.stringify(sample) + '\n');
}, 2000).unref();
