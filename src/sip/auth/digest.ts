/**
 * HTTP Digest computations as SIP uses them (RFC 3261 §22.4 on top of RFC 2617, RFC 7616 and RFC 8760): pure
 * functions, no state. The per-registration / per-dialog bookkeeping (nonce counts, stale, giving up) lives in
 * ./digest-client.ts.
 */
import { createHash } from 'node:crypto';

/** The algorithms of RFC 7616 §6.1 that a SIP UAC may meet (RFC 8760 §2.2). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** RFC 2617 §3.2.1 quality of protection. `auth-int` also covers the body (RFC 3261 §22.4 allows both). */
export type DigestQop = 'auth' | 'auth-int';

interface AlgorithmInfo {
  /** node:crypto hash name. */
  hash: string;
  /** `-sess` variants fold nonce and cnonce into A1 (RFC 7616 §3.4.2). */
  session: boolean;
  /** Higher is stronger: RFC 8760 §2.3 ranks SHA-512-256 over SHA-256 over MD5. */
  strength: number;
}

const ALGORITHMS: Record<DigestAlgorithm, AlgorithmInfo> = {
  'MD5': { hash: 'md5', session: false, strength: 1 },
  'MD5-sess': { hash: 'md5', session: true, strength: 1 },
  'SHA-256': { hash: 'sha256', session: false, strength: 2 },
  'SHA-256-sess': { hash: 'sha256', session: true, strength: 2 },
  'SHA-512-256': { hash: 'sha512-256', session: false, strength: 3 },
  'SHA-512-256-sess': { hash: 'sha512-256', session: true, strength: 3 },
};

const BY_LOWER = new Map(Object.keys(ALGORITHMS).map((a) => [a.toLowerCase(), a as DigestAlgorithm]));

/**
 * The algorithm named by a challenge's `algorithm` parameter; absent means MD5 (RFC 2617 §3.2.1). Tokens compare
 * case-insensitively since servers in the wild send `md5`. Undefined when we do not support it.
 */
export function digestAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined) return 'MD5';
  return BY_LOWER.get(token.toLowerCase());
}

/** Ranks algorithms for choosing among several challenges of one realm (RFC 8760 §2.3, RFC 7616 §3.7). */
export function algorithmStrength(a: DigestAlgorithm): number {
  return ALGORITHMS[a].strength;
}

/** RFC 2617 §3.2.2: nc is the count of requests sent with one nonce, as 8 lower-case hex digits. */
export function formatNonceCount(n: number): string {
  return n.toString(16).padStart(8, '0');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  nonce: string;
  method: string;
  /** The digest-uri: the Request-URI exactly as it is sent (RFC 3261 §22.4 item 4). */
  uri: string;
  /** Absent: RFC 2069 compatibility, no nc / cnonce (RFC 2617 §3.2.2.1). */
  qop?: DigestQop;
  /** 8 hex digits; required with qop. */
  nc?: string;
  /** Required with qop and with every `-sess` algorithm. */
  cnonce?: string;
  /** Message body, for qop=auth-int (empty body when absent). */
  body?: Buffer;
}

function hashHex(hash: string, data: string | Buffer): string {
  return createHash(hash).update(data).digest('hex');
}

/**
 * H(A1) (RFC 7616 §3.4.2). For `-sess` the inner hash is used as hex text, as RFC 7616 writes it (RFC 2617's
 * sample code hashed the binary digest instead; errata 1649 settled it for hex, and so do SIP servers).
 */
export function digestHA1(i: Pick<DigestInput, 'algorithm' | 'username' | 'realm' | 'password' | 'nonce' | 'cnonce'>): string {
  const { hash, session } = ALGORITHMS[i.algorithm];
  const base = hashHex(hash, `${i.username}:${i.realm}:${i.password}`);
  if (!session) return base;
  if (i.cnonce === undefined) throw new TypeError(`digest: ${i.algorithm} needs a cnonce`);
  return hashHex(hash, `${base}:${i.nonce}:${i.cnonce}`);
}

/**
 * The `response` value (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1). `ha1` may be passed precomputed (the client keeps it
 * per nonce; for `-sess` it must be the one of the first request with that nonce).
 */
export function digestResponse(i: DigestInput, ha1: string = digestHA1(i)): string {
  const { hash } = ALGORITHMS[i.algorithm];
  // RFC 7616 §3.4.3: A2 = Method:request-uri, plus :H(entity-body) for auth-int.
  const a2 =
    i.qop === 'auth-int'
      ? `${i.method}:${i.uri}:${hashHex(hash, i.body ?? Buffer.alloc(0))}`
      : `${i.method}:${i.uri}`;
  const ha2 = hashHex(hash, a2);
  if (i.qop === undefined) return hashHex(hash, `${ha1}:${i.nonce}:${ha2}`);
  if (i.nc === undefined || i.cnonce === undefined) throw new TypeError('digest: qop needs nc and cnonce');
  return hashHex(hash, `${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`);
}
