/**
 * Fairness under a flood (issue 10): 100 connections from one address (127.0.0.1) send `sendMessage` at 31/s each
 * (~3,100/s in all, each under its own wsMessagesPerSecond of 50), through the defaultApp + EchoApp hooks as a default
 * installation has them. Meanwhile a new client from another address (127.0.0.2) connects once a second: the time
 * from its WebSocket open to `getUserData` is what an unrelated page waits. callhook runs in a child process
 * (bench/server-process.ts) so its CPU is measured apart from the load, and the flood comes from another child (this
 * script again, with FLOOD_URL set) so the newcomer's clock is not held up by the flooders' own work.
 *
 *   node --import tsx bench/client-flood.ts [perIpLimit] [floodSeconds=20]
 *
 * perIpLimit sets wsMessagesPerSecondPerIp (default: callhook's default); a large one (1000000) shows the server
 * without the per-IP limit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { machine, percentile, loopbackServerSettings } from './hooks-common.ts';
import type { ServerStats } from './server-process.ts';

const perIpLimit = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
const floodSeconds = Number(process.argv[3] ?? 20);
const FLOODERS = 100;
const PER_CONNECTION_RATE = 31;
const WARM_UP_MS = 3_000;
const FLOOD_FROM = '127.0.0.1';
const NEWCOMER_FROM = '127.0.0.2';

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type?: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

async function stats(child: ChildProcess): Promise<ServerStats> {
  const reply = nextMessage<ServerStats>(child, 'stats');
  child.send('stats');
  return reply;
}

interface Tally {
  sent: number;
  answered: number;
  refused: number;
}

/** Opens a session from `localAddress`; resolves with the socket and the ms from open to getUserData. */
function session(url: string, localAddress: string): Promise<{ ws: WebSocket; connectMs: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    let opened = 0;
    ws.on('open', () => {
      opened = performance.now();
      ws.send(JSON.stringify({ message: 'connection', data: [{ appKey: 'defaultApp' }] }));
    });
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { message: string; data: Array<{ info?: string }> };
      if (frame.message === 'ping') ws.send('{"message":"pong","data":[null]}');
      else if (frame.message === 'getUserData') resolve({ ws, connectMs: performance.now() - opened });
      else if (frame.message === 'fail') reject(new Error(frame.data[0]?.info)); // after getUserData: no effect
    });
    ws.on('error', reject);
  });
}

/** The flooding child: opens the flooders, then sends their share every tick and reports its tally on request. */
async function runFlood(url: string): Promise<void> {
  const sockets = (await Promise.all(Array.from({ length: FLOODERS }, () => session(url, FLOOD_FROM)))).map((s) => s.ws);
  const tally: Tally = { sent: 0, answered: 0, refused: 0 };
  for (const ws of sockets) {
    ws.on('message', (data) => {
      const m = (JSON.parse(data.toString()) as { message: string }).message;
      if (m === 'notifyMessage') tally.answered++;
      else if (m === 'fail') tally.refused++;
    });
  }
  // One timer for all: each tick, every flooder sends its share of PER_CONNECTION_RATE a second.
  const TICK_MS = 100;
  let owed = 0;
  const timer = setInterval(() => {
    owed += (PER_CONNECTION_RATE * TICK_MS) / 1000;
    const n = Math.floor(owed);
    owed -= n;
    for (const ws of sockets) {
      for (let k = 0; k < n; k++) ws.send(JSON.stringify({ message: 'sendMessage', data: [{ id: `f${tally.sent++}`, to: 'bob', body: 'flood' }] }));
    }
  }, TICK_MS);
  process.on('message', (m: string) => {
    if (m === 'tally') process.send!({ type: 'tally', ...tally });
    if (m === 'stop') {
      clearInterval(timer);
      for (const ws of sockets) ws.terminate();
      process.disconnect();
    }
  });
  process.send!({ type: 'flooding' });
}

const floodUrl = process.env['FLOOD_URL'];
if (floodUrl !== undefined) await runFlood(floodUrl);
else await main();

async function main(): Promise<void> {
  console.log(`machine: ${machine()}, node ${process.version}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-bench-flood-'));
  const overrides = {
    ...(await loopbackServerSettings(dataDir)),
    ...(perIpLimit !== undefined && { wsMessagesPerSecondPerIp: perIpLimit }),
  };
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [JSON.stringify(overrides)], {
    execArgv: ['--import', 'tsx'],
  });
  let flooder: ChildProcess | undefined;
  try {
    const { wsPort } = await nextMessage<{ wsPort: number }>(child, 'ready');
    const url = `ws://127.0.0.1:${wsPort}/`;
    const quiet = [];
    for (let i = 0; i < 5; i++) quiet.push(await newcomer(url));
    const f = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, FLOOD_URL: url } });
    flooder = f;
    await nextMessage(f, 'flooding');
    const tally = (): Promise<Tally> => {
      const reply = nextMessage<Tally>(f, 'tally');
      f.send('tally');
      return reply;
    };
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    const cpuStart = await stats(child);
    const tallyStart = await tally();
    const started = performance.now();
    const underFlood: number[] = [];
    while (performance.now() - started < floodSeconds * 1000) {
      underFlood.push(await newcomer(url));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (performance.now() - started) / 1000;
    const [cpuEnd, tallyEnd] = [await stats(child), await tally()];
    const rate = (k: keyof Tally) => Math.round((tallyEnd[k] - tallyStart[k]) / seconds);
    const ms = (xs: number[]) => `median ${percentile(xs, 50).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    console.log(`wsMessagesPerSecondPerIp: ${perIpLimit ?? 'default'}; ${FLOODERS} connections from ${FLOOD_FROM} at ${PER_CONNECTION_RATE}/s each for ${seconds.toFixed(0)} s`);
    console.log(`flood: ${rate('sent')} sendMessage/s sent, ${rate('answered')}/s answered (notifyMessage), ${rate('refused')}/s refused (fail)`);
    console.log(`new connection from ${NEWCOMER_FROM}, open → getUserData: before the flood ${ms(quiet)}; under the flood ${ms(underFlood)} (${underFlood.length} samples)`);
    console.log(`callhook CPU under the flood: ${(((cpuEnd.cpuUs - cpuStart.cpuUs) / (seconds * 1e6)) * 100).toFixed(0)} % of one core`);
  } finally {
    flooder?.send('stop');
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One newcomer: connects, is timed, leaves. */
async function newcomer(url: string): Promise<number> {
  const s = await session(url, NEWCOMER_FROM);
  s.ws.close();
  return s.connectMs;
}
