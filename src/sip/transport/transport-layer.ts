/**
 * The transport layer of RFC 3261 §18 above the individual transports: it owns the UDP, TCP and TLS transports, parses
 * what they frame, applies the receive rules once for all of them and hands every message to one handler (the
 * transaction layer).
 *
 * Received requests (§18.2.1): `received` / `rport` stamped on the top Via (RFC 3581 §4). Received responses
 * (§18.1.2): dropped unless the top Via's sent-by is one we put there. Unparsable input: a request the parser got
 * far enough into (`SipParseError.partial` with a Via) is answered `400 <reason>` (RFC 3261 §8.2, §21.4.1), anything
 * else is dropped with a debug log. Nothing received can throw out of here or crash the process.
 *
 * Sending stays with the transports (`Transport.send`); this layer tells callers which transport and endpoint to
 * use: `transportFor` + `addVia` for requests, `responseDestination` for responses.
 *
 * Message size: a message over `maxMessageBytes` (or 65,507 bytes on UDP) is refused on send with SipError SIP_TRANSPORT.
 * The RFC 3261 §18.1.1 move of requests over 1300 bytes from UDP to TCP is not made: it changes the Via and the
 * transaction's timers after the fact, and needs a fallback to UDP for the many peers that do not listen on TCP;
 * callhook's requests (REGISTER, MESSAGE, INVITE with a plain-RTP SDP) stay well under it.
 */
import { isIP } from 'node:net';
import { firstNonLoopbackIPv4 } from '../../host-address.ts';
import { redactSipText, type Logger } from '../../log.ts';
import { SipError, SipParseError } from '../errors.ts';
import { createResponse, reasonPhrase } from '../message/builders.ts';
import { serializeMessage } from '../message/serialize.ts';
import { formatVia, topVia } from '../message/headers.ts';
import { splitList, type SipMessage, type SipRequest } from '../message/message.ts';
import { parseMessage } from '../message/parse.ts';
import type { Via } from '../message/types.ts';
import type { TcpLimits } from './stream.ts';
import { TcpTransport } from './tcp.ts';
import { TlsTransport, type TlsCredentials } from './tls.ts';
import {
  normalizeAddress,
  type Endpoint,
  type Received,
  type Transport,
  type TransportProtocol,
  type TransportSink,
} from './transport.ts';
import { UdpTransport } from './udp.ts';
import { defaultPort, requestVia, stampReceived, viaDestination } from './via.ts';

export interface ListenSpec {
  protocol: 'UDP' | 'TCP' | 'TLS';
  /** Bind address: a specific IPv4/IPv6 address, or 0.0.0.0 / :: for all. */
  address: string;
  /** 0 lets the OS choose (tests). */
  port: number;
  /**
   * The host our Via sent-by advertises for this transport (config `localIp` / `publicIp`). Default: the bound
   * address, or this host's first non-loopback IPv4 when bound to a wildcard.
   */
  advertise?: string;
}

export interface TransportLayerOptions {
  listen: readonly ListenSpec[];
  /** config `sipMaxMessageBytes`: larger datagrams are dropped, larger stream messages close their connection. */
  maxMessageBytes: number;
  logger: Logger;
  /** Timeouts and the connection cap of the TCP and TLS transports (config `sipTcp*`). */
  tcp?: TcpLimits;
  /** Certificate, key and extra CAs of the TLS transports, and their handshake timeout (config `sipTls*`). */
  tls?: TlsSettings;
}

export interface TlsSettings {
  credentials: TlsCredentials;
  handshakeTimeoutMs?: number;
}

export type MessageHandler = (received: Received) => void;

/**
 * Sees every message that crosses the layer, both ways, with its bytes: after parsing (`in`) or just before a
 * transport sends it (`out`, retransmissions included; serialised once, for the observers and the socket). A narrow, generic tap: the stack knows nothing of who
 * listens (the gateway's per-session timeline does). It must not throw and must not keep the work it does long.
 */
export type MessageObserver = (direction: 'in' | 'out', message: SipMessage, remote: Endpoint, raw: Buffer) => void;

/** Longest reason phrase we echo in a 400: parser reasons are short; this bounds what a peer can make us send. */
const MAX_REASON_LENGTH = 200;

export class TransportLayer {
  private readonly entries: { transport: Transport; sentBy: Endpoint }[] = [];
  private handler: MessageHandler | undefined;
  private readonly observers = new Set<MessageObserver>();
  private readonly log: Logger;
  private readonly sink: TransportSink = {
    received: (raw, remote, transport) => this.received(raw, remote, transport),
    framingError: (error, remote, transport) => this.framingError(error, remote, transport),
  };

  private constructor(private readonly o: TransportLayerOptions) {
    this.log = o.logger.child({ component: 'sip-transport' });
  }

  /** Binds every transport of `listen`; if one fails the others are closed again and SipError SIP_TRANSPORT is thrown. */
  static async start(o: TransportLayerOptions): Promise<TransportLayer> {
    const layer = new TransportLayer(o);
    try {
      for (const spec of o.listen) await layer.listen(spec);
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  get transports(): readonly Transport[] {
    return this.entries.map((e) => e.transport);
  }

  /** The one receiver of every parsed message (the transaction layer). A later call replaces the handler. */
  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Adds a tap on every message in and out (MessageObserver); returns the function that removes it. */
  observe(observer: MessageObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * The transport for a request to `address` over `protocol`: the first one of that protocol and the address's
   * family. Throws SipError SIP_TRANSPORT when there is none (e.g. `transport=tcp` but only UDP configured).
   */
  transportFor(protocol: TransportProtocol, address: string): Transport {
    const family = isIP(normalizeAddress(address));
    const candidates = this.entries.filter((e) => e.transport.protocol === protocol);
    const match =
      candidates.find((e) => family === 0 || isIP(e.transport.local.address) === family) ?? candidates[0];
    if (match === undefined) throw new SipError('SIP_TRANSPORT', `no ${protocol} transport is configured`);
    return match.transport;
  }

  /** The sent-by (host and port) this layer advertises for `transport` in Via and Contact. */
  sentBy(transport: Transport): Endpoint {
    const entry = this.entries.find((e) => e.transport === transport);
    if (entry === undefined) throw new Error('transport does not belong to this layer');
    return entry.sentBy;
  }

  /**
   * Puts our Via on top of a request about to leave over `transport` (RFC 3261 §8.1.1.7, §18.1.1): our sent-by,
   * `branch` (a fresh z9hG4bK one when omitted) and an empty `rport` (RFC 3581 §3). Returns the Via.
   */
  addVia(request: SipRequest, transport: Transport, branch?: string): Via {
    const via = requestVia(transport.protocol, this.sentBy(transport), branch);
    request.headers.prepend('Via', formatVia(via));
    return via;
  }

  /**
   * Where the response to a received request goes (RFC 3261 §18.2.2): back over the same connection on reliable
   * transports (the connection's remote endpoint; TcpTransport reopens towards the Via if it has closed), else from
   * the top Via, which `received` / `rport` stamped on arrival make the request's source when the client asked for
   * rport (RFC 3581 §4). Send with `received.transport`, so the response leaves from the address the request
   * reached (RFC 3581 §4 needs that for NAT).
   */
  responseDestination(received: Pick<Received, 'message' | 'transport' | 'remote'>): Endpoint {
    if (received.transport.reliable) return received.remote;
    return viaDestination(topVia(received.message));
  }

  /**
   * New certificate, key and extra CAs for every TLS transport (SIGHUP): new connections use them. Throws SipError
   * SIP_TRANSPORT, changing nothing, when they are bad.
   */
  setTlsCredentials(credentials: TlsCredentials): void {
    for (const t of this.transports) if (t instanceof TlsTransport) t.setCredentials(credentials);
  }

  async close(): Promise<void> {
    const all = this.entries.splice(0);
    await Promise.all(all.map((e) => e.transport.close()));
  }

  private async listen(spec: ListenSpec): Promise<void> {
    const common = {
      address: spec.address,
      port: spec.port,
      maxMessageBytes: this.o.maxMessageBytes,
      sink: this.sink,
      logger: this.o.logger,
    };
    const stream = { ...this.o.tcp, ...common };
    const transport =
      spec.protocol === 'UDP'
        ? await UdpTransport.bind(common)
        : spec.protocol === 'TCP'
          ? await TcpTransport.listen(stream)
          : await TlsTransport.listen({ ...stream, ...(this.o.tls ?? { credentials: {} }) });
    const wildcard = spec.address === '0.0.0.0' || spec.address === '::';
    const host = spec.advertise ?? (wildcard ? (firstNonLoopbackIPv4() ?? '127.0.0.1') : transport.local.address);
    this.tapSends(transport);
    this.entries.push({ transport, sentBy: { address: host, port: transport.local.port } });
    this.log.info({ protocol: transport.protocol, local: transport.local, advertise: host }, 'SIP transport listening');
  }

  /**
   * Sending stays with the transports, whose callers hold them directly: the tap wraps the instance's `send` (the
   * same object, so identity checks such as `sentBy` still hold), and costs one size check while nobody observes.
   * Observed, a message is serialised here, once for the observers and the transport.
   */
  private tapSends(transport: Transport): void {
    const send = transport.send.bind(transport);
    transport.send = (message, remote) => {
      if (this.observers.size === 0) return send(message, remote);
      const bytes = serializeMessage(message);
      this.notify('out', message, remote, bytes);
      return send(message, remote, bytes);
    };
  }

  private notify(direction: 'in' | 'out', message: SipMessage, remote: Endpoint, raw: Buffer): void {
    for (const observe of this.observers) {
      try {
        observe(direction, message, remote, raw);
      } catch (err) {
        this.log.error({ err }, 'SIP message observer threw');
      }
    }
  }

  private received(raw: Buffer, remote: Endpoint, transport: Transport): void {
    try {
      this.dispatch(raw, remote, transport);
    } catch (err) {
      // A bug below, not bad input (bad input is handled in dispatch); the server keeps serving.
      this.log.error({ err, from: `${remote.address}:${remote.port}` }, 'SIP message handling failed');
    }
  }

  private dispatch(raw: Buffer, remote: Endpoint, transport: Transport): void {
    // RFC 5626 §3.5.1 keep-alives (CRLF / CRLFCRLF) and stray line ends are not messages.
    if (isOnlyLineEnds(raw)) return;
    if (this.log.isLevelEnabled('trace')) {
      this.log.trace({ from: `${remote.address}:${remote.port}`, raw: redactSipText(raw.toString('utf8')) }, 'SIP in');
    }
    let message: SipMessage;
    let via: Via;
    try {
      message = parseMessage(raw, { maxMessageBytes: this.o.maxMessageBytes });
      // The top Via decides where a response goes or which transaction a response is for: an unreadable one
      // makes the message unusable, as if the parser had refused it.
      via = topVia(message);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      void this.rejectUnparsable(err, remote, transport);
      return;
    }
    if (message.kind === 'request') {
      this.stampTopVia(message, via, remote);
    } else if (!this.isOurSentBy(via)) {
      // RFC 3261 §18.1.2: "If the value of the "sent-by" parameter in that header field value does not
      // correspond to a value that the client transport is configured to insert into requests, the response MUST
      // be silently discarded."
      this.log.debug({ from: `${remote.address}:${remote.port}` }, 'response for another sent-by dropped');
      return;
    }
    if (this.observers.size > 0) this.notify('in', message, remote, raw);
    const handler = this.handler;
    if (handler === undefined) {
      this.log.debug('no SIP message handler registered; message dropped');
      return;
    }
    try {
      handler({ message, transport, remote, raw });
    } catch (err) {
      this.log.error({ err }, 'SIP message handler threw');
    }
  }

  private framingError(error: SipParseError, remote: Endpoint, transport: Transport): Promise<void> {
    return this.rejectUnparsable(error, remote, transport).catch((err: unknown) => {
      this.log.error({ err }, 'answering a framing error failed');
    });
  }

  /**
   * RFC 3261 §8.2 / §21.4.1: a request we cannot parse gets 400 with the reason, when the parser read enough of it
   * (a Via to answer to) and it is not an ACK (§17: ACKs are never answered); a SIP version other than 2.0 gets 505
   * (§21.5.6, RFC 4475 §3.1.2.16). Everything else is dropped.
   */
  private async rejectUnparsable(error: SipParseError, remote: Endpoint, transport: Transport): Promise<void> {
    const partial = error.partial;
    const from = `${remote.address}:${remote.port}`;
    if (partial === undefined || partial.kind !== 'request' || partial.method === 'ACK') {
      this.log.debug({ from, reason: error.reason }, 'unparsable SIP message dropped');
      return;
    }
    try {
      this.stampTopVia(partial, topVia(partial), remote);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.log.debug({ from, reason: error.reason }, 'unparsable SIP request without a usable Via dropped');
      return;
    }
    const response =
      error.code === 'SIP_VERSION_NOT_SUPPORTED'
        ? createResponse(partial, 505, reasonPhrase(505))
        : createResponse(partial, 400, sanitizeReason(error.reason));
    const destination = this.responseDestination({ message: response, transport, remote });
    this.log.debug({ from, reason: error.reason, status: response.status }, 'unparsable SIP request answered');
    try {
      await transport.send(response, destination);
    } catch (err) {
      this.log.debug({ err, from }, `sending ${response.status} failed`);
    }
  }

  /**
   * Rewrites the top Via of a received request with `received` / `rport` (RFC 3261 §18.2.1, RFC 3581 §4); `via` is
   * that Via as parsed by the caller, so it is read once per message.
   */
  private stampTopVia(request: SipRequest, via: Via, remote: Endpoint): void {
    if (!stampReceived(via, remote)) return;
    const fields = request.headers.fields;
    const i = fields.findIndex((f) => f.name === 'Via');
    const field = fields[i]!;
    // The top Via may share its line with others (`Via: a, b`, RFC 3261 §7.3.1); only the first value changes.
    const rest = splitList(field.value).slice(1);
    fields[i] = { name: 'Via', value: [formatVia(via), ...rest].join(', ') };
  }

  private isOurSentBy(via: Via): boolean {
    const host = normalizeAddress(via.host);
    const port = via.port ?? defaultPort(via.transport);
    return this.entries.some((e) => e.sentBy.port === port && normalizeAddress(e.sentBy.address) === host);
  }
}

function isOnlyLineEnds(raw: Buffer): boolean {
  for (const b of raw) if (b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/** A Reason-Phrase must be UTF-8 text without CR/LF (RFC 3261 §25.1); parser reasons may quote input bytes. */
function sanitizeReason(reason: string): string {
  const clean = reason.replace(/[\u0000-\u001f\u007f\ufffd]/g, '?');
  return clean.length > MAX_REASON_LENGTH ? clean.slice(0, MAX_REASON_LENGTH) : clean;
}
