#!/usr/bin/env node
// Runs the test files in lanes, the lanes side by side. A lane is named after the heavy peer its files start
// (Chromium, Asterisk, PostgreSQL, a cluster of nodes) or the heavy tool it runs (npm pack, the capacity kit); every
// other file is in the `main` lane. Files of one lane run one after another, because two Chromiums or two clusters
// on a 2-core machine slow each other into timeouts; lanes share no ports (every test binds free ports), so they can overlap. A file chooses its lane by the harness it
// imports, so a new test needs no list to be kept up to date.
//
//   node scripts/run-tests.mjs [--lanes=N] [file ...]     (default: every test/**/*.test.ts, N = 2)
//
// Each lane's TAP output is streamed with its lane's name in front; a summary per lane and in all closes the run,
// and the exit code is non-zero when any lane failed. The failed tests are listed again last, with their diagnostics.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Lane by the test/support harness a file imports; the first match wins. */
const LANES = [
  ['cluster', /support\/cluster\.ts/],
  ['asterisk', /support\/asterisk/],
  ['postgres', /support\/postgres\.ts/],
  ['browser', /support\/(browser|webphone|sdk-page)/],
  // Not a peer but as heavy: packing and installing the package, and the capacity kit's smoke run (its own servers,
  // Janus, Kamailio, sipp), kept out of the main lane, which is the longest.
  ['package', /run\('npm', \['pack'|bench\/compare\/run\.ts/],
];

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function laneOf(file) {
  const source = readFileSync(file, 'utf8');
  return LANES.find(([, pattern]) => pattern.test(source))?.[0] ?? 'main';
}

const args = process.argv.slice(2);
const parallel = Number(args.find((a) => a.startsWith('--lanes='))?.slice('--lanes='.length) ?? 2);
const named = args.filter((a) => !a.startsWith('--'));
const files = (named.length > 0 ? named : testFiles('test')).sort();

const lanes = new Map();
for (const file of files) {
  const lane = laneOf(file);
  lanes.set(lane, [...(lanes.get(lane) ?? []), file]);
}

const running = new Set();
// A stopped run stops its lanes too, rather than leaving them to run on unseen.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) child.kill(signal);
    process.exit(1);
  });
}

/** Runs one lane; resolves with its TAP totals and exit code. */
function runLane(name, laneFiles) {
  const started = Date.now();
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', ...laneFiles,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const totals = {};
  const prefix = `[${name}] `;
  const failures = [];
  let failure; // the "not ok" whose diagnostic block is being read
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(prefix + line + '\n');
      const total = /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
      if (total) totals[total[1]] = Number(total[2]);
      if (/^\s*not ok \d+ - /.test(line)) failures.push(failure = [line.trim()]);
      else if (failure && /^\s*\.\.\.$/.test(line)) failure = undefined;
      else if (failure) failure.push(line);
    });
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({
        name, files: laneFiles.length, code: code ?? signal, totals, failures,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

// Longest lanes first, so the last to start is a short one.
const queue = [...lanes].sort((a, b) => b[1].length - a[1].length);
const results = [];
async function worker() {
  for (let next = queue.shift(); next; next = queue.shift()) results.push(await runLane(next[0], next[1]));
}
const started = Date.now();
await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));

console.log('\n# lanes');
for (const r of results) {
  const t = r.totals;
  console.log(`# ${r.name}: ${r.files} files, ${t.tests ?? '?'} tests, ${t.pass ?? '?'} pass, ${t.fail ?? '?'} fail, ` +
    `${t.cancelled ?? 0} cancelled, ${r.seconds.toFixed(0)} s, exit ${r.code}`);
}
const sum = (key) => results.reduce((n, r) => n + (r.totals[key] ?? 0), 0);
console.log(`# all: ${sum('tests')} tests, ${sum('pass')} pass, ${sum('fail')} fail, ${sum('cancelled')} cancelled, ` +
  `${((Date.now() - started) / 1000).toFixed(0)} s`);
// The failed tests again at the end, each with its diagnostic, so a long log's tail says what failed. A suite
// that failed only because a subtest did is left out: the subtest is listed.
for (const r of results) {
  for (const [title, ...diagnostic] of r.failures) {
    if (diagnostic.some((line) => /failureType: 'subtestsFailed'/.test(line))) continue;
    console.log(`# failed in ${r.name}: ${title}`);
    for (const line of diagnostic.slice(0, 30)) console.log(`#   ${line}`);
  }
}
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
