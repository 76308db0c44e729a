/**
 * The client endpoint (client-protocol.md "Endpoint and framing"): an HTTP server on `wsPort` — and an HTTPS one on
 * `wssPort` when a certificate is configured — that upgrades any path to a WebSocket (ws 8) and serves the web
 * phone at `/` (./web-phone.ts). It owns what is per socket or per server: the sessions-per-IP limit, the keep-alive
 * ticker, and closing everything at stop. Frames are ClientConnection's business.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Gateway } from '../gateway/index.ts';
import { displayAddress } from '../gateway/ids.ts';
import { ClientConnection } from './connection.ts';
import { failFrame } from './frames.ts';
import { serveWebPhone } from './web-phone.ts';

export type ClientApiConfig = Pick<
  Config,
  'wsPort' | 'wssPort' | 'wsHost' | 'tlsCert' | 'tlsKey' | 'pingIntervalMs' | 'wsMaxFrameBytes' | 'wsMessagesPerSecond' | 'wsSessionsPerIp'
>;

export interface ClientApiOptions {
  gateway: Gateway;
  config: ClientApiConfig;
  log: Logger;
}

/**
 * Frames up to this size are read and refused with `fail` (see ConnectionLimits); ws itself closes the socket
 * (1009) for anything larger, so a client cannot make the server buffer without bound.
 */
const HARD_FRAME_LIMIT_FACTOR = 16;
/** How long `close()` lets clients answer the closing handshake before dropping their sockets. */
const CLOSE_GRACE_MS = 1_000;

export class ClientApiServer {
  private readonly connections = new Set<ClientConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly wss: WebSocketServer;
  private readonly servers: Server[] = [];
  private readonly ticker: NodeJS.Timeout;
  private readonly log: Logger;
  private wsBound = 0;
  private wssBound: number | undefined;

  private constructor(private readonly o: ClientApiOptions) {
    this.log = o.log.child({ component: 'client-api' });
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
    try {
      api.wsBound = await api.listen(createServer(serveWebPhone), o.config.wsPort);
      if (o.config.tlsCert !== undefined && o.config.tlsKey !== undefined) {
        const tls = { cert: readFileSync(o.config.tlsCert), key: readFileSync(o.config.tlsKey) };
        api.wssBound = await api.listen(createHttpsServer(tls, serveWebPhone), o.config.wssPort);
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

  /** Stops accepting, closes every client (going away) and ends their sessions. */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    const closing = [...this.connections];
    for (const c of closing) c.shutdown();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closing.map((c) => c.closed)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
    ]);
    clearTimeout(timer);
    for (const c of this.connections) c.terminate();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.wss.close();
  }

  private listen(server: Server, port: number): Promise<number> {
    // Slow or stuck clients must not pin sockets before the upgrade.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
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

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const s = req.socket;
    const endpoint = {
      remoteAddress: s.remoteAddress ?? '',
      remotePort: s.remotePort ?? 0,
      localAddress: s.localAddress ?? '',
      localPort: s.localPort ?? 0,
    };
    const ip = displayAddress(endpoint.remoteAddress);
    const open = this.perIp.get(ip) ?? 0;
    if (open >= this.o.config.wsSessionsPerIp) {
      ws.on('error', () => undefined); // a client resetting this refused socket is of no interest
      // Refused in the protocol rather than at the HTTP upgrade, so the client learns why (SDK: WARN + info).
      ws.send(failFrame('ConnectionStatusEvent', `too many sessions from ${ip} (the limit is ${this.o.config.wsSessionsPerIp})`));
      ws.close(1008, 'too many sessions');
      return;
    }
    this.perIp.set(ip, open + 1);
    const limits = { maxFrameBytes: this.o.config.wsMaxFrameBytes, messagesPerSecond: this.o.config.wsMessagesPerSecond };
    const connection = new ClientConnection(ws, endpoint, this.o.gateway, limits, this.log);
    this.connections.add(connection);
    void connection.closed.then(() => {
      this.connections.delete(connection);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    });
  }
}
