/**
 * Hook signatures (docs/hooks.md "The request").
 *
 * - `X-Callhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: the timestamp is
 *   inside the MAC, so a captured request cannot be replayed after the tolerance window (5 minutes by default).
 * - WCS's `Authorization: WCS <hex HMAC-MD5(secret, raw body)>` (docs/hooks.md "The request"; WCS's `rest_hook_send_hash`), for
 *   backends written for WCS. It has no timestamp, so it is only as good as WCS's own scheme.
 *
 * The verifiers are for backends: they compare in constant time (crypto.timingSafeEqual) so the comparison time
 * does not leak how many leading characters of a forged MAC were right.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Callhook-Signature';
/** docs/hooks.md "The request": compared in constant time, timestamps up to 5 minutes off either way. */
export const DEFAULT_TOLERANCE_SEC = 300;

/** The `X-Callhook-Signature` value for `rawBody` signed at `unixSec`. */
export function signCallhook(rawBody: string | Buffer, secret: string, unixSec: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSec}.`).update(rawBody).digest('hex');
  return `t=${unixSec},v1=${mac}`;
}

/** The `Authorization` value of WCS's hook signing: `WCS <hex HMAC-MD5(secret, raw body)>`. */
export function signWcs(rawBody: string | Buffer, secret: string): string {
  return `WCS ${createHmac('md5', secret).update(rawBody).digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

export interface VerifyOptions {
  /** Accepted clock difference either way, seconds (default 300). */
  toleranceSec?: number;
  /** Current time, ms since epoch (default Date.now()). */
  now?: number;
}

/**
 * Checks an `X-Callhook-Signature` header against the raw request body (the exact bytes received, before any
 * JSON parsing). Several `v1=` entries are allowed (a sender rotating secrets); one matching is enough.
 */
export function verifySignature(
  rawBody: string | Buffer,
  header: string | undefined | null,
  secret: string,
  options: VerifyOptions = {},
): SignatureCheck {
  if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
  let t: number | undefined;
  const macs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || t !== undefined) return { ok: false, reason: 'malformed' };
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: 'malformed' };
      macs.push(value);
    }
  }
  if (t === undefined || macs.length === 0) return { ok: false, reason: 'malformed' };
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSec - t) > (options.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(signCallhook(rawBody, secret, t).slice(`t=${t},v1=`.length), 'hex');
  const match = macs.some((m) => timingSafeEqual(Buffer.from(m, 'hex'), expected));
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** Checks WCS's `Authorization: WCS <hex>` header against the raw body (what a WCS backend does). */
export function verifyWcsSignature(rawBody: string | Buffer, header: string | undefined | null, secret: string): SignatureCheck {
  if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
  const m = /^WCS ([0-9a-fA-F]{32})$/.exec(header.trim());
  if (m === null) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(signWcs(rawBody, secret).slice(4), 'hex');
  return timingSafeEqual(Buffer.from(m[1]!.toLowerCase(), 'hex'), expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
