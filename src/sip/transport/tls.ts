/**
 * SIP over TLS (RFC 3261 §26.2, RFC 5630): TLS sockets under the stream transport of ./stream.ts, so framing,
 * connection reuse, keep-alive pongs (RFC 5626 §3.5.1) and the limits of TCP apply unchanged.
 *
 * Outgoing connections verify the peer's certificate (RFC 5922 §7) against the system's CA store plus an optional
 * extra CA file, and against the host name the next hop was given by (`Endpoint.host`), which also goes out as SNI
 * (RFC 6066 §3; never for an IP address, which the certificate must then name itself). A failed check fails the
 * request with the reason named: `certificate has expired`, `unknown CA`, `host mismatch`.
 *
 * The listener exists only with a certificate and key of our own; without them the transport still connects out
 * (a registrar then reaches us over the registration's connection, see the RFC 5923 `alias` in ./via.ts).
 * `setCredentials` swaps certificate, key and CAs (SIGHUP): new connections use them, open ones keep theirs.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  checkServerIdentity, connect, createSecureContext, createServer, rootCertificates, type SecureContext, type Server, type TLSSocket,
} from 'node:tls';
import { SipError } from '../errors.ts';
import { bindServer, StreamTransport, type Opening, type StreamTransportOptions } from './stream.ts';
import type { Endpoint } from './transport.ts';

/** PEM texts of our identity and of the CAs trusted beyond the system's. */
export interface TlsCredentials {
  /** Our certificate chain: the listener's, and offered to a peer that asks for a client certificate. */
  cert?: Buffer;
  key?: Buffer;
  /** CAs trusted in addition to the system store (a private PBX's CA). */
  extraCa?: Buffer;
}

export interface TlsTransportOptions extends StreamTransportOptions {
  credentials: TlsCredentials;
  /** A connection, either way, must complete its TCP connect and TLS handshake within this long (ms; default 10 s). */
  handshakeTimeoutMs?: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export class TlsTransport extends StreamTransport {
  /**
   * The outgoing connections' context, made at the first connection when the credentials hold nothing of ours: the
   * system's CA store parsed into it is about 1 MiB (native) plus its PEM text, which a server that never dials TLS
   * should not hold.
   */
  private context: SecureContext | undefined;
  private credentials: TlsCredentials;

  private constructor(server: Server | undefined, local: Endpoint, o: TlsTransportOptions, context: SecureContext | undefined) {
    super('TLS', server, local, o);
    this.credentials = o.credentials;
    this.context = context;
  }

  /**
   * Listens on `o.address:o.port` when the credentials hold a certificate and key; else only connects out, and
   * advertises `o.port` (5061 for 0). Rejects with SipError SIP_TRANSPORT on bad credentials or a port in use.
   */
  static async listen(options: TlsTransportOptions): Promise<TlsTransport> {
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    // Outgoing, the handshake is part of opening the connection: the one bound covers both.
    const o = { ...options, connectTimeoutMs: options.connectTimeoutMs ?? handshakeTimeoutMs };
    // Before binding: bad credentials would otherwise only show at the first handshake.
    const context = checkedContext(o.credentials);
    const { cert, key } = o.credentials;
    if (cert === undefined || key === undefined) {
      return new TlsTransport(undefined, { address: o.address, port: o.port === 0 ? 5061 : o.port }, o, context);
    }
    const server = createServer({ ...secureOptions(o.credentials), handshakeTimeout: handshakeTimeoutMs });
    const t = new TlsTransport(server, await bindServer(server, o, 'TLS'), o, context);
    server.on('secureConnection', (socket) => t.accepted(socket));
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // With a listener for this event Node leaves the socket open: a handshake timeout would close nothing.
      socket.destroy();
      const remote = socket.remoteAddress ?? 'unknown';
      t.warnings.warn(`handshake|${remote}`, { remote, reason: err.code ?? err.message }, 'SIP TLS handshake failed');
    });
    return t;
  }

  /** Whether it accepts connections (it has a certificate and key); else it only connects out. */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Replaces certificate, key and extra CAs; throws SipError SIP_TRANSPORT (nothing changed) when they are bad. */
  setCredentials(credentials: TlsCredentials): void {
    const context = checkedContext(credentials);
    const server = this.server as Server | undefined;
    // Without a listener there is nothing to hand the certificate to: listening needs a restart.
    if (server !== undefined && credentials.cert !== undefined && credentials.key !== undefined) {
      server.setSecureContext(secureOptions(credentials));
    }
    this.context = context;
    this.credentials = credentials;
  }

  protected open(remote: Endpoint, localAddress: string | undefined): Opening {
    const host = remote.host ?? remote.address;
    const socket = connect({
      host: remote.address,
      port: remote.port,
      secureContext: (this.context ??= secureContext(this.credentials)),
      // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"".
      ...(isIP(host) === 0 && { servername: host }),
      // RFC 5922 §7.2: the certificate must name the host we meant to reach, whatever address it resolved to.
      checkServerIdentity: (_address, cert) => checkServerIdentity(host, cert),
      ...(localAddress !== undefined && { localAddress }),
    });
    socket.setNoDelay(true);
    return { socket, ready: 'secureConnect' };
  }

  protected override connectFailure(err: NodeJS.ErrnoException): string {
    return describeVerifyError(err);
  }
}

/** OpenSSL verify codes (openssl-verify(1)) that mean the chain ends at no CA we trust. */
const UNKNOWN_CA = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** A TLS failure in the words the issue and the docs use, with OpenSSL's own text after them. */
export function describeVerifyError(err: NodeJS.ErrnoException): string {
  if (err.code === 'CERT_HAS_EXPIRED') return 'certificate has expired';
  if (err.code !== undefined && UNKNOWN_CA.has(err.code)) return `unknown CA (${err.message})`;
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `host mismatch (${err.message})`;
  return err.message;
}

/** Reads the PEM files of the configuration; throws SipError SIP_TRANSPORT naming the file that cannot be read. */
export function readTlsCredentials(files: { cert?: string; key?: string; caFile?: string }): TlsCredentials {
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new SipError('SIP_TRANSPORT', `cannot read the TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const cert = read('certificate', files.cert);
  const key = read('key', files.key);
  const extraCa = read('CA file', files.caFile);
  return { ...(cert && { cert }), ...(key && { key }), ...(extraCa && { extraCa }) };
}

function secureOptions(c: TlsCredentials): { cert?: Buffer; key?: Buffer; ca: (string | Buffer)[] } {
  return { ...(c.cert && { cert: c.cert }), ...(c.key && { key: c.key }), ca: [...systemCaCertificates(), ...(c.extraCa ? [c.extraCa] : [])] };
}

/**
 * The context of `c` made now when `c` holds a file of the user's (which may be bad: better told at start or at
 * SIGHUP than at the first handshake); undefined for none, to be made when first needed.
 */
function checkedContext(c: TlsCredentials): SecureContext | undefined {
  return c.cert === undefined && c.key === undefined && c.extraCa === undefined ? undefined : secureContext(c);
}

function secureContext(c: TlsCredentials): SecureContext {
  try {
    return createSecureContext(secureOptions(c));
  } catch (err) {
    // A PEM that does not parse, or a key that does not belong to the certificate.
    throw new SipError('SIP_TRANSPORT', `bad TLS certificate, key or CA file: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Bundles of the system's CA store, the distributions' paths in the order OpenSSL-based tools look; `SSL_CERT_FILE`
 * first, as OpenSSL itself honours it.
 */
const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];
let systemCa: readonly string[] | undefined;

/** The system's trusted CAs (PEM), read once; Node's bundled Mozilla roots where no system bundle exists. */
function systemCaCertificates(): readonly string[] {
  if (systemCa !== undefined) return systemCa;
  const env = process.env['SSL_CERT_FILE'];
  for (const path of env ? [env, ...SYSTEM_CA_FILES] : SYSTEM_CA_FILES) {
    try {
      systemCa = [readFileSync(path, 'utf8')];
      return systemCa;
    } catch {
      // Not this distribution's path: try the next.
    }
  }
  systemCa = rootCertificates;
  return systemCa;
}
