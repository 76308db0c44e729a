/**
 * Messages benchmark (issue 4): SIP MESSAGEs end to end — client `sendMessage` over WebSocket → `sendMessage` hook
 * (EchoApp) → SIP MESSAGE → 200 OK from a sipp UAS → `notifyMessage` ACCEPTED — with callhook in a child process
 * (bench/server-process.ts) and the defaultApp + EchoApp hooks, MessageStatusEvent SENT and ACCEPTED included
 * (written to the outbox and delivered to EchoApp).
 *
 * The load client is this process: `clients` WebSockets, each keeping `window` messages in flight. Reports
 * messages per second (first send to last ACCEPTED), latency from send to ACCEPTED, and callhook's CPU.
 *
 *   node --import tsx bench/messages.ts [messages=20000] [clients=50] [window=4]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { runSipp, scenarioFile } from '../test/support/sipp.ts';
import { machine, percentile, loopbackServerSettings } from './hooks-common.ts';
import type { ServerStats } from './server-process.ts';

const total = Number(process.argv[2] ?? 20_000);
const clientCount = Number(process.argv[3] ?? 50);
const window = Number(process.argv[4] ?? 4);
const WARM_UP = 2_000;

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

interface Client {
  ws: WebSocket;
  /** Resolvers of messages in flight, by id. */
  pending: Map<string, { sentAt: number; resolve: (latencyMs: number) => void; reject: (e: Error) => void }>;
}

console.log(`machine: ${machine()}, node ${process.version}`);
const uas = await runSipp({
  scenarioFile: scenarioFile('uas-message'),
  mode: 'uas',
  transport: 'u1',
  calls: total + WARM_UP,
  timeoutMs: 600_000,
  extraArgs: ['-buff_size', String(4 * 1024 * 1024)],
});
const dataDir = await mkdtemp(join(tmpdir(), 'callhook-bench-messages-'));
const overrides = {
  ...(await loopbackServerSettings(dataDir)),
  // The bench measures the server, not the flood limits (50/s per connection, 200/s per IP by default).
  wsMessagesPerSecond: 100_000,
  wsMessagesPerSecondPerIp: 100_000,
};
const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [JSON.stringify(overrides)], {
  execArgv: ['--import', 'tsx'],
});
const clients: Client[] = [];

try {
  const { wsPort } = await nextMessage<{ type: 'ready'; wsPort: number }>(child, 'ready');
  for (let i = 0; i < clientCount; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`);
    const client: Client = { ws, pending: new Map() };
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('open', () =>
        ws.send(JSON.stringify({ message: 'connection', data: [{ sipLogin: `sender${i}`, sipDomain: '127.0.0.1', sipPort: uas.port }] })),
      );
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { message: string; data: Array<{ id?: string; status?: string; info?: string }> };
        if (frame.message === 'getUserData') resolve();
        else if (frame.message === 'ping') ws.send('{"message":"pong","data":[null]}');
        else if (frame.message === 'notifyMessage') {
          const m = frame.data[0]!;
          const p = client.pending.get(m.id!);
          if (p === undefined || m.status === 'SENT') return;
          client.pending.delete(m.id!);
          if (m.status === 'ACCEPTED') p.resolve(performance.now() - p.sentAt);
          else p.reject(new Error(`${m.id}: ${m.status} ${m.info}`));
        } else if (frame.message === 'fail') {
          const p = frame.data[0]?.id === undefined ? undefined : client.pending.get(frame.data[0].id);
          p?.reject(new Error(`fail: ${frame.data[0]?.info}`));
        }
      });
    });
  }

  let seq = 0;
  const send = (c: Client): Promise<number> =>
    new Promise((resolve, reject) => {
      const id = `m${seq++}`;
      c.pending.set(id, { sentAt: performance.now(), resolve, reject });
      c.ws.send(JSON.stringify({ message: 'sendMessage', data: [{ id, to: 'bench', body: `message ${id} from the load client`, contentType: 'text/plain' }] }));
    });

  /** `n` messages over all clients, `window` in flight per client; the latencies of the accepted ones. */
  async function run(n: number): Promise<{ latencies: number[]; failures: string[] }> {
    let left = n;
    const latencies: number[] = [];
    const failures: string[] = [];
    await Promise.all(
      clients.flatMap((c) =>
        Array.from({ length: window }, async () => {
          while (left > 0) {
            left--;
            await send(c).then((ms) => latencies.push(ms), (e: Error) => failures.push(e.message));
          }
        }),
      ),
    );
    return { latencies, failures };
  }

  await run(WARM_UP);
  const cpuBefore = await stats(child);
  const started = performance.now();
  const { latencies, failures } = await run(total);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = await stats(child);

  console.log(`clients: ${clientCount}, in flight per client: ${window}, messages: ${total} (after ${WARM_UP} to warm up)`);
  console.log(`accepted: ${latencies.length}, failed: ${failures.length}${failures[0] ? ` (first: ${failures[0]})` : ''}`);
  console.log(`throughput: ${Math.round(latencies.length / seconds)} messages/s end to end (${seconds.toFixed(2)} s)`);
  console.log(`latency send → ACCEPTED: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  console.log(`callhook CPU: ${(((cpuAfter.cpuUs - cpuBefore.cpuUs) / (seconds * 1e6)) * 100).toFixed(0)} % of one core`);
} finally {
  for (const c of clients) c.ws.terminate();
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  await uas.kill();
  await rm(dataDir, { recursive: true, force: true });
}
