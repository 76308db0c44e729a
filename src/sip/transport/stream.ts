/**
 * SIP over a stream (RFC 3261 §18): what TCP and TLS share. A listening server plus the connections either side
 * opened, all kept in one table keyed by the remote endpoint, so a message to a peer reuses whatever connection
 * already links us (§18.2.2; RFC 5923 makes the same point for reuse in both directions). Each connection has its
 * own Content-Length framer (§18.3); a connection that breaks framing is closed alone, the others carry on.
 * TcpTransport (./tcp.ts) and TlsTransport (./tls.ts) only say how a socket is opened and accepted.
 *
 * What an idle or slow peer may hold, each bounded so a flood of connections cannot use up the process's file
 * descriptors:
 * - `messageTimeoutMs`: a connection a peer opened must bring a whole message within this long, and every message
 *   begun on any connection must be complete this long after its first byte. A peer that sends nothing, only
 *   keep-alives, or trickles a message byte by byte is closed.
 * - `idleTimeoutMs`: a connection without any traffic either way (RFC 5626 §3.5.1 keep-alives count) for this long
 *   is closed — except the flow of a live registration: a REGISTER sent over a connection keeps it open for the
 *   `Expires` it asked for (RFC 5626 §3: the registrar reaches our Contact through the connection the REGISTER
 *   used; behind NAT no other way in exists), and each refresh extends that.
 * - `maxConnections`: connections accepted beyond it are closed at once.
 */
import type { Server, Socket } from 'node:net';
import { RepeatedWarnings, type Logger } from '../../log.ts';
import { SipError, SipParseError } from '../errors.ts';
import { getExpires, topVia } from '../message/headers.ts';
import type { SipMessage } from '../message/message.ts';
import { StreamFramer } from '../message/parse.ts';
import { serializeMessage } from '../message/serialize.ts';
import { endpointKey, type Endpoint, type Transport, type TransportSink } from './transport.ts';
import { viaDestination } from './via.ts';

/** How long connections may stay and how many a peer may open (TCP and TLS alike); every field has a default. */
export interface TcpLimits {
  /** Close a connection after this long without traffic either way, unless a registration holds it (default 10 min). */
  idleTimeoutMs?: number;
  /** A peer's connection must bring its first message, and every message must complete, within this long (default 10 s). */
  messageTimeoutMs?: number;
  /** Give up opening a connection after this long (default 10 s; the OS alone may take minutes). */
  connectTimeoutMs?: number;
  /** Accepted connections open at once; more are closed as they arrive (default 512). */
  maxConnections?: number;
}

export interface StreamTransportOptions extends TcpLimits {
  address: string;
  port: number;
  maxMessageBytes: number;
  sink: TransportSink;
  logger: Logger;
}

interface Connection {
  socket: Socket;
  remote: Endpoint;
  key: string;
  framer: StreamFramer;
  /** Framing failed: nothing more is read, the connection only lives on to carry a 400. */
  broken: boolean;
  /** Runs while a message is awaited (a peer's first) or begun and incomplete; closes the connection when it fires. */
  messageTimer: NodeJS.Timeout | undefined;
  /** A registration's flow: not closed for idleness before this time (ms since the epoch; 0 = not held). */
  heldUntil: number;
  /** Framed messages not yet handed up, oldest first: one is handed up per turn of the event loop (see `deliver`). */
  inbox: Buffer[];
}

/** After a graceful end(), how long a peer gets to close its side before the socket is destroyed. */
const LINGER_MS = 1000;
const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
const DEFAULT_MESSAGE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONNECTIONS = 512;
const PONG = '\r\n';

/**
 * Binds `server` (a net or tls Server) to `o.address:o.port`, capped at `o.maxConnections`, and returns the bound
 * endpoint; rejects with SipError SIP_TRANSPORT when the address cannot be bound.
 */
export async function bindServer(server: Server, o: StreamTransportOptions, protocol: StreamProtocol): Promise<Endpoint> {
  server.maxConnections = o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    server.close();
    throw new SipError('SIP_TRANSPORT', `${protocol} listen ${o.address}:${o.port} failed: ${String(err)}`, { cause: err });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new SipError('SIP_TRANSPORT', `${protocol} server has no address`);
  return { address: addr.address, port: addr.port };
}

export type StreamProtocol = 'TCP' | 'TLS';

/** A socket being opened: it carries SIP once it emits `ready` (`connect`; TLS: `secureConnect`, peer verified). */
export interface Opening {
  socket: Socket;
  ready: 'connect' | 'secureConnect';
}

export abstract class StreamTransport implements Transport {
  readonly reliable = true;
  private readonly connections = new Map<string, Connection>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  /** Every socket we own, indexed or not (connecting, lingering), so close() leaves nothing behind. */
  private readonly sockets = new Set<Socket>();
  private readonly idleTimeoutMs: number;
  private readonly messageTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  /** Peers that keep getting their connections closed are logged once per window, with a count. */
  protected readonly warnings: RepeatedWarnings;
  protected readonly log: Logger;
  private closed = false;

  /** `server` is undefined for a transport that only connects out (TLS without a certificate of its own). */
  protected constructor(
    readonly protocol: StreamProtocol,
    protected readonly server: Server | undefined,
    readonly local: Endpoint,
    private readonly o: StreamTransportOptions,
  ) {
    this.idleTimeoutMs = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.messageTimeoutMs = o.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.log = o.logger.child({ transport: protocol, local: `${local.address}:${local.port}` });
    this.warnings = new RepeatedWarnings(this.log);
    server?.on('error', (err) => this.log.warn({ err }, `${protocol} server error`));
    server?.on('drop', (peer) => {
      this.warnings.warn('max-connections', { remote: peer?.remoteAddress, maxConnections: server.maxConnections }, `SIP ${protocol} connection refused: too many open`);
    });
  }

  /** Starts opening a socket to `remote` (bound to `localAddress` when given); it may throw at once (a bad port). */
  protected abstract open(remote: Endpoint, localAddress: string | undefined): Opening;

  /** What a failed opening is called in the error the request fails with; TLS names the certificate problem. */
  protected connectFailure(err: Error): string {
    return err.message;
  }

  /** Open connections in the table (inbound and outbound); for tests and metrics. */
  get connectionCount(): number {
    return this.connections.size;
  }

  async send(message: SipMessage, remote: Endpoint, bytes?: Buffer): Promise<void> {
    if (this.closed) throw new SipError('SIP_TRANSPORT', `${this.protocol} transport is closed`);
    const data = bytes ?? serializeMessage(message);
    if (data.length > this.o.maxMessageBytes) {
      throw new SipError(
        'SIP_TRANSPORT',
        `message of ${data.length} bytes is larger than sipMaxMessageBytes (${this.o.maxMessageBytes})`,
      );
    }
    let conn = this.connections.get(endpointKey(remote));
    if (conn === undefined) {
      // RFC 3261 §18.2.2: "If the connection is no longer open, the server SHOULD open a connection to the IP
      // address in the received parameter, if present, using the port in the sent-by value". `remote` was the
      // peer's ephemeral source port, where nobody listens.
      const target = message.kind === 'response' ? reopenTarget(message) : remote;
      conn = this.connections.get(endpointKey(target)) ?? (await this.connect(target));
    }
    if (message.kind === 'request' && message.method === 'REGISTER') this.holdForRegistration(conn, message);
    await write(conn, data, this.protocol);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.warnings.flush();
    const server = this.server;
    const serverClosed = new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.connections.clear();
    await serverClosed;
  }

  /** A connection a peer opened (TLS: once its handshake is done). */
  protected accepted(socket: Socket): void {
    const { remoteAddress, remotePort } = socket;
    if (this.closed || remoteAddress === undefined || remotePort === undefined) {
      // Already reset by the peer before we saw it.
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const conn = this.adopt(socket, { address: remoteAddress, port: remotePort });
    // The peer opened it to send something: its first message is due now.
    this.awaitMessage(conn);
  }

  /** Opens (or joins the opening of) a connection to `remote`; concurrent sends share one attempt. */
  private connect(remote: Endpoint): Promise<Connection> {
    const key = endpointKey(remote);
    const pending = this.connecting.get(key);
    if (pending !== undefined) return pending;
    const attempt = new Promise<Connection>((resolve, reject) => {
      const what = `${this.protocol} connect to ${remote.address}:${remote.port}`;
      // Bind the source address when we listen on a specific one, so it matches the Via we advertise.
      const specific = this.local.address !== '0.0.0.0' && this.local.address !== '::';
      let opening: Opening;
      try {
        opening = this.open(remote, specific ? this.local.address : undefined);
      } catch (err) {
        // A bad port throws at once.
        reject(new SipError('SIP_TRANSPORT', `${what} failed: ${String(err)}`, { cause: err }));
        return;
      }
      const { socket, ready } = opening;
      this.sockets.add(socket);
      // TLS: the handshake is part of the opening and has the same bound.
      const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      const fail = (why: string, cause?: Error): void => {
        clearTimeout(timer);
        this.sockets.delete(socket);
        reject(new SipError('SIP_TRANSPORT', `${what} failed: ${why}`, { cause }));
      };
      const onError = (err: Error): void => fail(this.connectFailure(err), err);
      // close() destroys sockets without an error: the attempt must still end.
      const onClose = (): void => fail('transport closed');
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('close', onClose);
        if (this.closed) {
          socket.destroy();
          reject(new SipError('SIP_TRANSPORT', `${this.protocol} transport is closed`));
          return;
        }
        resolve(this.adopt(socket, remote));
      });
    }).finally(() => this.connecting.delete(key));
    this.connecting.set(key, attempt);
    return attempt;
  }

  private adopt(socket: Socket, remote: Endpoint): Connection {
    const conn: Connection = {
      socket,
      remote,
      key: endpointKey(remote),
      // RFC 5626 §3.5.1: a double-CRLF ping gets a single-CRLF pong, which tells the client its flow is alive.
      framer: new StreamFramer({ maxMessageBytes: this.o.maxMessageBytes, onPing: () => socket.write(PONG) }),
      broken: false,
      messageTimer: undefined,
      heldUntil: 0,
      inbox: [],
    };
    this.connections.set(conn.key, conn);
    this.log.debug({ remote: conn.key }, `${this.protocol} connection open`);
    socket.setTimeout(this.idleTimeoutMs);
    socket.on('timeout', () => {
      // A registration's flow stays; the next idle period looks again (Node re-arms the timeout on setTimeout).
      if (Date.now() < conn.heldUntil) return void socket.setTimeout(this.idleTimeoutMs);
      this.log.debug({ remote: conn.key }, `${this.protocol} connection idle, closing`);
      socket.destroy();
    });
    socket.on('error', (err) => this.log.debug({ err, remote: conn.key }, `${this.protocol} connection error`));
    socket.on('close', () => {
      this.clearMessageTimer(conn);
      this.sockets.delete(socket);
      this.forget(conn);
      this.log.debug({ remote: conn.key }, `${this.protocol} connection closed`);
    });
    socket.on('data', (chunk: Buffer) => this.data(conn, chunk));
    return conn;
  }

  private data(conn: Connection, chunk: Buffer): void {
    if (conn.broken) return;
    let messages: Buffer[];
    try {
      messages = conn.framer.push(chunk);
    } catch (err) {
      // §18.3: without a trustworthy Content-Length the stream cannot be resynchronised; this connection ends.
      conn.broken = true;
      conn.socket.pause();
      const parseError = err instanceof SipParseError ? err : new SipParseError(String(err));
      this.log.debug({ remote: conn.key, reason: parseError.reason }, `${this.protocol} framing error, closing connection`);
      void this.o.sink
        .framingError(parseError, conn.remote, this)
        .catch(() => undefined)
        .finally(() => this.end(conn));
      return;
    }
    // A completed message ends the wait; bytes of the next one start a new one. Trickling bytes never extend it.
    if (messages.length > 0) this.clearMessageTimer(conn);
    if (conn.framer.partialBytes > 0) this.awaitMessage(conn);
    if (messages.length === 0) return;
    const idle = conn.inbox.length === 0;
    conn.inbox.push(...messages);
    if (idle) this.deliver(conn);
  }

  /**
   * Hands up the oldest framed message, and the next one only in a later turn of the event loop, as UDP datagrams
   * come. A peer's messages sent back to back often arrive in one chunk (a REFER's 202 and the first NOTIFY of its
   * subscription, RFC 3515 §2.4.4); what the first one sets off continues in promise callbacks (the transaction
   * user awaiting a final response) and must be done before the second is handled, or the two are seen reversed.
   */
  private deliver(conn: Connection): void {
    const message = conn.inbox.shift();
    if (message === undefined || this.closed) return;
    try {
      this.o.sink.received(message, conn.remote, this);
    } finally {
      // While the inbox holds messages, one delivery is always scheduled: data() only starts one on an empty inbox.
      if (conn.inbox.length > 0) setImmediate(() => this.deliver(conn));
    }
  }

  /** Starts the message timeout unless it already runs. */
  private awaitMessage(conn: Connection): void {
    if (conn.messageTimer !== undefined) return;
    conn.messageTimer = setTimeout(() => {
      conn.messageTimer = undefined;
      const address = conn.remote.address;
      this.warnings.warn(
        `message-timeout|${address}`,
        { remote: conn.key, partialBytes: conn.framer.partialBytes, messageTimeoutMs: this.messageTimeoutMs },
        `SIP ${this.protocol} connection closed: no complete message in time`,
      );
      conn.socket.destroy();
    }, this.messageTimeoutMs);
    conn.messageTimer.unref();
  }

  private clearMessageTimer(conn: Connection): void {
    if (conn.messageTimer !== undefined) clearTimeout(conn.messageTimer);
    conn.messageTimer = undefined;
  }

  /**
   * A REGISTER going out over `conn` makes it the registration's flow for the lifetime it asks for (RFC 3261 §10.3
   * step 7: "The registrar MAY choose an expiration less than the requested expiration interval", never more, so
   * the refresh comes within it); `Expires: 0` (§10.2.2) releases it.
   */
  private holdForRegistration(conn: Connection, register: SipMessage): void {
    const expires = getExpires(register) ?? 0;
    conn.heldUntil = expires > 0 ? Date.now() + expires * 1000 : 0;
  }

  /** Graceful close: flush what is queued (a 400, say), then destroy if the peer does not close its side. */
  private end(conn: Connection): void {
    this.clearMessageTimer(conn);
    this.forget(conn);
    conn.socket.end();
    setTimeout(() => conn.socket.destroy(), LINGER_MS).unref();
  }

  private forget(conn: Connection): void {
    // A newer connection may have taken the key meanwhile; only remove our own entry.
    if (this.connections.get(conn.key) === conn) this.connections.delete(conn.key);
  }
}

function reopenTarget(response: SipMessage): Endpoint {
  try {
    return viaDestination(topVia(response), false);
  } catch (err) {
    throw new SipError('SIP_TRANSPORT', `connection gone and the response has no usable Via: ${String(err)}`, { cause: err });
  }
}

function write(conn: Connection, data: Buffer, protocol: StreamProtocol): Promise<void> {
  const { socket, remote } = conn;
  return new Promise<void>((resolve, reject) => {
    const fail = (err: unknown): void =>
      reject(new SipError('SIP_TRANSPORT', `${protocol} send to ${remote.address}:${remote.port} failed: ${String(err)}`, { cause: err }));
    if (socket.destroyed || !socket.writable) {
      fail('connection closed');
      return;
    }
    socket.write(data, (err) => (err ? fail(err) : resolve()));
  });
}
