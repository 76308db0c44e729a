/**
 * What the client-protocol tests drive callhook with: a raw `ws` client that records every frame it receives
 * (in order, as raw text and parsed), plus helpers that start a whole callhook on loopback with a temp dataDir:
 * in-process (`startTestServer`), or as the process a user runs (`startServerProcess`, for attacks that must not
 * end it). No SDK in between: the tests assert the exact frames on the wire.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, type ClientOptions } from 'ws';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { ProcessGroup } from './child-process.ts';
import { freePort, LOOPBACK } from './ports.ts';

export interface Frame {
  message: string;
  data: unknown[];
  /** The frame exactly as received. */
  raw: string;
}

export interface Closed {
  code: number;
  reason: string;
}

export class TestClient {
  /** Every text frame received, in order. */
  readonly frames: Frame[] = [];
  /** Answer server pings with `pong` (as SDK 2.0 does). */
  autoPong = true;
  readonly closed: Promise<Closed>;
  /** The client's own address, as the server sees it (for the sessionId). */
  localPort = 0;
  private cursor = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const raw = data.toString();
      const parsed = JSON.parse(raw) as { message: string; data: unknown[] };
      this.frames.push({ message: parsed.message, data: parsed.data, raw });
      if (parsed.message === 'ping' && this.autoPong) this.send('pong', null);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.wake();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static async open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    ws.on('upgrade', (res) => {
      client.localPort = res.socket.localPort ?? 0;
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends `{"message": message, "data": [arg]}` like SDK 2.0 (`[null]` for no argument). */
  send(message: string, arg?: unknown): void {
    this.ws.send(JSON.stringify({ message, data: [arg ?? null] }));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /**
   * The next frame not yet taken (pings skipped unless asked for), waiting up to `timeoutMs`. Frames are taken in
   * order, so consecutive calls walk the wire sequence.
   */
  async next(timeoutMs = 5000, options: { includePings?: boolean } = {}): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++]!;
        if (f.message !== 'ping' || options.includePings) return f;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`no frame within ${timeoutMs} ms (socket ${this.isOpen ? 'open' : 'closed'}); received so far: ${this.frames.map((f) => f.message).join(', ')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next frame, which must be `message`; returns its data[0]. */
  async expect(message: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const f = await this.next(timeoutMs);
    if (f.message !== message) throw new Error(`expected ${message}, got ${f.raw}`);
    return f.data[0] as Record<string, unknown>;
  }

  /** No unread frame (other than pings) arrives within `ms`. */
  async expectQuiet(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const unread = this.frames.slice(this.cursor).filter((f) => f.message !== 'ping');
    if (unread.length > 0) throw new Error(`unexpected frames: ${unread.map((f) => f.raw).join(' ')}`);
  }

  async close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export interface TestServer {
  server: RunningServer;
  wsUrl: string;
  /** Stops the server and removes its dataDir. */
  stop(): Promise<void>;
}

/** A callhook on 127.0.0.1 (free ports, temp dataDir, silent log, no signal handlers). */
export async function startTestServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-gateway-'));
  const server = await startServer({
    overrides: {
      wsPort: 0,
      wsHost: LOOPBACK,
      adminPort: 0,
      sipPort: await freePort('both'),
      localIp: LOOPBACK,
      dataDir,
      ...overrides,
    },
    // TEST_LOG_LEVEL=debug shows the server's log; not a CALLHOOK_* name, which the config loader would refuse.
    logger: createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'),
    handleSignals: false,
  });
  return {
    server,
    wsUrl: `ws://${LOOPBACK}:${server.wsPort}/`,
    stop: async () => {
      await server.close();
      // The store's checkpoint worker may still be letting go of its files: retry a busy directory.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/** Resolves when `check` holds, polling every 20 ms; throws after `timeoutMs` with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const BIN = fileURLToPath(new URL('../../bin/callhook.js', import.meta.url));
/** tsx compiles the sources at start: generous on a loaded machine. */
const PROCESS_START_MS = 30_000;

export interface ServerProcess {
  readonly wsUrl: string;
  readonly wsPort: number;
  /** With CALLHOOK_TLS_CERT and CALLHOOK_TLS_KEY. */
  readonly wssPort: number | undefined;
  /** `http://127.0.0.1:<adminPort>` */
  readonly adminUrl: string;
  /** CALLHOOK_ADMIN_TOKEN of the process. */
  readonly adminToken: string;
  /** Undefined while it runs; then how it ended (`exited with code 1`, `killed by SIGKILL`). */
  readonly status: string | undefined;
  /** The JSON log lines it wrote (of its last MiB of output). */
  logs(): Array<Record<string, unknown>>;
  /** Its resident set size, from /proc (Linux). */
  rssBytes(): number;
  /** Adds an app whose hooks go to `url` through the admin API, with `methods` enabled (default: every one). */
  addApp(appKey: string, url: string, methods?: readonly string[]): Promise<void>;
  /** SIGTERM, SIGKILL after a grace; removes its dataDir. */
  stop(): Promise<void>;
}

/**
 * `callhook start` in a child process on 127.0.0.1 (ws, admin and SIP ports chosen free, a temp dataDir, log level
 * info), configured by `CALLHOOK_*` variables in `env` besides those; resolves once it logged its start.
 */
export async function startServerProcess(env: Record<string, string | number> = {}): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-process-'));
  const adminToken = randomBytes(16).toString('hex');
  const group = new ProcessGroup(process.execPath, [BIN, 'start'], dir, {
    ...process.env,
    CALLHOOK_WS_PORT: '0',
    CALLHOOK_WS_HOST: LOOPBACK,
    CALLHOOK_ADMIN_PORT: '0',
    CALLHOOK_SIP_PORT: String(await freePort('both')),
    CALLHOOK_LOCAL_IP: LOOPBACK,
    CALLHOOK_DATA_DIR: join(dir, 'data'),
    CALLHOOK_LOG_LEVEL: 'info',
    CALLHOOK_ADMIN_TOKEN: adminToken,
    ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
  });
  const logs = (): Array<Record<string, unknown>> =>
    group.log.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // the first line of the kept tail may be cut
      }
    });
  let started: Record<string, unknown> | undefined;
  try {
    await eventually(() => {
      if (group.status !== undefined) throw new Error(`callhook ${group.status}:\n${group.tail(30)}`);
      started = logs().find((l) => l['msg'] === 'callhook started');
      return started !== undefined;
    }, PROCESS_START_MS, 'callhook to log its start');
  } catch (e) {
    await group.stop(1000);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const wsPort = Number(started!['wsPort']);
  const adminUrl = String(started!['adminUrl']);
  return {
    wsUrl: `ws://${LOOPBACK}:${wsPort}/`,
    wsPort,
    wssPort: typeof started!['wssPort'] === 'number' ? started!['wssPort'] : undefined,
    adminUrl,
    adminToken,
    get status() {
      return group.status;
    },
    logs,
    rssBytes() {
      const status = readFileSync(`/proc/${group.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
    },
    async addApp(appKey, url, methods = ['*']) {
      const headers = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
      const added = await fetch(`${adminUrl}/api/apps`, { method: 'POST', headers, body: JSON.stringify({ name: appKey, appKey, url }) });
      if (added.status !== 201) throw new Error(`adding app ${appKey}: ${added.status} ${await added.text()}`);
      for (const method of methods) {
        const enabled = await fetch(`${adminUrl}/api/apps/${appKey}/rest-methods/${method}`, { method: 'PUT', headers });
        if (enabled.status !== 200) throw new Error(`enabling ${method} of ${appKey}: ${enabled.status} ${await enabled.text()}`);
      }
    },
    async stop() {
      await group.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
