/**
 * Validation of app fields on the way in (admin API, CLI, tests all go through the store, which calls it). Values
 * that end up in HTTP headers (restUsername, restPassword, restSecret) or in the request line (url) must not carry
 * control characters: a CR or LF there would let whoever configures an app inject headers into every hook request.
 * ./request.ts checks again before building headers, so nothing raw reaches a header unchecked.
 *
 * A bad field is thrown as HookError INVALID_APP (a bad restClientConfig as INVALID_REST_CLIENT_CONFIG), with a
 * message that names the field; the store reports either as its own INVALID_APP.
 */
import { APP_CODEC_POLICIES, type App, type AppCodecPolicy, type NewApp, type SignatureMode } from './model.ts';
import { parseRestClientConfig } from './rest-client-config.ts';
import { HookError } from './errors.ts';

/** Names and keys appear in admin API paths (/api/apps/{name}) and CLI arguments: keep them plain. */
export const APP_IDENT = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
/** The words of the APP_IDENT rule, shared with the admin API's zod schemas so both refuse alike. */
export const APP_IDENT_RULE = "must be 1-128 letters, digits, '.', '_', '~' or '-', starting with a letter or digit";
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_URL = 2048;
const MAX_CREDENTIAL = 1024;

function fail(message: string): never {
  throw new HookError('INVALID_APP', message);
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

function ident(field: string, v: unknown): string {
  if (typeof v !== 'string' || !APP_IDENT.test(v)) {
    fail(`${field} ${APP_IDENT_RULE} (got ${show(v)})`);
  }
  return v;
}

/** An absolute http(s) URL without credentials or fragment; the hook URL is `<url>/<method>`. */
export function validateAppUrl(v: unknown): string {
  if (typeof v !== 'string' || v === '') fail('url is required (the base URL of the REST hooks, e.g. http://host/rest)');
  if (v.length > MAX_URL || CONTROL.test(v) || /\s/.test(v)) fail(`url must be a URL without spaces or control characters (got ${show(v)})`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return fail(`url is not a valid absolute URL (got ${show(v)})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`url must start with http:// or https:// (got ${show(v)})`);
  if (u.username !== '' || u.password !== '') fail('url must not contain credentials; use restUsername and restPassword');
  if (u.hash !== '' || v.includes('#')) fail(`url must not contain a #fragment (got ${show(v)})`);
  return v;
}

function credential(field: string, v: unknown, extra?: (s: string) => void): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${field} must be a string`);
  if (v === '') return undefined;
  if (v.length > MAX_CREDENTIAL) fail(`${field} is longer than ${MAX_CREDENTIAL} characters`);
  if (CONTROL.test(v)) fail(`${field} must not contain control characters (CR, LF, TAB, …)`);
  extra?.(v);
  return v;
}

function signature(v: unknown): SignatureMode {
  if (v === undefined || v === null) return 'callhook';
  if (v !== 'callhook' && v !== 'wcs') fail(`signature must be "callhook" or "wcs" (got ${show(v)})`);
  return v;
}

function codecPolicy(v: unknown): AppCodecPolicy | undefined {
  if (v === undefined || v === null) return undefined;
  const policy = APP_CODEC_POLICIES.find((p) => p === v);
  if (policy === undefined) fail(`codecPolicy must be ${APP_CODEC_POLICIES.map((p) => `"${p}"`).join(', ')} or absent (got ${show(v)})`);
  return policy;
}

/** Validates a complete app (new, or an existing one with a patch applied); returns the normalised fields. */
export function validateApp(input: NewApp): Omit<App, 'methods'> {
  const name = ident('name', input.name);
  const appKey = ident('appKey', input.appKey);
  const url = validateAppUrl(input.url);
  // RFC 7617 §2: the user-id of Basic credentials cannot contain a colon.
  const restUsername = credential('restUsername', input.restUsername, (s) => {
    if (s.includes(':')) fail('restUsername must not contain ":" (RFC 7617 §2, HTTP Basic)');
  });
  const restPassword = credential('restPassword', input.restPassword);
  const restSecret = credential('restSecret', input.restSecret);
  const sig = signature(input.signature);
  if (sig === 'wcs' && restSecret === undefined) fail('signature "wcs" needs restSecret (the key of the HMAC-MD5)');
  if (sig === 'wcs' && (restUsername !== undefined || restPassword !== undefined)) {
    fail(
      'signature "wcs" sends "Authorization: WCS <hmac>", which cannot be combined with HTTP Basic ' +
        '(restUsername/restPassword): remove the credentials or use signature "callhook"',
    );
  }
  if (restPassword !== undefined && restUsername === undefined) fail('restPassword needs restUsername');
  const restClientConfig = parseRestClientConfig(input.restClientConfig);
  const policy = codecPolicy(input.codecPolicy);
  return {
    name,
    appKey,
    url,
    ...(restUsername !== undefined && { restUsername }),
    ...(restPassword !== undefined && { restPassword }),
    ...(restSecret !== undefined && { restSecret }),
    signature: sig,
    restClientConfig,
    ...(policy !== undefined && { codecPolicy: policy }),
  };
}
