/**
 * The user-agent core (RFC 3261 §8): owns the transport and transaction layers, sends requests to a next hop —
 * answering digest challenges on the way (§22) — and dispatches incoming requests to the contact they were sent
 * to. Registration (./registerer.ts) and MESSAGE (./message.ts) are built on it.
 *
 * One SIP socket per transport serves every registration: each gets its own Contact user part (a random token),
 * and a registrar routes requests for the AOR to that Contact, so the Request-URI of an incoming request names the
 * binding it belongs to.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.ts';
import { DigestAuthError, type DigestClient } from '../auth/digest-client.ts';
import { createResponse, newBranch, type ResponseOptions } from '../message/builders.ts';
import { getCSeq } from '../message/headers.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import { isSipUri, type SipUri } from '../message/types.ts';
import { TransactionLayer, type Destination, type ServerTransaction } from '../transaction/index.ts';
import type { Clock, TimerSettings } from '../transaction/timers.ts';
import { TransportLayer, type ListenSpec } from '../transport/transport-layer.ts';
import type { Received, Transport } from '../transport/transport.ts';
import { viaHost } from '../transport/via.ts';
import { resolveNextHop, type NextHop } from './next-hop.ts';

export interface UserAgentOptions {
  listen: readonly ListenSpec[];
  /** config `sipMaxMessageBytes` */
  maxMessageBytes: number;
  /** config `userAgent`: the User-Agent of requests and Server of responses (RFC 3261 §20.41, §20.35). */
  userAgent: string;
  logger: Logger;
  timers?: Partial<TimerSettings>;
  clock?: Clock;
}

/** A request received for one of our contacts, answered through `respond` (once; later calls are ignored). */
export interface IncomingRequest {
  readonly message: SipRequest;
  readonly received: Received;
  respond(status: number, reason?: string, options?: ResponseOptions): void;
}

export type RequestHandler = (request: IncomingRequest) => void;

/** A Contact user part of ours; requests whose Request-URI names it reach `handler`. */
export interface ContactBinding {
  readonly user: string;
  /** Our Contact URI for requests that leave over `transport` (RFC 3261 §8.1.1.8). */
  contactUri(transport: Transport): SipUri;
  close(): void;
}

/** Methods the core answers or passes to a contact's handler; anything else gets 405 (RFC 3261 §8.2.1). */
const ALLOWED_METHODS = ['OPTIONS', 'MESSAGE'];
/** Bound on digest rounds for one request: a stale nonce, then a proxy and a registrar challenge, then give up. */
const MAX_AUTH_ROUNDS = 4;

export class UserAgent {
  private readonly bindings = new Map<string, RequestHandler>();
  private readonly log: Logger;

  private constructor(
    readonly transports: TransportLayer,
    readonly transactions: TransactionLayer,
    readonly userAgent: string,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'sip-ua' });
  }

  static async start(o: UserAgentOptions): Promise<UserAgent> {
    const transports = await TransportLayer.start({ listen: o.listen, maxMessageBytes: o.maxMessageBytes, logger: o.logger });
    let ua: UserAgent | undefined;
    const transactions = new TransactionLayer({
      transportLayer: transports,
      core: { onRequest: (tx, received) => ua!.onRequest(tx, received) },
      ...(o.timers && { timers: o.timers }),
      ...(o.clock && { clock: o.clock }),
      logger: o.logger,
    });
    ua = new UserAgent(transports, transactions, o.userAgent, o.logger);
    return ua;
  }

  /** Live contact bindings (registrations and other identities that can receive requests). */
  get bindingCount(): number {
    return this.bindings.size;
  }

  bindContact(handler: RequestHandler): ContactBinding {
    const user = randomBytes(8).toString('hex');
    this.bindings.set(user, handler);
    return {
      user,
      contactUri: (transport) => {
        const sentBy = this.transports.sentBy(transport);
        const params = new Map<string, string | null>();
        // RFC 3261 §19.1.1: without a transport parameter the peer would use UDP.
        if (transport.protocol !== 'UDP') params.set('transport', transport.protocol.toLowerCase());
        return { scheme: 'sip', user, host: viaHost(sentBy.address), port: sentBy.port, params, headers: new Map() };
      },
      close: () => {
        this.bindings.delete(user);
      },
    };
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
   * Rejects with TransactionTimeoutError or TransportError (the 408 / 503 of §8.1.3.1).
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

  async close(): Promise<void> {
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
    // CANCEL of a non-INVITE or of an INVITE we do not serve yet: RFC 3261 §9.2, 481 when nothing matches.
    if (request.method === 'CANCEL') return incoming.respond(481);
    if (!ALLOWED_METHODS.includes(request.method)) {
      // §8.2.1: "the UAS MUST generate a 405 (Method Not Allowed) response [...] MUST also add an Allow header".
      return incoming.respond(405, undefined, { headers: [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }] });
    }
    // §8.2.2.3: we support no extensions, so any Require names one we do not understand.
    const require = request.headers.getAll('Require');
    if (require.length > 0) {
      return incoming.respond(420, undefined, { headers: [{ name: 'Unsupported', value: require.join(', ') }] });
    }
    // OPTIONS is about this UA's capabilities, whichever contact it names (registrar keep-alive pings included).
    if (request.method === 'OPTIONS') return this.answerOptions(incoming);
    const user = isSipUri(request.uri) ? request.uri.user : undefined;
    const handler = user === undefined ? undefined : this.bindings.get(user);
    if (handler === undefined) {
      // §8.2.2.1: "If the Request-URI does not identify an address that the UAS is willing to accept requests
      // for, it SHOULD reject the request with a 404 (Not Found) response."
      return incoming.respond(404);
    }
    try {
      handler(incoming);
    } catch (err) {
      this.log.error({ err, method: request.method }, 'request handler failed');
      incoming.respond(500);
    }
  }

  /** RFC 3261 §11.2: OPTIONS is answered like an INVITE would be, with what we allow, accept and support. */
  private answerOptions(incoming: IncomingRequest): void {
    incoming.respond(200, undefined, {
      headers: [
        { name: 'Allow', value: ALLOWED_METHODS.join(', ') },
        { name: 'Accept', value: 'text/plain, application/sdp' },
        { name: 'Accept-Encoding', value: 'identity' },
        { name: 'Accept-Language', value: 'en' },
        { name: 'Supported', value: '' },
      ],
    });
  }
}
