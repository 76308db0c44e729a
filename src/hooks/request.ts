/**
 * The exact HTTP request of a hook (docs/hooks.md "The request"): `POST <app url>/<method>` with a JSON body, the
 * fixed headers, and the app's authentication (HTTP Basic, or WCS's `Authorization: WCS …`) and signature.
 * Pure: no I/O. The engine, and `check app` in the admin API, build every hook request here.
 */
import type { App } from './model.ts';
import { HookError } from './errors.ts';
import { SIGNATURE_HEADER, signCallhook, signWcs } from './signature.ts';

export interface HookRequest {
  url: string;
  /** Header name → value; every value has been checked to be a legal field value (RFC 9110 §5.5). */
  headers: Record<string, string>;
  /** The exact body bytes sent (as UTF-8 text): the signatures are computed over it. */
  rawBody: string;
}

export interface BuildOptions {
  /** `User-Agent` value (config `userAgent`, default `callhook/<version>`). */
  userAgent: string;
  /** Signing time, ms since epoch (default Date.now()). */
  now?: number;
}

/**
 * RFC 9110 §5.5: a field value is visible ASCII, SP, HTAB and obs-text; CR, LF and NUL are never allowed. App
 * fields are validated when stored, but nothing goes into a header without this check (defence in depth:
 * a CR/LF here would let an app's settings inject headers).
 */
export function assertHeaderValue(name: string, value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new HookError('UNSAFE_HEADER_VALUE', `refusing to send header ${name}: its value contains control characters`);
  }
  return value;
}

/** URLs made by `hookUrl`, by app URL and method: every hook needs one, and apps and methods are few. */
const hookUrls = new Map<string, string>();
const MAX_HOOK_URLS = 1024;

/** `http://example/rest` + `connect` → `http://example/rest/connect` (a trailing slash is not doubled; a query stays). */
export function hookUrl(appUrl: string, method: string): string {
  const key = `${method} ${appUrl}`;
  let url = hookUrls.get(key);
  if (url === undefined) {
    const u = new URL(appUrl);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/${method}`;
    url = u.toString();
    if (hookUrls.size < MAX_HOOK_URLS) hookUrls.set(key, url);
  }
  return url;
}

export function buildHookRequest(app: App, method: string, body: Record<string, unknown> | string, options: BuildOptions): HookRequest {
  const rawBody = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=UTF-8',
    Accept: 'application/json',
    'User-Agent': assertHeaderValue('User-Agent', options.userAgent),
    'Content-Length': String(Buffer.byteLength(rawBody)),
  };
  if (app.restUsername !== undefined) {
    if (app.signature === 'wcs') {
      // Both would need the Authorization header; validation refuses such an app, so reaching here is a bug.
      throw new Error(`app ${app.name}: signature "wcs" cannot be combined with HTTP Basic`);
    }
    // RFC 7617 §2: base64 of "user-id:password" in UTF-8 (§2.1 charset). Base64 cannot carry CR/LF, but the
    // username's colon rule is still checked at validation.
    const token = Buffer.from(`${app.restUsername}:${app.restPassword ?? ''}`, 'utf8').toString('base64');
    headers['Authorization'] = `Basic ${token}`;
  }
  if (app.restSecret !== undefined) {
    const unixSec = Math.floor((options.now ?? Date.now()) / 1000);
    headers[SIGNATURE_HEADER] = signCallhook(rawBody, app.restSecret, unixSec);
    if (app.signature === 'wcs') headers['Authorization'] = signWcs(rawBody, app.restSecret);
  }
  return { url: hookUrl(app.url, method), headers, rawBody };
}
