/**
 * What a connected UDP socket saves on the RTP leg's sends (issue 18; src/media/latched-destination.ts), the way the
 * relay sends: one datagram per wake-up, not in bursts. A child process holds N sockets, one per call, each echoing
 * every datagram it receives back to its source, either naming the address with each send or from a socket
 * connected to the source once its first datagram came; this process sends each socket 50 datagrams/s of 172 bytes
 * (a 20 ms PCMU packet), spread over the 20 ms as calls are. The child's CPU time (user + system, from
 * process.cpuUsage) per echoed datagram, over a window, runs by turns for both modes, so the machine's load weighs on
 * both alike.
 *
 *   node --import tsx bench/udp-echo.ts [sockets=100] [windowSeconds=8] [rounds=2]
 */
import { fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { machine } from './hooks-common.ts';

type Mode = 'address' | 'connected';
const LOOPBACK = '127.0.0.1';

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, LOOPBACK, r));
  return s;
}

if (process.argv[2] === 'echo') {
  const mode = process.argv[3] as Mode;
  const sockets = await Promise.all(Array.from({ length: Number(process.argv[4]) }, bound));
  for (const s of sockets) {
    let connected = false;
    s.on('message', (buf, from) => {
      // A copy, as the relay sends a new buffer (serializeRtp) rather than the one it received.
      const out = Buffer.from(buf);
      if (connected) s.send(out);
      else s.send(out, from.port, from.address);
      if (mode === 'connected' && !connected) {
        connected = true;
        s.connect(from.port, from.address);
      }
    });
  }
  process.on('message', () => {
    const c = process.cpuUsage();
    process.send!(c.user + c.system);
  });
  process.send!(sockets.map((s) => s.address().port));
} else {
  const count = Number(process.argv[2] ?? 100);
  const windowSeconds = Number(process.argv[3] ?? 8);
  const rounds = Number(process.argv[4] ?? 2);
  console.log(`machine: ${machine()}, node ${process.version}`);
  for (let round = 1; round <= rounds; round++) {
    for (const mode of ['address', 'connected'] as const) console.log(`${mode.padEnd(9)} ${await measure(mode, count, windowSeconds)}`);
  }
}

async function measure(mode: Mode, count: number, windowSeconds: number): Promise<string> {
  const child = fork(fileURLToPath(import.meta.url), ['echo', mode, String(count)], { execArgv: ['--import', 'tsx'] });
  const next = <T>() => new Promise<T>((r) => child.once('message', (m) => r(m as T)));
  const ports = await next<number[]>();
  const clients = await Promise.all(ports.map(async (port) => ({ socket: await bound(), port })));
  let echoed = 0;
  for (const c of clients) c.socket.on('message', () => echoed++);
  const payload = Buffer.alloc(172, 0xd5);
  const SLOTS = 10;
  let slot = 0;
  let due = performance.now();
  // Every 2 ms a tenth of the sockets get their packet: each one 50 per second.
  const ticker = setInterval(() => {
    for (; performance.now() >= due; due += 2) {
      for (let i = slot++ % SLOTS; i < clients.length; i += SLOTS) clients[i]!.socket.send(payload, clients[i]!.port, LOOPBACK);
    }
  }, 2);
  const cpu = async () => {
    const reply = next<number>();
    child.send('cpu');
    return reply;
  };
  await sleep(2_000);
  const cpu0 = await cpu();
  const echoed0 = echoed;
  const t0 = performance.now();
  await sleep(windowSeconds * 1000);
  const cpuUs = (await cpu()) - cpu0;
  const seconds = (performance.now() - t0) / 1000;
  const n = echoed - echoed0;
  clearInterval(ticker);
  child.kill();
  for (const c of clients) c.socket.close();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `${count} sockets: ${(cpuUs / n).toFixed(2)} µs of CPU per echoed datagram, ${(cpuUs / seconds / 1e4).toFixed(1)} % of a core, ` +
    `${(n / seconds).toFixed(0)} echoed/s; load average ${load}`;
}
