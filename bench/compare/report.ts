/**
 * What the comparison kit makes of its measurements (bench/compare/run.ts): the side-by-side Markdown table (each
 * cell the range over the rounds, the last column callhook's figure over Janus's within each round, as a range) and an SVG chart
 * of server CPU against concurrent calls, drawn by hand. Run on its own, it rebuilds both from a run's JSON lines:
 *
 *   node --import tsx bench/compare/report.ts DIR      (reads DIR/results.jsonl, writes DIR/table.md and DIR/cpu-chart.svg)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerName } from './servers.ts';

export interface Measurement {
  round: number;
  order: string;
  server: ServerName;
  version: string;
  measure: string;
  load: number[];
  at: string;
  [field: string]: number | string | number[];
}

const NAMES: Record<ServerName, string> = { janus: 'Janus', callhook: 'callhook' };
const COLOURS: Record<ServerName, string> = { janus: '#d9480f', callhook: '#1c7ed6' };

function field(m: Measurement, name: string): number {
  return Number(m[name]);
}

/** The measurements of `server` that `match` accepts, one per round, in round order. */
function select(ms: Measurement[], server: ServerName, match: (m: Measurement) => boolean): Measurement[] {
  return ms.filter((m) => m.server === server && match(m)).sort((a, b) => a.round - b.round);
}

/** "a–b" over the values (one value when they agree at this precision). */
function range(xs: number[], digits: number): string {
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) return 'n/a';
  const [lo, hi] = [Math.min(...xs).toFixed(digits), Math.max(...xs).toFixed(digits)];
  return lo === hi ? lo : `${lo}–${hi}`;
}

/** f(janus, callhook) for each round both servers measured. */
function ratios(j: Measurement[], c: Measurement[], f: (janus: Measurement, callhook: Measurement) => number): number[] {
  return j.flatMap((jm) => {
    const cm = c.find((x) => x.round === jm.round);
    return cm ? [f(jm, cm)] : [];
  });
}

/** Server CPU time per packet that made the round trip (browser → server → sipp → server → browser), µs. */
function cpuPerPacketUs(m: Measurement): number {
  return ((field(m, 'cpuPercent') / 100) * field(m, 'windowSeconds') * 1e6) / field(m, 'echoed');
}

function failures(ms: Measurement[]): string {
  const n = ms.reduce((sum, m) => sum + field(m, 'failed'), 0);
  return n > 0 ? `, ${n} failed` : '';
}

/** ", after N warm-up registrations" when the server had them (absent from runs before 2026-12-07). */
function warmedUp(ms: Measurement[]): string {
  const n = Math.max(0, ...ms.map((m) => Number(m['warmUp'] ?? 0)));
  return n > 0 ? `, after ${n} warm-up registrations` : '';
}

/**
 * CPU per registration of the server, the load client and the registrar, which share the cores (absent from runs
 * before 2026-12-07, which did not read it).
 */
function registrationCpu(ms: Measurement[]): string {
  if (ms.length === 0 || ms.some((m) => m['serverCpuMsPerRegistration'] === undefined)) return '';
  const perRegistration = (name: string) => `${range(ms.map((m) => field(m, name)), 2)} ms`;
  const busiest = [...new Set(ms.map((m) => m['busiest']))].join(' or ');
  return `; CPU per registration: server ${perRegistration('serverCpuMsPerRegistration')}, load client ${perRegistration('loadClientCpuMsPerRegistration')}, ` +
    `Kamailio ${perRegistration('registrarCpuMsPerRegistration')} (most: ${busiest})`;
}

export function sideBySideTable(ms: Measurement[]): string {
  const version = (s: ServerName) => {
    const m = ms.find((x) => x.server === s);
    return m === undefined ? '' : `${m.version}${m['media'] !== undefined ? ` (${String(m['media'])})` : ''}`;
  };
  const rows: string[][] = [];
  const keys = (measure: string, a: string, b?: string) =>
    [...new Set(ms.filter((m) => m.measure === measure).map((m) => `${field(m, a)}${b ? `/${field(m, b)}` : ''}`))];

  for (const key of keys('registrations', 'count', 'concurrency')) {
    const match = (m: Measurement) => m.measure === 'registrations' && `${field(m, 'count')}/${field(m, 'concurrency')}` === key;
    const [j, c] = [select(ms, 'janus', match), select(ms, 'callhook', match)];
    const [count, concurrency] = key.split('/');
    const cell = (xs: Measurement[]) =>
      `${range(xs.map((m) => field(m, 'seconds')), 1)} s, ${range(xs.map((m) => field(m, 'rssPerSessionKiB')), 0)} KB RSS per session, ` +
      `${range(xs.map((m) => field(m, 'threads')), 0)} threads${warmedUp(xs)}${registrationCpu(xs)}${failures(xs)}`;
    rows.push([
      `${count} registrations, ${concurrency} at a time`, cell(j), cell(c),
      `${range(ratios(j, c, (a, b) => field(a, 'seconds') / field(b, 'seconds')), 1)}× Janus's rate, ` +
        `${range(ratios(j, c, (a, b) => field(b, 'rssPerSessionKiB') / field(a, 'rssPerSessionKiB')), 2)}× its memory per session`,
    ]);
  }

  const steps = keys('calls', 'calls').map(Number);
  for (const step of steps) {
    const match = (m: Measurement) => m.measure === 'calls' && field(m, 'calls') === step;
    const [j, c] = [select(ms, 'janus', match), select(ms, 'callhook', match)];
    // What the load client really sent: below 50 pps per call it was the bottleneck, and the CPU is for that rate;
    // the CPU per echoed packet (which crossed the server both ways) compares the servers whatever the rate.
    const cell = (xs: Measurement[]) =>
      `${range(xs.map((m) => field(m, 'cpuPercent')), 1)} % of a core, ${range(xs.map(cpuPerPacketUs), 0)} µs per echoed packet, ` +
      `loss ${range(xs.map((m) => field(m, 'loss') * 100), 2)} %, ${range(xs.map((m) => field(m, 'sent') / field(m, 'calls') / field(m, 'windowSeconds')), 0)} pps per call sent${failures(xs)}`;
    const seconds = Math.round(field(j[0] ?? c[0]!, 'windowSeconds'));
    rows.push([
      `${step} echo calls, ${seconds} s at 50 pps`, cell(j), cell(c),
      `${range(ratios(j, c, (a, b) => field(b, 'cpuPercent') / field(a, 'cpuPercent')), 2)}× Janus's CPU, ` +
        `${range(ratios(j, c, (a, b) => cpuPerPacketUs(b) / cpuPerPacketUs(a)), 2)}× its CPU per packet`,
    ]);
  }

  if (steps.length > 0) {
    const idle = (s: ServerName) => select(ms, s, (m) => m.measure === 'idle');
    const atStep = (s: ServerName, step: number) => select(ms, s, (m) => m.measure === 'calls' && field(m, 'calls') === step);
    const cell = (s: ServerName) =>
      [idle(s), ...steps.map((step) => atStep(s, step))].map((xs) => range(xs.map((m) => field(m, 'rssMiB')), 0)).join(' / ') + ' MB';
    const last = steps.at(-1)!;
    rows.push([
      `RSS idle / with ${steps.join(' / ')} calls up`, cell('janus'), cell('callhook'),
      `${range(ratios(atStep('janus', last), atStep('callhook', last), (a, b) => field(b, 'rssMiB') / field(a, 'rssMiB')), 1)}× Janus's RSS with ${last} calls`,
    ]);
  }

  for (const key of keys('setup', 'calls', 'concurrency')) {
    const match = (m: Measurement) => m.measure === 'setup' && `${field(m, 'calls')}/${field(m, 'concurrency')}` === key;
    const [j, c] = [select(ms, 'janus', match), select(ms, 'callhook', match)];
    const [count, concurrency] = key.split('/');
    const f = (xs: Measurement[], name: string, digits = 0) => range(xs.map((m) => field(m, name)), digits);
    // Only callhook has hooks (JSON writes Janus's NaN as null).
    const callHook = (xs: Measurement[]) =>
      xs.every((m) => typeof m['callHookP99Ms'] === 'number' && Number.isFinite(m['callHookP99Ms'])) ? ` (\`call\` hook p99 ${f(xs, 'callHookP99Ms')} ms)` : '';
    // Each figure with what limited it (bench/compare/setup.ts): the rate alone says little when the load client
    // or the machine set it.
    const cell = (xs: Measurement[]) =>
      `${f(xs, 'seconds', 1)} s (${f(xs, 'perSecond', 1)}/s) by ${f(xs, 'processes')} load clients; ` +
      `\`call\` → answered p50 ${f(xs, 'setupP50Ms')} ms, p99 ${f(xs, 'setupP99Ms')} ms, of which sipp's INVITE → 200 p99 ${f(xs, 'sippP99Ms', 1)} ms; ` +
      `server's own p99 ${f(xs, 'ownP99Ms')} ms${callHook(xs)}; DTLS up p99 ${f(xs, 'dtlsP99Ms')} ms later; ` +
      `server CPU ${f(xs, 'serverCpuPercent')} % (${f(xs, 'serverCpuMsPerCall', 1)} ms per call), load clients ${f(xs, 'clientCpuPercent')} %, ` +
      `machine ${f(xs, 'machineCpuPercent')} %; limited by ${[...new Set(xs.map((m) => String(m['limitedBy'])))].join(' / ')}${failures(xs)}`;
    rows.push([
      `${count} calls set up, ${concurrency} at a time`, cell(j), cell(c),
      `${range(ratios(j, c, (a, b) => field(a, 'seconds') / field(b, 'seconds')), 1)}× Janus's rate, ` +
        `${range(ratios(j, c, (a, b) => field(b, 'serverCpuMsPerCall') / field(a, 'serverCpuMsPerCall')), 2)}× its CPU per call`,
    ]);
  }

  // The load clients' browsers (the same for both servers), per measurement that places calls; absent from runs
  // before 2026-12-07 07:20 UTC, all werift.
  const browsers = ['calls', 'setup'].flatMap((measure) => {
    const names = [...new Set(ms.filter((m) => m.measure === measure && m['browser'] !== undefined).map((m) => String(m['browser'])))];
    return names.length > 0 ? [`${names.join(' / ')} (${measure})`] : [];
  });
  const header = [`measure${browsers.length > 0 ? ` (load clients' browsers: ${browsers.join(', ')})` : ''}`, `${NAMES.janus} ${version('janus')}`, `${NAMES.callhook} ${version('callhook')}`, 'callhook vs Janus'];
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}

/** Server CPU (% of one core) against concurrent calls: one line per server and round (round 2 dashed). */
export function cpuChart(ms: Measurement[]): string {
  const W = 640;
  const H = 400;
  const left = 60;
  const right = 150;
  const top = 50;
  const bottom = 50;
  const points = ms.filter((m) => m.measure === 'calls');
  const maxCalls = Math.max(1, ...points.map((m) => field(m, 'calls')));
  const maxCpu = Math.max(10, Math.ceil(Math.max(...points.map((m) => field(m, 'cpuPercent'))) / 10) * 10);
  const x = (calls: number) => left + (calls / maxCalls) * (W - left - right);
  const y = (cpu: number) => H - bottom - (cpu / maxCpu) * (H - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="14">Server CPU (% of one core) against concurrent echo calls</text>`,
    `<text x="${left}" y="33" fill="#555">1-minute load average of the machine during the windows: ${range(points.map((m) => m.load[0]!), 1)}</text>`,
    `<line x1="${left}" y1="${y(0)}" x2="${W - right}" y2="${y(0)}" stroke="black"/>`,
    `<line x1="${left}" y1="${y(0)}" x2="${left}" y2="${top}" stroke="black"/>`,
    `<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle">concurrent calls</text>`,
  ];
  for (let cpu = 0; cpu <= maxCpu; cpu += maxCpu / 5) {
    parts.push(`<line x1="${left - 4}" y1="${y(cpu)}" x2="${W - right}" y2="${y(cpu)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${y(cpu) + 4}" text-anchor="end">${cpu.toFixed(0)} %</text>`);
  }
  for (const calls of [0, ...new Set(points.map((m) => field(m, 'calls')))]) {
    parts.push(`<text x="${x(calls)}" y="${y(0) + 18}" text-anchor="middle">${calls}</text>`);
  }
  let legend = 0;
  for (const server of ['janus', 'callhook'] as const) {
    for (const round of [...new Set(points.filter((m) => m.server === server).map((m) => m.round))].sort()) {
      const line = select(points, server, (m) => m.round === round).sort((a, b) => field(a, 'calls') - field(b, 'calls'));
      const coords = line.map((m) => `${x(field(m, 'calls')).toFixed(1)},${y(field(m, 'cpuPercent')).toFixed(1)}`);
      const dash = round > 1 ? ' stroke-dasharray="6 4"' : '';
      parts.push(`<polyline fill="none" stroke="${COLOURS[server]}" stroke-width="2"${dash} points="${coords.join(' ')}"/>`);
      for (const c of coords) {
        const [cx, cy] = c.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${COLOURS[server]}"/>`);
      }
      const ly = top + 10 + legend++ * 20;
      parts.push(`<line x1="${W - right + 15}" y1="${ly}" x2="${W - right + 40}" y2="${ly}" stroke="${COLOURS[server]}" stroke-width="2"${dash}/>`);
      parts.push(`<text x="${W - right + 45}" y="${ly + 4}">${NAMES[server]}, round ${round}</text>`);
    }
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Writes table.md and cpu-chart.svg into `dir` from `measurements`; returns the table. */
export function writeReport(dir: string, measurements: Measurement[]): string {
  const table = sideBySideTable(measurements);
  writeFileSync(join(dir, 'table.md'), table);
  writeFileSync(join(dir, 'cpu-chart.svg'), cpuChart(measurements));
  return table;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? '.';
  const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Measurement);
  console.log(writeReport(dir, lines.filter((m) => m.server !== undefined)));
}
