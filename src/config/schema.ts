/**
 * The configuration (docs/configuration.md) as one zod schema: every key, its default and what is allowed.
 * Unknown keys are refused (`strict`) so a typo stops the server instead of being silently ignored.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { firstNonLoopbackIPv4 } from '../host-address.ts';
import { VERSION } from '../version.ts';

const port = z.number().int().min(1).max(65535);

/** A web origin as browsers send it (RFC 6454 §6.2): `scheme://host[:port]`, lower case, no default port, no path. */
function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}
const portOrZero = z.number().int().min(0).max(65535); // 0 = let the OS choose (tests)

/** The `codecs` names calls can use: the two G.711 laws, G.722 and RFC 4733 DTMF. */
const SUPPORTED_CODECS: ReadonlySet<string> = new Set(['pcmu', 'pcma', 'g722', 'telephone-event']);

export const configSchema = z
  .object({
    wsPort: portOrZero.default(8080),
    wssPort: portOrZero.default(8443),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    adminHost: z.string().min(1).default('127.0.0.1'),
    adminPort: portOrZero.default(8081),
    /**
     * A connection to the admin port must send its request headers within this long (ms) of connecting (a kept-alive
     * one: of starting its next request), else 408 and closed: this closes a connection that never sends a byte.
     */
    adminHeadersTimeoutMs: z.number().int().min(100).default(10_000),
    /** The whole request, body included, must arrive within this long (ms), else 408 and closed. */
    adminRequestTimeoutMs: z.number().int().min(100).default(30_000),
    /** A kept-alive admin connection with no new request for this long (ms) is closed. */
    adminIdleTimeoutMs: z.number().int().min(1000).default(5_000),
    /**
     * Open connections to the admin port; more are closed at once. Above the 256 the hook engine may open to the
     * built-in EchoApp, which the admin port serves.
     */
    adminMaxConnections: z.number().int().min(1).default(300),
    /** Per-session timelines kept after their session ended, the newest (docs/console.md); 0 records none at all. */
    timelineKeepEnded: z.number().int().min(0).max(10_000).default(200),
    /** Steps kept per session timeline; past it the oldest go (and are counted). */
    timelineMaxSteps: z.number().int().min(10).max(100_000).default(500),
    /**
     * Bytes of raw text (SIP messages, hook bodies) a session timeline keeps; past it the oldest texts go first
     * (their steps stay, marked). The default holds a registration with one call (docs/benchmarks.md).
     */
    timelineMaxBytes: z.number().int().min(0).max(16 * 2 ** 20).default(16_384),
    /** Server-Sent Events streams open at once on the admin port (the console's live updates); more get 503. */
    adminMaxEventStreams: z.number().int().min(1).max(1000).default(20),
    sipPort: portOrZero.default(5060),
    /** SIP over TLS (RFC 3261 §26.2): the listener's port, when sipTlsCert and sipTlsKey are set (RFC 3263: 5061). */
    sipTlsPort: portOrZero.default(5061),
    /** PEM certificate chain of the SIP TLS listener, also offered to SIP servers that ask for a client certificate. Re-read on SIGHUP. */
    sipTlsCert: z.string().min(1).optional(),
    /** PEM private key of sipTlsCert. Re-read on SIGHUP. */
    sipTlsKey: z.string().min(1).optional(),
    /** PEM file of CAs trusted for SIP servers' certificates in addition to the system's CA store. Re-read on SIGHUP. */
    sipTlsCaFile: z.string().min(1).optional(),
    /** A SIP TLS connection, either way, must complete its TCP connect and TLS handshake within this long (ms). */
    sipTlsHandshakeTimeoutMs: z.number().int().min(100).default(10_000),
    /** Transport towards SIP servers unless a client asks for another. */
    sipTransport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
    /**
     * SRTP towards SIP (RFC 4568 SDES, RFC 3711) unless a connection's `sipSrtp` says otherwise: `off` plain RTP,
     * `optional` best-effort (RTP/AVP offers with a=crypto; a plain peer gets plain RTP), `required` (RTP/SAVP; a
     * peer without SDES fails the call `No common crypto`).
     */
    sipSrtp: z.enum(['off', 'optional', 'required']).default('off'),
    localIp: z.string().min(1).optional(),
    publicIp: z.string().min(1).optional(),
    rtpPortMin: port.default(30000),
    rtpPortMax: port.default(34999),
    webrtcPortMin: port.default(35000),
    webrtcPortMax: port.default(39999),
    /**
     * One UDP port for every browser's media (single-port mode, ICE UDP mux): all ICE, DTLS and SRTP of the browser
     * legs on this port, told apart by ICE ufrag, instead of a port pair per call from webrtcPortMin..Max. One
     * firewall rule, and less CPU per packet (one socket read rather than a poll of every call's socket). Bound at
     * start and held until stop; libdatachannel only. Unset: a pair per call.
     */
    webrtcPort: port.optional(),
    /** No RTP from the SIP side of an established call for this long (ms) ends it: `Failed by RTP activity`. 0: never. */
    rtpInactivityTimeoutMs: z.number().int().min(0).default(60_000),
    /**
     * The WebRTC implementation of the browser legs: native (callhook's own: ICE-lite in TypeScript, DTLS-SRTP and
     * SRTP in C on Node's event loop, built by `npm ci`), libdatachannel (C++, node-datachannel, its own threads) or
     * werift (pure TypeScript, no native code). All three pass the same tests; per relayed packet native takes about
     * two thirds of libdatachannel's CPU, which takes about two thirds of werift's (docs/benchmarks.md).
     */
    webrtcEngine: z.enum(['native', 'libdatachannel', 'werift']).default('native'),
    /** A browser's ICE and DTLS must complete within this long (ms) of callhook's SDP, else `Failed by ICE error`. */
    webrtcConnectTimeoutMs: z.number().int().min(100).default(30_000),
    /** Calls one client session may have at once, outgoing and incoming: one more is refused (each holds two port pairs). */
    maxCallsPerSession: z.number().int().min(1).default(4),
    /** Calls the sessions of one client IP address may have at once: one more is refused. */
    maxCallsPerIp: z.number().int().min(1).default(100),
    /** Calls the clients of one IP address may place per minute (a burst of as many is allowed): more are refused. */
    callsPerIpPerMinute: z.number().int().min(1).default(120),
    registerExpires: z.number().int().min(1).max(86400 * 7).default(3600),
    userAgent: z.string().min(1).default(`callhook/${VERSION}`),
    /**
     * The SIP side's codecs in order of preference: pcmu, pcma, g722 and telephone-event (RFC 4733). Another name
     * (opus, …: Opus is the browser side's codec, chosen by codecPolicy) is refused rather than silently dropped, and
     * so is a list without an audio codec, with which every call would fail. G.722 comes after G.711 by default: a
     * browser offers all three, and an outgoing call's SIP offer carries the one the browser got first.
     */
    codecs: z
      .string()
      .regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, 'a comma list of codec names, e.g. "pcmu,pcma,g722,telephone-event"')
      .superRefine((list, ctx) => {
        const names = list.split(',');
        const unsupported = names.filter((n) => !SUPPORTED_CODECS.has(n));
        if (unsupported.length > 0) {
          ctx.addIssue({ code: 'custom', message: `${unsupported.join(', ')} not a SIP-side codec callhook has: the codecs are pcmu, pcma, g722 and telephone-event (Opus is the browser side's, see codecPolicy)` });
        } else if (!names.some((n) => n !== 'telephone-event')) {
          ctx.addIssue({ code: 'custom', message: 'needs pcmu, pcma or g722: calls relay audio in one of them' });
        }
      })
      .default('pcmu,pcma,g722,telephone-event'),
    /**
     * When calls transcode (docs/configuration.md "Codecs and transcoding"): `passthrough` relays a codec both sides
     * have untouched and transcodes to Opus towards the browser only when there is none; `opus-to-browser` always
     * gives the browser Opus; `fail` never transcodes (`No common codecs`). A call hook's answer may set it per call.
     */
    codecPolicy: z.enum(['passthrough', 'opus-to-browser', 'fail']).default('passthrough'),
    dataDir: z.string().min(1).default('./data'),
    restRequestTimeoutMs: z.number().int().min(1).default(15000),
    restRetryCount: z.number().int().min(0).max(100).default(3),
    restEventMaxAgeMs: z.number().int().min(1).default(86_400_000),
    disableRest: z.boolean().default(false),
    /**
     * Bytes kept of each request and response body in the hook log (secrets redacted first; a longer body is cut and
     * says so). 0 keeps no bodies. At most 10,000 rows with two bodies each: the default bounds the log near 80 MiB.
     */
    hookLogMaxBodyBytes: z.number().int().min(0).max(1_048_576).default(4096),
    /** Call detail records older than this many days are deleted (docs/admin.md "Call detail records"). */
    cdrMaxAgeDays: z.number().int().min(1).default(90),
    /** At most this many call detail records are kept, the newest; older ones are deleted as calls end. */
    cdrMaxCount: z.number().int().min(1).default(100_000),
    /**
     * Where apps, the event outbox, the hook log, wills and call records live: `sqlite` (a file in dataDir, one
     * node) or `postgres` (postgresUrl; shared by several nodes, docs/scaling.md).
     */
    store: z.enum(['sqlite', 'postgres']).default('sqlite'),
    /** With store "postgres": postgres://user:password@host:port/database. */
    postgresUrl: z
      .string()
      .refine((v) => /^postgres(ql)?:\/\/./.test(v), 'must be a URL such as postgres://callhook:secret@db.example.com:5432/callhook')
      .optional(),
    /** With store "postgres": connections in this node's pool (one listens for app changes). */
    postgresPoolSize: z.number().int().min(2).max(1000).default(10),
    /**
     * This node's name in the store: the events, wills and call records it writes are its own, and a restart under
     * the same name closes what the last run left open. Stable across restarts; unique per node. Default: the host name.
     */
    /**
     * With store "postgres": a node silent this long (ms) is lost, and a survivor takes its events, sessions and
     * call records over (docs/scaling.md). Nodes heart-beat every third of it.
     */
    nodeLeaseMs: z.number().int().min(300).max(600_000).default(15_000),
    nodeName: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, dots, dashes or underscores').optional(),
    /** Call recordings (`<dataDir>/recordings`) older than this many days are deleted; 0 keeps them (docs/rest-api.md). */
    recordingMaxAgeDays: z.number().int().min(0).default(30),
    pingIntervalMs: z.number().int().min(100).default(15000),
    /** Address the client WebSocket servers (ws and wss) bind; absent = every interface. */
    wsHost: z.string().min(1).optional(),
    /** docs/client-protocol.md "Bad input": larger client frames are refused with `fail` (bytes). */
    wsMaxFrameBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(65_536),
    /** Client frames accepted per second per connection (a burst of as many is allowed); more are refused. */
    wsMessagesPerSecond: z.number().int().min(1).default(50),
    /** Open client connections allowed from one IP address; more are refused at `connection`. */
    wsSessionsPerIp: z.number().int().min(1).default(100),
    /**
     * Client actions (every message but connection, ping and pong) accepted per second from one IP address across
     * all its connections (a burst of as many is allowed); more are refused. Keeps one address from flooding hooks.
     */
    wsMessagesPerSecondPerIp: z.number().int().min(1).default(200),
    /** sendMessage requests of one connection still in progress (hook, SIP transaction); more are refused. */
    wsMaxMessagesInProgress: z.number().int().min(1).default(16),
    /** Bytes queued for a client that are not yet written to its socket; past this the client is closed (1013). */
    wsMaxSendQueueBytes: z.number().int().min(1024).default(1_048_576),
    /** Frames queued for a client that are not yet written to its socket; past this the client is closed (1013). */
    wsMaxSendQueueFrames: z.number().int().min(1).default(1000),
    /** A TCP connection to wsPort/wssPort must complete its TLS handshake and HTTP request head within this (ms). */
    wsHandshakeTimeoutMs: z.number().int().min(100).default(10_000),
    /** A TCP connection to wsPort/wssPort not yet upgraded to a WebSocket is closed after this long idle (ms). */
    wsIdleTimeoutMs: z.number().int().min(100).default(5_000),
    /** TCP connections open at once on wsPort and wssPort together; more are closed at once. */
    wsMaxConnections: z.number().int().min(1).default(10_000),
    /** TCP connections open at once from one IP address on wsPort and wssPort; more are closed at once. */
    wsConnectionsPerIp: z.number().int().min(1).default(200),
    /**
     * Web origins whose pages may open a WebSocket (the `Origin` of the upgrade): `*` for any, or a comma list such
     * as `https://phone.example.com,https://localhost:8443`. Others get 403; a client that sends no Origin (not a
     * browser) is not refused by this.
     */
    allowedOrigins: z
      .string()
      .refine((v) => v === '*' || v.split(',').every(isOrigin), 'must be * or a comma list of origins such as https://phone.example.com (scheme://host[:port], no path)')
      .default('*'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** RFC 3261 §17.1.1.1 timer values, configurable (the issue asks for it; tests shorten them). */
    sipT1Ms: z.number().int().min(1).default(500),
    sipT2Ms: z.number().int().min(1).default(4000),
    sipT4Ms: z.number().int().min(1).default(5000),
    /** Largest SIP message accepted on any transport (bytes). */
    sipMaxMessageBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(65_535),
    /**
     * A SIP TCP connection without traffic either way (RFC 5626 keep-alives count) for this long is closed (ms),
     * unless a live registration went out over it. Above the 95–120 s keep-alive interval of RFC 5626 §4.4.1.
     */
    sipTcpIdleTimeoutMs: z.number().int().min(1000).default(600_000),
    /** A SIP TCP connection a peer opened must bring a whole message within this long, and every message must be complete this long after its first byte (ms). */
    sipTcpMessageTimeoutMs: z.number().int().min(100).default(10_000),
    /** SIP TCP connections peers may have open at once; more are closed as they arrive. */
    sipTcpMaxConnections: z.number().int().min(1).default(512),
    /**
     * Who may send new requests (INVITE, MESSAGE) to a registration's Contact: `any` (whoever knows it) or
     * `registrar` (only the address its REGISTER went to; others get 403).
     */
    sipTrustedSources: z.enum(['any', 'registrar']).default('any'),
    /**
     * RFC 4028 session timers: the interval (s) callhook asks for in its INVITEs (`Session-Expires`); 0 asks for
     * none. A peer's own timer is honoured either way.
     */
    sipSessionExpires: z.number().int().min(0).max(86400).default(1800),
    /**
     * RFC 4028 `Min-SE` (s): a peer asking for a shorter session interval gets 422. RFC 4028 §4 sets 90 as the floor;
     * lower values are for tests.
     */
    sipMinSe: z.number().int().min(1).max(86400).default(90),
    /**
     * How long a stop (SIGTERM, SIGINT) may take (ms): no new clients, every call ended with BYE or CANCEL, every
     * registration removed, the hook events delivered; whatever is still out then is given up and the process exits.
     * A supervisor's stop timeout (systemd TimeoutStopSec) must be longer.
     */
    shutdownDrainMs: z.number().int().min(1000).max(300_000).default(10_000),
    /**
     * Before that stop (ms): the node drains — `/healthz` answers 503 and new WebSockets are refused, so a balancer
     * sends new clients elsewhere — while live calls may finish, for up to this long (rolling restart,
     * docs/scaling.md). 0 (the default): the stop begins at once. A supervisor's stop timeout must cover both.
     */
    stopCallsWaitMs: z.number().int().min(0).max(3_600_000).default(0),
    /**
     * Reverse proxies (a comma list of IP addresses) whose `X-Forwarded-For` names the client: per-IP limits and
     * logs then use that address. Empty (the default): the header is ignored, the TCP peer is the client.
     */
    trustedProxies: z
      .string()
      .refine((v) => v.split(',').map((a) => a.trim()).filter((a) => a !== '').every((a) => isIP(a) !== 0), 'must be a comma list of IP addresses such as 127.0.0.1,::1')
      .default(''),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.rtpPortMin > c.rtpPortMax) {
      ctx.addIssue({ code: 'custom', path: ['rtpPortMin'], message: `must not exceed rtpPortMax (${c.rtpPortMax})` });
    }
    if (c.webrtcPortMin > c.webrtcPortMax) {
      ctx.addIssue({ code: 'custom', path: ['webrtcPortMin'], message: `must not exceed webrtcPortMax (${c.webrtcPortMax})` });
    }
    if (c.webrtcPort !== undefined && c.webrtcEngine !== 'libdatachannel') {
      ctx.addIssue({ code: 'custom', path: ['webrtcPort'], message: 'needs webrtcEngine "libdatachannel" (werift and native have no ICE UDP mux)' });
    }
    if (c.adminHeadersTimeoutMs > c.adminRequestTimeoutMs) {
      // Node's rule too: the headers are part of the request.
      ctx.addIssue({ code: 'custom', path: ['adminHeadersTimeoutMs'], message: `must not exceed adminRequestTimeoutMs (${c.adminRequestTimeoutMs})` });
    }
    if ((c.sipTlsCert === undefined) !== (c.sipTlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.sipTlsCert ? 'sipTlsKey' : 'sipTlsCert'], message: 'sipTlsCert and sipTlsKey go together' });
    }
    if (c.store === 'postgres' && c.postgresUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['postgresUrl'], message: 'is required with store "postgres"' });
    }
    if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.tlsCert ? 'tlsKey' : 'tlsCert'], message: 'tlsCert and tlsKey go together' });
    }
  })
  .transform((c) => {
    const localIp = c.localIp ?? firstNonLoopbackIPv4() ?? '127.0.0.1';
    return { ...c, localIp, publicIp: c.publicIp ?? localIp, nodeName: c.nodeName ?? hostname() };
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
