/**
 * The user-agent core (RFC 3261 §8): owns the transport and transaction layers, sends requests to a next hop —
 * answering digest challenges on the way (§22) — and dispatches incoming requests to the contact they were sent
 * to. Registration (./registerer.ts) and MESSAGE (./message.ts) are built on it.
 *
 * One SIP socket per transport serves every registration: each gets its own Contact user part (a random token),
 * and a registrar routes requests for the AOR to that Contact, so the Request-URI of an incoming request names the
 * binding it belongs to.
 *
 * Calls: a new INVITE for a contact goes to that binding's `onInvite` as an Invitation (./invitation.ts); requests
 * within a dialog (a To tag), CANCELs, and ACKs or 2xx that no transaction matched go to the call they belong to
 * through `dialogs` (./dialog-router.ts).
 *
 * Who may send a new request to a contact is `trustedSources`: anyone who knows it (`any`: its random user part is
 * the only protection), or only the address its REGISTER went to (`registrar`), which is where a registrar or the
 * outbound proxy in front of it relays requests from. The source address is checked, not a Via or Record-Route,
 * which the sender writes itself. Requests within a dialog are matched by Call-ID and tags and may come straight
 * from the far end (no Record-Route), so they are not checked.
 */
import { randomHex } from '../../random-hex.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { RepeatedWarnings, type Logger } from '../../log.ts';
import { DigestAuthError, type DigestClient } from '../auth/digest-client.ts';
import { SipParseError } from '../errors.ts';
import { createResponse, newBranch } from '../message/builders.ts';
import { getCSeq, getTo } from '../message/headers.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import { isSipUri, type SipUri } from '../message/types.ts';
import { TransactionLayer, type Destination, type ServerTransaction } from '../transaction/index.ts';
import type { TimerSettings } from '../transaction/timers.ts';
import type { TcpLimits } from '../transport/stream.ts';
import { TransportLayer, type ListenSpec, type TlsSettings } from '../transport/transport-layer.ts';
import { normalizeAddress, type Endpoint, type Received, type Transport } from '../transport/transport.ts';
import { viaHost } from '../transport/via.ts';
import { ALLOWED_METHODS, allowHeader } from './allow.ts';
import type { ContactBinding, IncomingRequest, RequestHandler } from './contact.ts';
import { DialogRouter } from './dialog-router.ts';
import { Invitation } from './invitation.ts';
import { resolveNextHop, type NextHop } from './next-hop.ts';
import type { InviteSessionHost } from './invite-session-host.ts';
import { DEFAULT_SESSION_TIMER, decideAsUas, minSeHeader, TIMER, type SessionTimerSettings } from './session-timer.ts';

export interface UserAgentOptions {
  listen: readonly ListenSpec[];
  /** config `sipMaxMessageBytes` */
  maxMessageBytes: number;
  /** config `userAgent`: the User-Agent of requests and Server of responses (RFC 3261 §20.41, §20.35). */
  userAgent: string;
  logger: Logger;
  timers?: Partial<TimerSettings>;
  /** The clock of every SIP timer: transactions, sessions (glare, REFER expiry), registrations. */
  clock?: Clock;
  /** Timeouts and the connection cap of the TCP and TLS transports (config `sipTcp*`). */
  tcp?: TcpLimits;
  /** Certificate, key, extra CAs and handshake timeout of the TLS transport (config `sipTls*`). */
  tls?: TlsSettings;
  /** Who may send new requests to a registration's contact (config `sipTrustedSources`; default `any`). */
  trustedSources?: TrustedSources;
  /** RFC 4028 session timers of our calls (config `sipSessionExpires`, `sipMinSe`); default 1800 s and 90 s. */
  sessionTimer?: SessionTimerSettings;
}

/** The option tags (RFC 3261 §19.2) we support: a Require naming any other gets 420 (§8.2.2.3). */
const SUPPORTED_EXTENSIONS: readonly string[] = [TIMER];

/** `any`: whoever knows a contact; `registrar`: only the address its REGISTER went to. */
export type TrustedSources = 'any' | 'registrar';

/**
 * One of our contacts: the entry requests are routed by and the ContactBinding its owner holds, one object. A
 * registered session keeps its contact for as long as it lives; three closures and a second object for it cost
 * some 250 bytes a session (docs/benchmarks.md).
 */
class Contact implements ContactBinding {
  /** Normalized address of the registrar; undefined until a REGISTER succeeded. */
  registrar: string | undefined = undefined;

  constructor(
    readonly user: string,
    readonly handler: RequestHandler,
    readonly options: ContactBindingOptions,
    private readonly transports: TransportLayer,
    private readonly bindings: Map<string, Contact>,
  ) {}

  contactUri(transport: Transport, sips = false): SipUri {
    const sentBy = this.transports.sentBy(transport);
    const params = new Map<string, string | null>();
    // RFC 3261 §19.1.1: without a transport parameter the peer would use UDP. A sips: URI needs none: it means
    // TLS (§26.2.2; RFC 5630 §3.1.3 deprecates `transport=tls` in it).
    if (!sips && transport.protocol !== 'UDP') params.set('transport', transport.protocol.toLowerCase());
    return { scheme: sips ? 'sips' : 'sip', user: this.user, host: viaHost(sentBy.address), port: sentBy.port, params, headers: new Map() };
  }

  registeredThrough(registrar: Endpoint): void {
    this.registrar = normalizeAddress(registrar.address);
  }

  close(): void {
    this.bindings.delete(this.user);
  }
}

export interface ContactBindingOptions {
  /**
   * A new INVITE for this contact (RFC 3261 §13.3): the application answers it through the Invitation (ring,
   * accept, reject). Without it such an INVITE gets 480 Temporarily Unavailable.
   */
  onInvite?(invitation: Invitation): void;
}

/** Requests that only exist within a dialog: without a To tag there is none to find (§15.1.2: 481). */
const IN_DIALOG_METHODS = new Set(['BYE', 'INFO', 'NOTIFY', 'UPDATE']);
/** Bound on digest rounds for one request: a stale nonce, then a proxy and a registrar challenge, then give up. */
const MAX_AUTH_ROUNDS = 4;

export class UserAgent implements InviteSessionHost {
  private readonly bindings = new Map<string, Contact>();
  /** Set by refuseNewRequests: new requests are answered 503 with this Retry-After. */
  private retryAfterSeconds: number | undefined;
  readonly log: Logger;
  /** Refused requests, logged once per peer and window with a count: a prober must not flood the log. */
  private readonly warnings: RepeatedWarnings;
  /** Dialogs, pending INVITEs and live sessions: where in-dialog requests, CANCEL and stray ACK/2xx go. */
  readonly dialogs = new DialogRouter();

  private constructor(
    readonly transports: TransportLayer,
    readonly transactions: TransactionLayer,
    readonly userAgent: string,
    readonly clock: Clock,
    logger: Logger,
    private readonly trustedSources: TrustedSources,
    readonly sessionTimerSettings: SessionTimerSettings,
  ) {
    this.log = logger.child({ component: 'sip-ua' });
    this.warnings = new RepeatedWarnings(this.log);
  }

  static async start(o: UserAgentOptions): Promise<UserAgent> {
    const transports = await TransportLayer.start({
      listen: o.listen, maxMessageBytes: o.maxMessageBytes, logger: o.logger, ...(o.tcp && { tcp: o.tcp }), ...(o.tls && { tls: o.tls }),
    });
    let ua: UserAgent | undefined;
    const clock = o.clock ?? systemClock;
    const transactions = new TransactionLayer({
      transportLayer: transports,
      core: {
        onRequest: (tx, received) => ua!.onRequest(tx, received),
        onStrayAck: (received) => ua!.dialogs.routeStrayAck(received.message as SipRequest),
        onStrayResponse: (received) => ua!.dialogs.routeStrayResponse(received.message as SipResponse),
      },
      ...(o.timers && { timers: o.timers }),
      clock,
      logger: o.logger,
    });
    ua = new UserAgent(transports, transactions, o.userAgent, clock, o.logger, o.trustedSources ?? 'any', o.sessionTimer ?? DEFAULT_SESSION_TIMER);
    return ua;
  }

  /** Live contact bindings (registrations and other identities that can receive requests). */
  get bindingCount(): number {
    return this.bindings.size;
  }

  bindContact(handler: RequestHandler, options: ContactBindingOptions = {}): ContactBinding {
    const contact = new Contact(randomHex(8), handler, options, this.transports, this.bindings);
    this.bindings.set(contact.user, contact);
    return contact;
  }

  /** The transport and address a request to `hop` leaves by (RFC 3263 §4). */
  async destination(hop: NextHop): Promise<Destination> {
    const remote = await resolveNextHop(hop);
    return { transport: this.transports.transportFor(hop.transport, remote.address), remote };
  }

  /**
   * Sends an out-of-dialog request (built without Via) through a client transaction and resolves with its final
   * response. Provisional responses are ignored here (REGISTER, MESSAGE, OPTIONS seldom get any).
   *
   * With `digest`, 401/407 challenges are answered (RFC 3261 §22.2, §22.3): the request is re-sent with its CSeq
   * incremented (§8.1.3.5) and a fresh branch, a new transaction each time. Authentication that cannot succeed
   * resolves with the final 401/407, so callers report it like any other failure response.
   * Rejects with SipError SIP_TIMEOUT or SipError SIP_TRANSPORT (the 408 / 503 of §8.1.3.1).
   */
  async send(request: SipRequest, destination: Destination, digest?: DigestClient): Promise<SipResponse> {
    request.headers.set('User-Agent', this.userAgent);
    for (let round = 0; ; round++) {
      digest?.authorize(request);
      request.headers.delete('Via');
      this.transports.addVia(request, destination.transport, newBranch());
      const response = await this.transactions.request(request, destination);
      if (digest === undefined || round + 1 >= MAX_AUTH_ROUNDS) return response;
      try {
        if (!digest.handleResponse(response)) return response;
      } catch (e) {
        if (e instanceof DigestAuthError) return e.response ?? response;
        throw e;
      }
      const cseq = getCSeq(request);
      request.headers.set('CSeq', `${cseq.seq + 1} ${cseq.method}`);
    }
  }

  /**
   * The UA is going away (a graceful stop): from now on every new out-of-dialog request (INVITE, MESSAGE, OPTIONS,
   * ...) is answered `503 Service Unavailable` with `Retry-After: retryAfterSeconds` (RFC 3261 §21.5.4, §20.33), so
   * a proxy tries another server or later; requests within dialogs (the BYEs that end the calls) and CANCELs still
   * go through.
   */
  refuseNewRequests(retryAfterSeconds: number): void {
    this.retryAfterSeconds = Math.max(0, Math.ceil(retryAfterSeconds));
  }

  async close(): Promise<void> {
    this.warnings.flush();
    this.dialogs.dispose();
    this.transactions.close();
    await this.transports.close();
  }

  private onRequest(tx: ServerTransaction, received: Received): void {
    const request = received.message as SipRequest;
    let answered = false;
    const incoming: IncomingRequest = {
      message: request,
      received,
      respond: (status, reason, options) => {
        if (answered && status >= 200) return;
        if (status >= 200) answered = true;
        const response = createResponse(request, status, reason, options);
        response.headers.append('Server', this.userAgent);
        tx.respond(response);
      },
    };
    if (request.method === 'CANCEL') return this.receiveCancel(incoming);
    // §8.2.2.3: "the UAS MUST respond with a 420 (Bad Extension) response. The UAS MUST add an Unsupported header
    // field, and list in it those options it does not understand amongst those in the Require header field".
    const unsupported = request.headers.getAll('Require').flatMap((v) => v.split(',')).map((t) => t.trim())
      .filter((t) => t !== '' && !SUPPORTED_EXTENSIONS.includes(t.toLowerCase()));
    if (unsupported.length > 0) {
      return incoming.respond(420, undefined, { headers: [{ name: 'Unsupported', value: unsupported.join(', ') }] });
    }
    try {
      // §12.2.2: a request with a To tag belongs to a dialog; "If the request has a tag in the To header field,
      // but the dialog identifier does not match any existing dialogs, [...] the UAS [...] SHOULD respond to the
      // request with a 481 (Call/Transaction Does Not Exist) status code".
      if (getTo(request).params.get('tag')) {
        if (!this.dialogs.routeRequest(incoming, tx)) incoming.respond(481);
        return;
      }
      if (this.retryAfterSeconds !== undefined) {
        return incoming.respond(503, undefined, { headers: [{ name: 'Retry-After', value: String(this.retryAfterSeconds) }] });
      }
      if (!ALLOWED_METHODS.includes(request.method)) {
        // §8.2.1: "the UAS MUST generate a 405 (Method Not Allowed) response [...] MUST also add an Allow header".
        return incoming.respond(405, undefined, { headers: [allowHeader()] });
      }
      // OPTIONS is about this UA's capabilities, whichever contact it names (registrar keep-alive pings included).
      if (request.method === 'OPTIONS') return this.answerOptions(incoming);
      if (IN_DIALOG_METHODS.has(request.method)) return incoming.respond(481);
      const user = isSipUri(request.uri) ? request.uri.user : undefined;
      const binding = user === undefined ? undefined : this.bindings.get(user);
      if (binding === undefined) {
        // §8.2.2.1: "If the Request-URI does not identify an address that the UAS is willing to accept requests
        // for, it SHOULD reject the request with a 404 (Not Found) response."
        return incoming.respond(404);
      }
      if (!this.trusts(binding, received.remote)) {
        const from = normalizeAddress(received.remote.address);
        this.warnings.warn(`untrusted|${from}`, { from, method: request.method }, 'SIP request to a contact refused: not from its registrar');
        return incoming.respond(403, 'Forbidden (not from the registrar)');
      }
      if (request.method === 'INVITE') return this.receiveInvite(tx, incoming, binding);
      binding.handler(incoming);
    } catch (err) {
      // From, To or Call-ID unreadable: the transaction layer could match the request, the dialog layer cannot.
      if (err instanceof SipParseError) return incoming.respond(400, err.reason);
      this.log.error({ err, method: request.method }, 'request handler failed');
      incoming.respond(500);
    }
  }

  /** Whether a new request to `binding` from `remote` is taken (trustedSources). */
  private trusts(binding: Contact, remote: Endpoint): boolean {
    return this.trustedSources === 'any' || binding.registrar === normalizeAddress(remote.address);
  }

  /** A new INVITE for one of our contacts becomes an Invitation for its `onInvite` (480 without one). */
  private receiveInvite(tx: ServerTransaction, incoming: IncomingRequest, binding: Contact): void {
    const { options } = binding;
    if (options.onInvite === undefined || tx.kind !== 'invite-server') return incoming.respond(480);
    // RFC 4028 §9: an interval below our Min-SE is refused before a call exists (422 with our Min-SE).
    const timer = decideAsUas(incoming.message, this.sessionTimerSettings);
    if (timer.kind === 'too-small') return incoming.respond(422, undefined, { headers: [minSeHeader(timer.minSeS)] });
    const invitation = new Invitation(this, incoming, tx, binding);
    try {
      options.onInvite(invitation);
    } catch (err) {
      // The application failed on it: the call is refused (480) and released rather than left waiting.
      invitation.dispose();
      throw err;
    }
  }

  /**
   * RFC 3261 §9.2: a CANCEL is answered 200 when it matches an INVITE server transaction (whose 487, if the INVITE
   * is still unanswered, is its owner's business), else 481.
   */
  private receiveCancel(incoming: IncomingRequest): void {
    const invite = this.transactions.findInviteForCancel(incoming.message);
    if (invite === undefined) return incoming.respond(481);
    incoming.respond(200);
    this.dialogs.cancel(invite, incoming.message);
  }

  /** RFC 3261 §11.2: OPTIONS is answered like an INVITE would be, with what we allow, accept and support. */
  private answerOptions(incoming: IncomingRequest): void {
    incoming.respond(200, undefined, {
      headers: [
        allowHeader(),
        { name: 'Accept', value: 'application/sdp, text/plain, application/dtmf-relay, application/dtmf, message/sipfrag' },
        { name: 'Accept-Encoding', value: 'identity' },
        { name: 'Accept-Language', value: 'en' },
        { name: 'Supported', value: SUPPORTED_EXTENSIONS.join(', ') },
      ],
    });
  }
}
