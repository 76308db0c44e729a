/**
 * The two servers of the comparison kit behind one interface, so every measurement drives both the same way: one
 * WebSocket session per registration or call, werift browsers for media (bench/media-peers.ts), and the server's
 * CPU, RSS and threads read from /proc/<pid> — the same reading for a C process with threads and for Node.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserPeer } from '../media-peers.ts';
import { ProcessGroup } from '../../test/support/child-process.ts';
import { freePort, waitUntilBound } from '../../test/support/ports.ts';
import { WebRtcClient } from '../../test/support/webrtc-client.ts';
import { JanusSipSession } from './janus-client.ts';
import { startJanus } from './janus.ts';
import { BROWSER_ADDRESS, SERVER_INTERFACE } from './namespace.ts';
import { loopbackServerSettings } from '../hooks-common.ts';

export type ServerName = 'janus' | 'callhook';

export interface Registrar {
  host: string;
  port: number;
  domain: string;
}

export interface KitUser {
  username: string;
  password: string;
}

/** A call answered by sipp's echo, with the browser's DTLS up. */
export interface EchoCall {
  peer: BrowserPeer;
  /** The G.711 payload type the server's answer settled on. */
  payloadType: number;
  hangup(): Promise<void>;
}

export interface ServerUnderTest {
  readonly name: ServerName;
  readonly version: string;
  readonly pid: number;
  /** A session registered as `user` with the registrar; resolves with its close. */
  register(user: KitUser): Promise<() => Promise<void>>;
  /** Call number `index`, from its own session, to sip:bob at sipp's `-rtp_echo` UAS. */
  call(index: number): Promise<EchoCall>;
  /** The end of the server's own output, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

/** What /proc says of a process: CPU time (user + system, all threads), resident memory, threads. */
export interface ProcSample {
  cpuSeconds: number;
  rssBytes: number;
  threads: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export function procSample(pid: number): ProcSample {
  // /proc/<pid>/stat: the command is in parentheses and may hold spaces; fields 14 and 15 follow its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    rssBytes: field('VmRSS') * 1024,
    threads: field('Threads'),
  };
}

/** The browsers' end of the veth pair (bench/compare/namespace.ts), for both servers alike. */
function browserPeer(): BrowserPeer {
  return new BrowserPeer({ address: BROWSER_ADDRESS });
}

export async function startServer(name: ServerName, registrar: Registrar, sippPort: number): Promise<ServerUnderTest> {
  return name === 'janus' ? startJanusServer(registrar, sippPort) : startCallhookServer(registrar, sippPort);
}

async function startJanusServer(registrar: Registrar, sippPort: number): Promise<ServerUnderTest> {
  const janus = await startJanus({ wsPort: await freePort('tcp'), sipIp: '127.0.0.1', iceInterface: SERVER_INTERFACE });
  return {
    name: 'janus',
    version: janus.version,
    pid: janus.pid,
    async register(user) {
      const s = await JanusSipSession.open(janus.wsUrl);
      await s.register(user, registrar.domain, `${registrar.host}:${registrar.port}`);
      return () => s.close();
    },
    async call(index) {
      const s = await JanusSipSession.open(janus.wsUrl);
      await s.guest(`caller${index}`, '127.0.0.1');
      const peer = browserPeer();
      const payloadType = await s.call(`sip:bob@127.0.0.1:${sippPort}`, peer);
      await peer.connected(30_000);
      return {
        peer,
        payloadType,
        async hangup() {
          await s.hangup();
          await peer.close();
          await s.close();
        },
      };
    },
    log: () => janus.log(),
    stop: () => janus.stop(),
  };
}

/**
 * callhook as its users run it: the compiled package's `callhook start` (bin/callhook.js, dist/ from `npm run build`),
 * not the sources through tsx, whose compiler and loader thread would add their own memory to the figures.
 */
const CALLHOOK_BIN = fileURLToPath(new URL('../../bin/callhook.js', import.meta.url));
const BUILT_SERVER = new URL('../../dist/server.js', import.meta.url);
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

async function startCallhookServer(registrar: Registrar, sippPort: number): Promise<ServerUnderTest> {
  if (!existsSync(BUILT_SERVER)) throw new Error('the kit runs the compiled server: run `npm run build` first');
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-compare-'));
  // As bench/calls-load.ts runs it: the defaultApp's hooks to the built-in EchoApp stay on; no limit is hit by one
  // load client's address. Warnings only, as the benches' server processes log.
  const settings = {
    ...(await loopbackServerSettings(join(dataDir, 'data'))),
    wsPort: await freePort('tcp'),
    logLevel: 'warn',
    wsMessagesPerSecond: 100_000,
    wsMessagesPerSecondPerIp: 100_000,
    wsSessionsPerIp: 100_000,
    wsConnectionsPerIp: 100_000,
    rtpInactivityTimeoutMs: 0,
  };
  await writeFile(join(dataDir, 'callhook.config.json'), JSON.stringify(settings));
  // With `npm start`'s and docs/deploy.md's young generation (--max-semi-space-size=2).
  const child = new ProcessGroup(process.execPath, ['--max-semi-space-size=2', CALLHOOK_BIN, 'start'], dataDir);
  const { wsPort } = settings;
  await waitUntilBound('tcp', wsPort, { timeoutMs: START_TIMEOUT_MS, stillRunning: () => child.status === undefined })
    .catch((e: Error) => { throw new Error(`${e.message}:\n${child.tail(30)}`); });
  const url = `ws://127.0.0.1:${wsPort}/`;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    name: 'callhook',
    version: pkg.version,
    pid: child.pid!,
    async register(user) {
      const c = await WebRtcClient.connect(url, {
        sipLogin: user.username, sipPassword: user.password, sipDomain: registrar.domain, sipOutboundProxy: registrar.host,
        sipPort: String(registrar.port), sipRegisterRequired: true,
      });
      return () => c.close();
    },
    async call(index) {
      const c = await WebRtcClient.connect(url, { sipLogin: `caller${index}`, sipDomain: '127.0.0.1', sipPort: sippPort });
      const call = await c.call('bob', {}, browserPeer());
      await call.waitStatus('ESTABLISHED', 30_000);
      await call.connected(30_000);
      return {
        peer: call.peer,
        payloadType: call.audioPayloadType,
        async hangup() {
          call.hangup();
          await call.waitEnd(30_000);
          await c.close();
        },
      };
    },
    log: () => child.tail(30),
    async stop() {
      await child.stop(STOP_GRACE_MS);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
