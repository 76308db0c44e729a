/**
 * A real HTTP backend for hook tests (node:http on 127.0.0.1): it records every request — method, path, headers,
 * raw body, the client socket — and answers according to a scenario chosen per request. Used instead of any mock
 * of the HTTP client, so the tests exercise what a user's web server would see.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/rest/connect`. */
  path: string;
  /** The last path segment: the hook method. */
  hook: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** The parsed body when it is JSON. */
  json: Record<string, unknown> | undefined;
  /** Identifies the TCP connection (keep-alive reuse shows as the same id). */
  connectionId: number;
}

export type Scenario =
  /** 200 with the request body (the WCS "mirror" a backend should answer with). */
  | { kind: 'echo' }
  /** A JSON answer. */
  | { kind: 'json'; status?: number; body: unknown }
  /** Any status and raw text. */
  | { kind: 'raw'; status: number; body: string; statusText?: string; headers?: Record<string, string> }
  /** Answer after a delay (a slow backend; longer than the timeout = a hanging one). */
  | { kind: 'delay'; ms: number; then: Scenario }
  /** Close the connection without answering. */
  | { kind: 'close' }
  /** 200 with `bytes` of garbage, streamed in 64 KiB chunks, no Content-Length. */
  | { kind: 'huge'; bytes: number }
  /** A redirect. */
  | { kind: 'redirect'; status: 301 | 302 | 307 | 308; location: string };

export type Responder = (req: RecordedRequest) => Scenario;

export class TestBackend {
  readonly requests: RecordedRequest[] = [];
  responder: Responder = () => ({ kind: 'echo' });
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private nextConnectionId = 1;

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  /** Starts on 127.0.0.1, on `port` (e.g. to come back on the port of a stopped backend) or a free one. */
  /** `host`: the address to listen on (default 127.0.0.1; the cluster test's nodes reach it over their subnet). */
  static async start(options: { port?: number; responder?: Responder; host?: string } = {}): Promise<TestBackend> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const backend = new TestBackend(server, (server.address() as AddressInfo).port);
    if (options.responder !== undefined) backend.responder = options.responder;
    server.on('connection', (socket: Socket & { connectionId?: number }) => {
      socket.connectionId = backend.nextConnectionId++;
      backend.sockets.add(socket);
      socket.on('close', () => backend.sockets.delete(socket));
    });
    server.on('request', (req, res) => backend.handle(req, res));
    return backend;
  }

  /** A port on 127.0.0.1 where nothing listens (connection refused). */
  static async closedPort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  /** Base URL for an app, e.g. `http://127.0.0.1:PORT/rest`. */
  url(base = '/rest'): string {
    return `http://127.0.0.1:${this.port}${base}`;
  }

  /** Resolves once `n` requests in total have arrived; rejects after `timeoutMs`. */
  waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`backend got ${this.requests.length} requests, expected ${n} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const path = req.url ?? '';
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path,
        hook: path.split('?')[0]!.split('/').pop() ?? '',
        headers: req.headers,
        rawBody,
        json,
        connectionId: (req.socket as Socket & { connectionId?: number }).connectionId ?? 0,
      };
      this.requests.push(recorded);
      const ready = this.waiters.filter((w) => this.requests.length >= w.n);
      this.waiters = this.waiters.filter((w) => this.requests.length < w.n);
      for (const w of ready) w.resolve();
      this.answer(this.responder(recorded), recorded, res);
    });
  }

  private answer(s: Scenario, req: RecordedRequest, res: http.ServerResponse): void {
    switch (s.kind) {
      case 'echo':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(req.rawBody);
        return;
      case 'json':
        res.writeHead(s.status ?? 200, { 'Content-Type': 'application/json' }).end(JSON.stringify(s.body));
        return;
      case 'raw':
        res.statusCode = s.status;
        if (s.statusText !== undefined) res.statusMessage = s.statusText;
        for (const [k, v] of Object.entries(s.headers ?? {})) res.setHeader(k, v);
        res.end(s.body);
        return;
      case 'delay': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!res.destroyed) this.answer(s.then, req, res);
        }, s.ms);
        this.timers.add(t);
        return;
      }
      case 'close':
        res.socket?.destroy();
        return;
      case 'huge': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = s.bytes;
        const pump = (): void => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        res.on('error', () => undefined); // the client hanging up mid-body is the expected end of this scenario
        pump();
        return;
      }
      case 'redirect':
        res.writeHead(s.status, { Location: s.location }).end();
        return;
    }
  }
}
