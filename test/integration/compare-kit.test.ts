/**
 * The comparison kit against Janus (bench/compare/, issue 18), in its smoke mode: Kamailio, sipp's echo, Janus's
 * SIP plugin and callhook in a private network namespace, 5 registrations, 2 echo calls (werift browsers) and 10 calls
 * set up 2 at a time (by two load-client processes, libdatachannel browsers) per server: each step with its default
 * browser, so both browsers of the kit place calls through both servers. A test of the kit itself — that it drives
 * both servers through the same steps and writes sane JSON lines, table and chart — not of any timing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const KIT = fileURLToPath(new URL('../../bench/compare/run.ts', import.meta.url));
/** Two server starts, a Kamailio and a sipp on 2 loaded cores. */
const KIT_TIMEOUT_MS = 240_000;

interface Line {
  server?: string;
  measure: string;
  version?: string;
  load: number[];
  [field: string]: unknown;
}

describe('comparison kit, smoke mode (bench/compare/run.ts --smoke)', () => {
  let out: string;
  let output: string;
  let lines: Line[];

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'callhook-compare-kit-test-'));
    const r = await run(process.execPath, ['--import', 'tsx', KIT, '--smoke', '--out', out], { timeout: KIT_TIMEOUT_MS, maxBuffer: 16 << 20 });
    output = r.stdout;
    lines = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Line);
  });

  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  const of = (server: string, measure: string) => lines.filter((l) => l.server === server && l.measure === measure);

  it('records the load average before the round, and with every measurement', () => {
    const load = lines.filter((l) => l.measure === 'load');
    assert.equal(load.length, 1);
    for (const l of lines) assert.equal(l.load.length, 3, JSON.stringify(l));
  });

  for (const server of ['janus', 'callhook']) {
    it(`${server}: every session registers with Kamailio, and RSS per session and threads are read from /proc`, () => {
      const [r] = of(server, 'registrations');
      assert.ok(r, `no registrations line for ${server}:\n${output}`);
      assert.equal(r['count'], 5);
      assert.equal(r['failed'], 0);
      assert.ok(Number(r['seconds']) > 0 && Number(r['perSecond']) > 0);
      assert.ok(Number(r['threads']) >= 1);
      assert.ok(Number.isFinite(r['rssPerSessionKiB']));
    });

    it(`${server}: registrations are measured with the CPU per registration of the server, the load client and Kamailio, callhook's after a warm-up`, () => {
      const [r] = of(server, 'registrations');
      assert.ok(r, `no registrations line for ${server}:\n${output}`);
      // Janus is compiled ahead of time: nothing to warm up.
      assert.equal(r['warmUp'], server === 'callhook' ? 1 : 0);
      // CPU time comes in clock ticks (10 ms): five registrations may read 0 for a process, never less, never NaN.
      for (const key of ['serverCpuMsPerRegistration', 'loadClientCpuMsPerRegistration', 'registrarCpuMsPerRegistration']) {
        assert.ok(Number(r[key]) >= 0, `${key}: ${String(r[key])}`);
      }
      assert.ok(['the server', 'the load client', 'the registrar'].includes(String(r['busiest'])), String(r['busiest']));
    });

    it(`${server}: echo calls come back through the server, with its CPU and RSS measured`, () => {
      const [idle] = of(server, 'idle');
      const [c] = of(server, 'calls');
      assert.ok(idle && c, `no idle or calls line for ${server}:\n${output}`);
      assert.ok(Number(idle['rssMiB']) > 1);
      assert.equal(c['calls'], 2);
      assert.equal(c['browser'], 'werift');
      assert.equal(c['failed'], 0);
      assert.ok(Number(c['sent']) > 0);
      // Sanity, not a figure: most of what was sent came back through the server and sipp's echo.
      assert.ok(Number(c['loss']) < 0.5, `loss ${String(c['loss'])}`);
      assert.ok(Number(c['cpuPercent']) > 0 && Number(c['cpuPercent']) <= 100 * cpus().length);
      assert.ok(Number(c['rssMiB']) >= Number(idle['rssMiB']) * 0.5);
    });

    it(`${server}: calls are set up by load clients in processes of their own, each call's steps timed and matched to sipp's INVITE and 200`, () => {
      const [s] = of(server, 'setup');
      assert.ok(s, `no setup line for ${server}`);
      assert.equal(s['failed'], 0);
      assert.equal(s['browser'], 'libdatachannel');
      assert.equal(s['processes'], 2);
      assert.ok(Number(s['perSecond']) > 0);
      assert.match(String(s['version']), /^\d+\.\d+\.\d+$/);
      // Every call's INVITE found in sipp's trace by its From user, so every step has a figure.
      assert.equal(s['matchedAtSipp'], 10);
      for (const step of ['session', 'toInvite', 'sipp', 'after200', 'own', 'setup']) {
        for (const p of ['P50Ms', 'P99Ms']) assert.ok(Number(s[`${step}${p}`]) >= 0, `${step}${p} ${String(s[`${step}${p}`])}`);
      }
      // Each call's DTLS came up (a browser that never connected would make this about −1.8 × 10¹² ms). It may come
      // up a moment before ESTABLISHED is seen: the answer SDP that starts it arrives first, and a busy load client
      // can run the DTLS callback before the WebSocket frame's.
      for (const p of ['P50Ms', 'P99Ms']) assert.ok(Number(s[`dtls${p}`]) > -50, `dtls${p} ${String(s[`dtls${p}`])}`);
      // The server's own time is the whole less sipp's answer time.
      assert.ok(Number(s['ownP99Ms']) <= Number(s['setupP99Ms']));
      assert.ok(Number(s['serverCpuPercent']) > 0 && Number(s['clientCpuPercent']) > 0 && Number(s['serverCpuMsPerCall']) > 0);
      assert.ok(Number(s['machineCpuPercent']) >= Number(s['serverCpuPercent']) * 0.5, JSON.stringify(s));
      assert.match(String(s['limitedBy']), /CPU|latency/);
      // Where the server's CPU went, per thread. /proc counts in 10 ms ticks: over 10 calls only callhook's main
      // thread (JavaScript, 3 ms and more per call) is sure to have one; Janus spreads its work over many threads.
      if (server === 'callhook') assert.match(String(s['serverCpuMsPerCallByThread']), /(^|, )main \d+\.\d\d/, JSON.stringify(s));
      else assert.match(String(s['serverCpuMsPerCallByThread']), /\d+\.\d\d/, JSON.stringify(s));
      // The warm-up call was set up and hung up before the measured ones.
      assert.equal(s['warmUp'], 1);
      // The `call` hook's round trips from callhook's hook log; Janus has no hooks.
      if (server === 'callhook') assert.ok(Number(s['callHookP99Ms']) > 0 && Number(s['callHookP99Ms']) <= Number(s['toInviteP99Ms']) + 1, JSON.stringify(s));
      else assert.equal(s['callHookP99Ms'], null);
    });
  }

  it('writes the side-by-side table with a row per measurement and a ratio for each', async () => {
    const table = await readFile(join(out, 'table.md'), 'utf8');
    const rows = table.trim().split('\n');
    // The kit runs callhook's browser legs on one UDP port by default, and says so, and which browsers placed the calls.
    assert.match(rows[0]!, /^\| measure \(load clients' browsers: werift \(calls\), libdatachannel \(setup\)\) \| Janus \d+\.\d+\.\d+ \| callhook \d+\.\d+\.\d+ \(callhook's own WebRTC engine \(native\), a socket per call\) \| callhook vs Janus \|$/);
    assert.deepEqual(rows.slice(2).map((r) => r.split(' | ')[0]), [
      '| 5 registrations, 5 at a time', '| 2 echo calls, 3 s at 50 pps', '| RSS idle / with 2 calls up', '| 10 calls set up, 2 at a time',
    ]);
    for (const r of rows.slice(2)) {
      assert.equal(r.split(' | ').length, 4, r);
      assert.doesNotMatch(r, /n\/a|NaN|Infinity/, r);
      assert.match(r.split(' | ')[3]!, /^\d+(\.\d+)?(–\d+(\.\d+)?)?× Janus.s /, r);
    }
  });

  it('draws CPU against concurrent calls as SVG, one line per server', async () => {
    const svg = await readFile(join(out, 'cpu-chart.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg.trim(), /<\/svg>$/);
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(lines.length, 2);
    for (const points of lines) assert.match(points, /^\d+(\.\d+)?,\d+(\.\d+)?$/);
    assert.match(svg, />Janus, round 1</);
    assert.match(svg, />callhook, round 1</);
  });
});
