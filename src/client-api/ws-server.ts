/**
 * The client endpoint (docs/client-protocol.md "Endpoint"): an HTTP server on `wsPort` — and an HTTPS one on
 * `wssPort` when a certificate is configured — that upgrades any path to a WebSocket (ws 8) and serves the web
 * phone at `/` (./web-phone.ts). It owns what is per socket, per address or per server: the caps on TCP connections
 * (in all and per IP), the handshake and idle timeouts before the upgrade, the Origin check of the upgrade, the
 * sessions-per-IP limit, the per-IP budget of client actions, the keep-alive ticker, and closing everything at stop.
 * Behind a trusted reverse proxy (./forwarded.ts) the sessions and actions are counted per client address, and the
 * proxy's own TCP connections are not held to the per-IP cap (it carries every client).
 * Frames are ClientConnection's business.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config/schema.ts';
import { RepeatedWarnings, type Logger } from '../log.ts';
import type { Gateway } from '../gateway/index.ts';
import { clientAddressOf, displayAddress } from '../gateway/ids.ts';
import type { ClientEndpoint } from '../gateway/types.ts';
import { ClientConnection, type ConnectionLimits, type PeerShare } from './connection.ts';
import { failFrame } from './frames.ts';
import { forwardedClient, trustedProxySet } from './forwarded.ts';
import { TokenBucket } from '../token-bucket.ts';
import { webPhoneHandler } from './web-phone.ts';

export type ClientApiConfig = Pick<
  Config,
  | 'wsPort' | 'wssPort' | 'wsHost' | 'tlsCert' | 'tlsKey' | 'pingIntervalMs' | 'wsMaxFrameBytes' | 'wsMessagesPerSecond'
  | 'wsSessionsPerIp' | 'wsMessagesPerSecondPerIp' | 'wsMaxMessagesInProgress' | 'wsMaxSendQueueBytes' | 'wsMaxSendQueueFrames'
  | 'wsHandshakeTimeoutMs' | 'wsIdleTimeoutMs' | 'wsMaxConnections' | 'wsConnectionsPerIp' | 'allowedOrigins' | 'trustedProxies'
>;

export interface ClientApiOptions {
  gateway: Gateway;
  config: ClientApiConfig;
  log: Logger;
}

/** What the server keeps per client address while it has a WebSocket open. */
interface Peer extends PeerShare {
  /** WebSocket sessions, against wsSessionsPerIp. */
  sessions: number;
}

/**
 * Frames up to this size are read and refused with `fail` (see ConnectionLimits); ws itself closes the socket
 * (1009) for anything larger, so a client cannot make the server buffer without bound.
 */
const HARD_FRAME_LIMIT_FACTOR = 16;
/** How long `close()` lets clients answer the closing handshake before dropping their sockets. */
const CLOSE_GRACE_MS = 1_000;
/** How often Node looks for requests past the handshake timeout: a quarter of it, within these bounds. */
const TIMEOUT_CHECK_MIN_MS = 25;
const TIMEOUT_CHECK_MAX_MS = 1_000;

export class ClientApiServer {
  private readonly connections = new Set<ClientConnection>();
  /** By client address (the forwarded one behind a trusted proxy). */
  private readonly peers = new Map<string, Peer>();
  /** TCP connections (upgraded or not) by peer address, against wsConnectionsPerIp. */
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly trustedProxies: ReadonlySet<string>;
  /** TCP connections open on both listeners, against wsMaxConnections. */
  private tcpConnections = 0;
  private readonly wss: WebSocketServer;
  private readonly servers: Server[] = [];
  private readonly ticker: NodeJS.Timeout;
  private readonly log: Logger;
  /** Refusals of connections and upgrades, logged once per kind and address, then counted. */
  private readonly refusals: RepeatedWarnings;
  /** The allowed origins, or undefined for any. */
  private readonly origins: ReadonlySet<string> | undefined;
  private readonly limits: ConnectionLimits;
  private wsBound = 0;
  /** Set by `drain`: new WebSockets are refused with 503 and this Retry-After. */
  private retryAfterSeconds: number | undefined;
  private draining = false;
  private wssBound: number | undefined;

  private constructor(private readonly o: ClientApiOptions) {
    this.log = o.log.child({ component: 'client-api' });
    this.refusals = new RepeatedWarnings(this.log);
    this.origins = o.config.allowedOrigins === '*' ? undefined : new Set(o.config.allowedOrigins.split(','));
    this.trustedProxies = trustedProxySet(o.config.trustedProxies);
    this.limits = {
      maxFrameBytes: o.config.wsMaxFrameBytes,
      messagesPerSecond: o.config.wsMessagesPerSecond,
      messagesPerSecondPerIp: o.config.wsMessagesPerSecondPerIp,
      maxMessagesInProgress: o.config.wsMaxMessagesInProgress,
      maxSendQueueBytes: o.config.wsMaxSendQueueBytes,
      maxSendQueueFrames: o.config.wsMaxSendQueueFrames,
    };
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: o.config.wsMaxFrameBytes * HARD_FRAME_LIMIT_FACTOR,
    });
    this.ticker = setInterval(() => {
      for (const c of this.connections) c.tick();
    }, o.config.pingIntervalMs);
    this.ticker.unref();
  }

  /** Listens on wsPort (and wssPort with tlsCert/tlsKey); resolves once bound. */
  static async start(o: ClientApiOptions): Promise<ClientApiServer> {
    const api = new ClientApiServer(o);
    const c = o.config;
    // Slow or stuck clients must not pin sockets before the upgrade: the request head within the handshake
    // timeout (from the connection, or from the previous response), and never that long without a byte.
    const http: ServerOptions = {
      headersTimeout: c.wsHandshakeTimeoutMs,
      requestTimeout: c.wsHandshakeTimeoutMs,
      keepAliveTimeout: c.wsIdleTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MAX_MS, Math.max(TIMEOUT_CHECK_MIN_MS, c.wsHandshakeTimeoutMs / 4)),
    };
    const handler = webPhoneHandler(api.log);
    try {
      api.wsBound = await api.listen(createServer(http, handler), c.wsPort);
      if (c.tlsCert !== undefined && c.tlsKey !== undefined) {
        // The TLS handshake comes before any HTTP: it has the same bound.
        const tls = { cert: readFileSync(c.tlsCert), key: readFileSync(c.tlsKey), handshakeTimeout: c.wsHandshakeTimeoutMs };
        api.wssBound = await api.listen(createHttpsServer({ ...http, ...tls }, handler), c.wssPort);
      }
    } catch (e) {
      await api.close();
      throw e;
    }
    return api;
  }

  /** The bound WebSocket port (the configured one, or the OS's choice for 0). */
  get wsPort(): number {
    return this.wsBound;
  }

  /** The bound secure WebSocket port, when a certificate is configured. */
  get wssPort(): number | undefined {
    return this.wssBound;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * A new WebSocket is refused from now on (503 with `Retry-After`, as in `drain`), while the clients connected stay:
   * a node draining for a rolling restart lets its calls finish (config stopCallsWaitMs).
   */
  refuseNew(retryAfterSeconds: number): void {
    this.retryAfterSeconds ??= Math.max(0, Math.ceil(retryAfterSeconds));
  }

  /**
   * The first step of a graceful stop: a new WebSocket is refused from now on (its upgrade answered `503 Service
   * Unavailable` with `Retry-After: retryAfterSeconds`, which a proxy or a client's reconnect logic understands, RFC
   * 9110 §15.6.4), and every client is closed (going away), ending their sessions. The ports keep listening until
   * `close()`, so that clients reconnecting during the rest of the stop are told why rather than refused by TCP.
   */
  async drain(retryAfterSeconds: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.refuseNew(retryAfterSeconds);
    clearInterval(this.ticker);
    const closing = [...this.connections];
    for (const c of closing) c.shutdown();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closing.map((c) => c.whenClosed())),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(timer);
    for (const c of this.connections) c.terminate();
  }

  /** Stops listening, after closing every client (see `drain`) and dropping what is still connected. */
  async close(): Promise<void> {
    await this.drain(0);
    const stopped = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of this.servers) s.closeAllConnections();
    await Promise.all(stopped);
    this.wss.close();
    this.refusals.flush();
  }

  private listen(server: Server, port: number): Promise<number> {
    // Idle before the upgrade (ws turns the socket timeout off once upgraded; pings take over).
    server.timeout = this.o.config.wsIdleTimeoutMs;
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      try {
        this.upgrade(req, socket, head);
      } catch (err) {
        // No request may end the process: a bug here costs this socket only.
        this.log.error({ err, remote: req.socket.remoteAddress }, 'WebSocket upgrade failed unexpectedly');
        socket.destroy();
      }
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, ...(this.o.config.wsHost !== undefined && { host: this.o.config.wsHost }) }, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * A new TCP connection: counted, or closed at once when over wsMaxConnections or wsConnectionsPerIp (a trusted
   * proxy is held to the first only).
   */
  private admit(socket: Socket): void {
    const ip = displayAddress(socket.remoteAddress ?? '');
    const { wsMaxConnections, wsConnectionsPerIp } = this.o.config;
    const open = this.connectionsPerIp.get(ip) ?? 0;
    let refusal: string | undefined;
    if (this.tcpConnections >= wsMaxConnections) refusal = `${wsMaxConnections} connections open (wsMaxConnections)`;
    else if (open >= wsConnectionsPerIp && !this.trustedProxies.has(ip)) refusal = `${wsConnectionsPerIp} connections open from ${ip} (wsConnectionsPerIp)`;
    if (refusal !== undefined) {
      this.refusals.warn(`connections:${ip}`, { remote: ip }, `refusing TCP connections: ${refusal}`);
      socket.destroy();
      return;
    }
    this.tcpConnections++;
    this.connectionsPerIp.set(ip, open + 1);
    socket.once('close', () => {
      this.tcpConnections--;
      const left = (this.connectionsPerIp.get(ip) ?? 1) - 1;
      if (left > 0) this.connectionsPerIp.set(ip, left);
      else this.connectionsPerIp.delete(ip);
    });
  }

  /** The sessions and action budget of a client address, created with its first WebSocket. */
  private peerOf(ip: string): Peer {
    let peer = this.peers.get(ip);
    if (peer === undefined) {
      const rate = this.o.config.wsMessagesPerSecondPerIp;
      peer = { sessions: 0, actions: new TokenBucket(rate, rate, Date.now()), warnings: new RepeatedWarnings(this.log) };
      this.peers.set(ip, peer);
    }
    return peer;
  }

  /** The upgrade request: refused with 503 while stopping, 403 for an origin not allowed, else handed to ws. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.retryAfterSeconds !== undefined) {
      const body = 'callhook is stopping: connect again later\n';
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: ${this.retryAfterSeconds}\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    const origin = req.headers.origin;
    if (this.origins !== undefined && origin !== undefined && !this.origins.has(origin)) {
      const remote = displayAddress(req.socket.remoteAddress ?? '');
      this.refusals.warn(`origin:${remote}`, { remote, origin }, 'refusing a WebSocket from an origin not in allowedOrigins');
      const body = `origin ${origin} is not allowed (allowedOrigins)\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const s = req.socket;
    const forwardedFor = forwardedClient(s.remoteAddress ?? '', req.headers['x-forwarded-for'], this.trustedProxies);
    const endpoint: ClientEndpoint = {
      remoteAddress: s.remoteAddress ?? '',
      remotePort: s.remotePort ?? 0,
      localAddress: s.localAddress ?? '',
      localPort: s.localPort ?? 0,
      ...(forwardedFor !== undefined && { forwardedFor }),
    };
    const ip = displayAddress(clientAddressOf(endpoint));
    const peer = this.peerOf(ip);
    if (peer.sessions >= this.o.config.wsSessionsPerIp) {
      ws.on('error', () => undefined); // a client resetting this refused socket is of no interest
      // Refused in the protocol rather than at the HTTP upgrade, so the client learns why (SDK: WARN + info).
      ws.send(failFrame('ConnectionStatusEvent', `too many sessions from ${ip} (the limit is ${this.o.config.wsSessionsPerIp})`));
      ws.close(1008, 'too many sessions');
      return;
    }
    peer.sessions++;
    const connection = new ClientConnection(ws, endpoint, this.o.gateway, this.limits, peer, this.log, () => {
      this.connections.delete(connection);
      if (--peer.sessions > 0) return;
      this.peers.delete(ip);
      peer.warnings.flush();
    });
    this.connections.add(connection);
  }
}
