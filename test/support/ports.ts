/**
 * Loopback ports for the peers the integration tests start (Kamailio, sipp): never a fixed port such as 5060, which
 * may be taken on a developer's machine. The port is found free and released again, so a child process can bind it;
 * the callers retry when another process wins that small race (kamailio.ts, sipp.ts).
 */
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { eventually } from './eventually.ts';

export const LOOPBACK = '127.0.0.1';

export type PortProtocol = 'udp' | 'tcp' | 'both';

/** Candidates `freePort('both')` tries before giving up (the UDP twin of a free TCP port is usually free). */
const BOTH_ATTEMPTS = 50;

/**
 * A port free on 127.0.0.1 for `proto`; with 'both', free for UDP and TCP at once (SIP servers listen on the same
 * port number for both, RFC 3261 §18).
 */
export async function freePort(proto: PortProtocol = 'both'): Promise<number> {
  if (proto === 'udp') return bindUdp(0).then(release);
  if (proto === 'tcp') return bindTcp(0).then(release);
  for (let attempt = 0; attempt < BOTH_ATTEMPTS; attempt++) {
    const tcp = await bindTcp(0);
    try {
      const udp = await bindUdp(tcp.port).catch(() => undefined);
      if (udp !== undefined) {
        await udp.close();
        return tcp.port;
      }
    } finally {
      await tcp.close();
    }
  }
  throw new Error(`no port free for both UDP and TCP on ${LOOPBACK} after ${BOTH_ATTEMPTS} attempts`);
}

/** Candidates `freeUdpRange` tries before giving up. */
const RANGE_ATTEMPTS = 50;

/**
 * The first of `count` consecutive UDP ports on 127.0.0.1, the first one even, all found free (and released
 * again): a port range for a PortPairAllocator whose every port a test means to control, e.g. to hold one pair
 * itself and see the next one taken.
 */
export async function freeUdpRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < RANGE_ATTEMPTS; attempt++) {
    const probe = await bindUdp(0);
    await probe.close();
    const first = probe.port - (probe.port % 2);
    if (first + count - 1 > 65535) continue;
    const bound = await Promise.all(Array.from({ length: count }, (_, i) => bindUdp(first + i).catch(() => undefined)));
    await Promise.all(bound.map((b) => b?.close()));
    if (bound.every((b) => b !== undefined)) return first;
  }
  throw new Error(`no ${count} consecutive UDP ports free on ${LOOPBACK} after ${RANGE_ATTEMPTS} attempts`);
}

/**
 * Waits until some process has bound `port` on 127.0.0.1 (a listening TCP socket, or a UDP socket), reading
 * /proc/net rather than probing, so the wait never takes the port from the process being waited for. Linux only,
 * like the Debian packages the suite installs.
 */
export async function waitUntilBound(
  proto: 'udp' | 'tcp',
  port: number,
  opts: { timeoutMs: number; stillRunning?: () => boolean },
): Promise<void> {
  await eventually(async () => {
    if (opts.stillRunning && !opts.stillRunning()) throw new Error(`process exited before binding ${proto} ${port}`);
    return isBound(proto, port);
  }, opts.timeoutMs, `a process to bind ${proto} ${LOOPBACK}:${port}`);
}

/** /proc/net/{udp,tcp}: "sl local_address rem_address st ...", addresses as little-endian hex "0100007F:13C4". */
async function isBound(proto: 'udp' | 'tcp', port: number): Promise<boolean> {
  const table = await readFile(`/proc/net/${proto}`, 'utf8');
  const wanted = new Set([`0100007F:${hexPort(port)}`, `00000000:${hexPort(port)}`]);
  const TCP_LISTEN = '0A';
  for (const line of table.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (local === undefined || !wanted.has(local)) continue;
    if (proto === 'udp' || state === TCP_LISTEN) return true;
  }
  return false;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

interface Bound {
  port: number;
  close(): Promise<void>;
}

async function release(bound: Bound): Promise<number> {
  await bound.close();
  return bound.port;
}

function bindUdp(port: number): Promise<Bound> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const fail = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', fail);
    socket.bind(port, LOOPBACK, () => {
      socket.off('error', fail);
      resolve({ port: socket.address().port, close: () => new Promise((done) => socket.close(() => done())) });
    });
  });
}

function bindTcp(port: number): Promise<Bound> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('TCP server has no port');
      resolve({ port: address.port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/** Whether a UDP socket of this process can bind `port` on 127.0.0.1 now (it is closed again at once). */
export async function canBindUdp(port: number): Promise<boolean> {
  return bindUdp(port).then(async (b) => { await b.close(); return true; }, () => false);
}

/**
 * UDP sockets this process holds, native ones included (libdatachannel's ICE sockets are not Node handles, so
 * `process.getActiveResourcesInfo()` does not see them): the socket inodes among /proc/self/fd that
 * /proc/net/udp and /proc/net/udp6 list.
 */
export function openUdpSockets(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  let count = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    // Columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode !== undefined && inodes.has(inode)) count++;
    }
  }
  return count;
}
