/**
 * What the client-protocol tests drive callhook with: a raw `ws` client that records every frame it receives
 * (in order, as raw text and parsed), plus a helper that starts a whole callhook in-process on loopback with a
 * temp dataDir. No SDK in between: the tests assert the exact frames on the wire.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, type ClientOptions } from 'ws';
import { createLogger, type Logger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freePort, LOOPBACK } from './ports.ts';

/** The client tests wait with it next to TestClient. */
export { eventually } from './eventually.ts';

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

  /** `options` of ws, e.g. `localAddress` 127.0.0.2 to come from a second loopback IP, or an `origin`. */
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

/** A callhook on 127.0.0.1 (free ports, temp dataDir, silent log unless `logger` is given, no signal handlers). */
export async function startTestServer(overrides: Record<string, unknown> = {}, options: { logger?: Logger } = {}): Promise<TestServer> {
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
    logger: options.logger ?? createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent'),
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
