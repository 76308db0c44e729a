/**
 * Client side of SIP digest authentication (RFC 3261 §22.2–§22.4, RFC 7616, RFC 8760): one `DigestClient` per
 * registration or dialog remembers the challenges it answered, counts `nc` per nonce and decides when to give up.
 *
 * Typical use by a request sender:
 *   client.authorize(request); send → response;
 *   if (client.handleResponse(response)) { CSeq+1; client.authorize(request); send again }   // 401/407
 * `handleResponse` throws DigestAuthError when retrying is pointless (wrong password, nothing we can answer).
 */
import { ownCopy } from '../../own-string.ts';
import { SipError } from '../errors.ts';
import { randomHex } from '../../random-hex.ts';
import { formatAuthHeader, parseAuthHeader } from '../message/headers.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { AuthHeader } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';
import {
  algorithmStrength,
  digestAlgorithm,
  digestHA1,
  digestResponse,
  formatNonceCount,
  type DigestAlgorithm,
  type DigestQop,
} from './digest.ts';

export interface DigestCredentials {
  /** The digest user name (`sipAuthenticationName`), not necessarily the AOR's user part. */
  username: string;
  password: string;
  /** When set, only challenges of this realm are answered (RFC 3261 §22.1: credentials belong to a realm). */
  realm?: string;
}

/** RFC 3261 §22.2 / §22.3: the challenge header and the credentials header that answers it. */
export type ChallengeHeader = 'WWW-Authenticate' | 'Proxy-Authenticate';
export type CredentialsHeader = 'Authorization' | 'Proxy-Authorization';

const ANSWER: Record<ChallengeHeader, CredentialsHeader> = {
  'WWW-Authenticate': 'Authorization',
  'Proxy-Authenticate': 'Proxy-Authorization',
};

export interface Challenge {
  header: ChallengeHeader;
  value: AuthHeader;
}

export interface Credentials {
  header: CredentialsHeader;
  value: AuthHeader;
}

export type DigestAuthFailure = 'rejected' | 'unsupported';

/**
 * Authentication cannot succeed: `rejected` when the server refused credentials computed for its own fresh
 * challenge (wrong user name or password), `unsupported` when no challenge is one we can answer. `response` is the
 * 401/407 that ended it, when known, so callers can report `SIP 401 Unauthorized`.
 */
export class DigestAuthError extends SipError {
  constructor(
    message: string,
    readonly failure: DigestAuthFailure,
    readonly response?: SipResponse,
  ) {
    super('SIP_AUTH', message);
  }
}

export interface DigestClientOptions {
  /** cnonce source (tests pin it); default 96 random bits as hex. */
  cnonce?: () => string;
  /**
   * How many `stale=true` challenges in a row are answered before giving up. A stale nonce is normal once per
   * expiry (RFC 7616 §3.3); an endless series is a broken server, and retrying forever would loop.
   */
  maxStaleRetries?: number;
}

/**
 * Where a realm's authentication stands:
 * - `challenged`: a fresh challenge, not yet answered;
 * - `answered`: credentials for this challenge went out and no verdict came back yet — a new non-stale challenge
 *   now means they were wrong (RFC 7616 §3.3: stale=false means the credentials, not the nonce, failed);
 * - `accepted`: the server took them; later requests reuse the nonce with a higher nc (RFC 7616 §3.4), and a
 *   non-stale challenge then only means the server dropped the nonce, so it is answered once more.
 */
type Phase = 'challenged' | 'answered' | 'accepted';

/** A challenge we can answer, as read from one WWW-Authenticate / Proxy-Authenticate. */
interface Candidate {
  header: CredentialsHeader;
  realm: string;
  algorithm: DigestAlgorithm;
  /** Whether the challenge named its algorithm: then the credentials repeat it (RFC 7616 §3.4). */
  echoAlgorithm: boolean;
  nonce: string;
  opaque?: string;
  qop?: DigestQop;
  stale: boolean;
}

/** What we keep of a realm's challenge between requests. */
interface RealmState extends Omit<Candidate, 'stale'> {
  /** One cnonce per nonce, so a `-sess` H(A1) stays the one of the first request (RFC 7616 §3.4.2). */
  cnonce: string;
  ha1: string;
  nc: number;
  phase: Phase;
  staleRetries: number;
}

const randomCnonce = (): string => randomHex(12);

export class DigestClient {
  private readonly realms = new Map<string, RealmState>();
  private readonly newCnonce: () => string;
  private readonly maxStaleRetries: number;

  constructor(
    private readonly creds: DigestCredentials,
    options: DigestClientOptions = {},
  ) {
    this.newCnonce = options.cnonce ?? randomCnonce;
    this.maxStaleRetries = options.maxStaleRetries ?? 3;
  }

  /**
   * Takes the challenges of one 401/407 (a forking proxy may put several in one response, RFC 3261 §22.3, and a
   * server may offer one realm with several algorithms, RFC 8760 §2.4). Throws DigestAuthError when nothing can be
   * answered or a realm we already answered refuses us again without `stale=true`.
   */
  challenged(challenges: readonly Challenge[]): void {
    const offered: string[] = [];
    const chosen = new Map<string, Candidate>();
    for (const c of challenges) {
      const cand = this.candidate(c, offered);
      if (cand === undefined) continue;
      // Its own string, not a tree of the template's parts: the key stays for as long as the registration lives.
      const key = ownCopy(`${cand.header}\n${cand.realm}`);
      const prev = chosen.get(key);
      // RFC 8760 §2.4 / RFC 7616 §3.7: several challenges for one realm differ in algorithm; answer the strongest
      // we support (servers list their preference first, so ties keep the first).
      if (prev === undefined || algorithmStrength(cand.algorithm) > algorithmStrength(prev.algorithm)) {
        chosen.set(key, cand);
      }
    }
    if (chosen.size === 0) {
      const what = offered.length > 0 ? offered.join(', ') : 'none';
      throw new DigestAuthError(`no digest challenge we can answer (offered: ${what})`, 'unsupported');
    }
    // Validate every realm before changing any state, so a throw leaves the client as it was.
    for (const [key, cand] of chosen) {
      const state = this.realms.get(key);
      if (state === undefined) continue;
      if (!cand.stale && state.phase === 'answered') {
        throw new DigestAuthError(`credentials for realm "${cand.realm}" were rejected`, 'rejected');
      }
      if (cand.stale && state.staleRetries >= this.maxStaleRetries) {
        throw new DigestAuthError(
          `realm "${cand.realm}" answered stale=true ${state.staleRetries + 1} times in a row`,
          'rejected',
        );
      }
    }
    for (const [key, cand] of chosen) {
      const prevStale = this.realms.get(key)?.staleRetries ?? 0;
      const cnonce = this.newCnonce();
      this.realms.set(key, {
        header: cand.header,
        realm: cand.realm,
        algorithm: cand.algorithm,
        echoAlgorithm: cand.echoAlgorithm,
        nonce: cand.nonce,
        ...(cand.opaque !== undefined && { opaque: cand.opaque }),
        ...(cand.qop !== undefined && { qop: cand.qop }),
        cnonce,
        ha1: digestHA1({ ...this.creds, algorithm: cand.algorithm, realm: cand.realm, nonce: cand.nonce, cnonce }),
        nc: 0,
        phase: 'challenged',
        staleRetries: cand.stale ? prevStale + 1 : 0,
      });
    }
  }

  /**
   * Credentials for the next request, one per challenged realm (empty before the first challenge). Each call
   * counts as one request sent: nc goes up by one per nonce (RFC 7616 §3.4). `uri` is the Request-URI as sent.
   */
  credentials(method: string, uri: string, body?: Buffer): Credentials[] {
    const out: Credentials[] = [];
    for (const s of this.realms.values()) {
      s.nc++;
      if (s.phase === 'challenged') s.phase = 'answered';
      const nc = formatNonceCount(s.nc);
      const response = digestResponse(
        {
          algorithm: s.algorithm,
          username: this.creds.username,
          realm: s.realm,
          password: this.creds.password,
          nonce: s.nonce,
          method,
          uri,
          ...(s.qop !== undefined && { qop: s.qop, nc, cnonce: s.cnonce }),
          ...(body !== undefined && { body }),
        },
        s.ha1,
      );
      // RFC 7616 §3.4 field order; qop / nc / cnonce only when the challenge had qop (RFC 2069 compatibility).
      const params = new Map<string, string>([
        ['username', this.creds.username],
        ['realm', s.realm],
        ['nonce', s.nonce],
        ['uri', uri],
        ['response', response],
      ]);
      if (s.echoAlgorithm) params.set('algorithm', s.algorithm);
      if (s.qop !== undefined) {
        params.set('cnonce', s.cnonce);
        params.set('qop', s.qop);
        params.set('nc', nc);
      }
      if (s.opaque !== undefined) params.set('opaque', s.opaque);
      out.push({ header: s.header, value: { scheme: 'Digest', params } });
    }
    return out;
  }

  /** The server took the credentials (any final response but 401/407): later challenges start afresh. */
  accepted(): void {
    for (const s of this.realms.values()) {
      s.phase = 'accepted';
      s.staleRetries = 0;
    }
  }

  /**
   * Puts the current credentials on a request (replacing any earlier ones), computed over its method, Request-URI
   * and body. Call once per request sent, retransmissions excluded (they are the same bytes).
   */
  authorize(request: SipRequest): void {
    request.headers.delete('Authorization').delete('Proxy-Authorization');
    const creds = this.credentials(request.method, formatUri(request.uri), request.body);
    for (const c of creds) request.headers.append(c.header, formatAuthHeader(c.value));
  }

  /**
   * Feeds a final response to a request sent with `authorize`. Returns true when it was a 401/407 we can answer:
   * resend the request with CSeq+1 (RFC 3261 §22.2) after `authorize`. Any other final response means the
   * credentials (if any) were taken. Throws DigestAuthError, carrying the response, when authentication failed.
   */
  handleResponse(response: SipResponse): boolean {
    if (response.status < 200) return false;
    if (response.status !== 401 && response.status !== 407) {
      this.accepted();
      return false;
    }
    // RFC 3261 §16.7 step 6: a forking proxy collects WWW- and Proxy-Authenticate of all branches into one
    // response, so both are read whatever the status.
    const challenges: Challenge[] = [];
    for (const header of ['WWW-Authenticate', 'Proxy-Authenticate'] as const) {
      for (const raw of response.headers.getAll(header)) {
        try {
          challenges.push({ header, value: parseAuthHeader(raw) });
        } catch {
          // A malformed challenge is one we cannot answer; the others may still do (reported below if none).
        }
      }
    }
    try {
      this.challenged(challenges);
    } catch (err) {
      if (err instanceof DigestAuthError) {
        throw new DigestAuthError(`SIP ${response.status} ${response.reason}: ${err.message}`, err.failure, response);
      }
      throw err;
    }
    return true;
  }

  /** Reads one challenge; undefined (and noted in `offered`) when we cannot answer it. */
  private candidate(c: Challenge, offered: string[]): Candidate | undefined {
    const p = c.value.params;
    const algoToken = p.get('algorithm');
    const realm = p.get('realm');
    const isDigest = c.value.scheme.toLowerCase() === 'digest';
    offered.push(isDigest ? `Digest ${algoToken ?? 'MD5'} realm "${realm ?? '?'}"` : c.value.scheme);
    if (!isDigest) return undefined;
    const algorithm = digestAlgorithm(algoToken);
    const nonce = p.get('nonce');
    if (algorithm === undefined || realm === undefined || nonce === undefined) return undefined;
    if (this.creds.realm !== undefined && this.creds.realm !== realm) return undefined;
    let qop: DigestQop | undefined;
    const qopOptions = p.get('qop');
    if (qopOptions !== undefined) {
      // RFC 2617 §3.2.1: qop-options is a list; `auth` suffices for SIP and avoids hashing bodies.
      const opts = qopOptions.split(',').map((o) => o.trim().toLowerCase());
      if (opts.includes('auth')) qop = 'auth';
      else if (opts.includes('auth-int')) qop = 'auth-int';
      else return undefined;
    }
    const opaque = p.get('opaque');
    // Copies, as a candidate may be kept (and its realm is a key) for as long as the registration lives.
    return {
      header: ANSWER[c.header],
      realm: ownCopy(realm),
      algorithm,
      echoAlgorithm: algoToken !== undefined,
      nonce: ownCopy(nonce),
      ...(opaque !== undefined && { opaque: ownCopy(opaque) }),
      ...(qop !== undefined && { qop }),
      stale: p.get('stale')?.toLowerCase() === 'true',
    };
  }
}
