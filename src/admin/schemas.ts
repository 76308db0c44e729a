/**
 * zod schemas of the admin API's inputs, shared by the routes (validation) and the OpenAPI document (their JSON
 * Schema form). Every string field refuses control characters: app fields end up in HTTP headers of hook
 * requests (Basic auth, URLs), so CR/LF there would be header injection.
 */
import { z } from 'zod';
import { isRestMethod, REST_METHOD_NAMES } from '../hooks/methods.ts';
import { HOOK_LOG_CAPACITY } from '../store/types.ts';
import { APP_IDENT, APP_IDENT_RULE, validateAppUrl } from '../hooks/app-validation.ts';
import { HookError } from '../hooks/errors.ts';
import { APP_CODEC_POLICIES } from '../hooks/model.ts';

/** C0 controls (CR, LF, TAB, NUL …), DEL, C1 controls and the Unicode line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function text(max: number) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters (CR, LF, TAB, …)');
}

/**
 * Names and keys: the app rule of ../hooks/app-validation.ts, because they appear in API paths and CLI arguments.
 * Checked here too so a bad one is refused before any store call, with the same words.
 */
function ident(what: string) {
  return z.string().regex(APP_IDENT, APP_IDENT_RULE).describe(what);
}

export const appName = ident('Application name');
export const appKey = ident('The key a client sends in `connection.appKey`');

/** RFC 7617 §2: the user-id of Basic auth cannot contain a colon. */
export const restUsername = text(1024).refine((s) => !s.includes(':'), 'must not contain ":" (HTTP Basic, RFC 7617 §2)');
export const restPassword = text(1024);
export const restSecret = text(1024);

/** The app URL rule of ../hooks/app-validation.ts (http/https, no credentials, no fragment), reported as a zod issue. */
export const appUrl = text(2048)
  .superRefine((s, ctx) => {
    try {
      validateAppUrl(s);
    } catch (e) {
      if (!(e instanceof HookError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message.replace(/^url /, '') });
    }
  })
  .describe('REST base URL (http or https); a hook goes to `<url>/<method>`');

export const restMethod = z.enum(REST_METHOD_NAMES as [string, ...string[]], {
  error: (i) => `unknown REST method ${JSON.stringify(i.input)} (GET /api/rest-methods lists them)`,
});

/** A comma-separated list of field names (may be empty). */
const fieldList = z
  .string()
  .max(2048)
  .regex(/^[A-Za-z0-9_$., ]*$/, 'must be a comma-separated list of field names');

const methodConfig = z
  .object({
    restExclude: fieldList.optional(),
    clientExclude: fieldList.optional(),
    restOnError: z.enum(['LOG', 'FAIL']).optional(),
    restPolicy: z.enum(['NOTIFY', 'OVERWRITE', 'DISABLE']).optional(),
    restOverwrite: fieldList.optional(),
  })
  .strict();

export const restClientConfig = z
  .partialRecord(restMethod, methodConfig)
  .describe('Default restClientConfig, keyed by method name');

export const signature = z.enum(['callhook', 'wcs']).describe('wcs: also send WCS\'s `Authorization: WCS <HMAC-MD5>`');

export const codecPolicy = z
  .enum(APP_CODEC_POLICIES)
  .describe("The app's calls' codecPolicy (passthrough, opus-to-browser, fail), over the configuration's");

export const newAppBody = z
  .object({
    name: appName,
    appKey,
    url: appUrl,
    restUsername: restUsername.optional(),
    restPassword: restPassword.optional(),
    restSecret: restSecret.optional(),
    signature: signature.optional(),
    restClientConfig: restClientConfig.optional(),
    codecPolicy: codecPolicy.optional(),
  })
  .strict();

/** `null` clears an optional credential. */
export const appPatchBody = z
  .object({
    appKey: appKey.optional(),
    url: appUrl.optional(),
    restUsername: restUsername.nullable().optional(),
    restPassword: restPassword.nullable().optional(),
    restSecret: restSecret.nullable().optional(),
    signature: signature.optional(),
    restClientConfig: restClientConfig.optional(),
    /** null: back to the configuration's. */
    codecPolicy: codecPolicy.nullable().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'must change at least one field');

export const nameParams = z.object({ name: appName }).strict();
export const keyParams = z.object({ key: appKey }).strict();
export const keyMethodParams = z
  .object({
    key: appKey,
    method: z.string().superRefine((m, ctx) => {
      if (m !== '*' && !isRestMethod(m)) {
        ctx.addIssue({ code: 'custom', message: `unknown REST method ${JSON.stringify(m)} (GET /api/rest-methods lists them; * = all)` });
      }
    }),
  })
  .strict();
export const echoParams = z
  .object({ method: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, 'must be a method name (letters and digits)') })
  .strict();

/** A query flag: present without value (`?failed`), or `true`/`false`/`1`/`0`. */
const flag = z
  .enum(['', 'true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === '' || v === 'true' || v === '1');

const limit = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1).max(HOOK_LOG_CAPACITY, `must be between 1 and ${HOOK_LOG_CAPACITY}`));

/** A `since` query parameter, as for a replay (parseSince). */
const since = z
  .string()
  .max(64)
  .refine((v) => parseSince(v) !== undefined, 'must be an ISO 8601 time, ms since the epoch, or a duration like 30m, 2h, 7d');

/** `GET /api/hooks?failed&app&method&since&limit`: `failed=false` only the attempts that succeeded. */
export const hooksQuery = z
  .object({ failed: flag.optional(), app: appKey.optional(), method: restMethod.optional(), since: since.optional(), limit: limit.optional() })
  .strict();
export const eventsQuery = z.object({ dead: flag.optional(), app: appKey.optional(), limit: limit.optional() }).strict();

/**
 * When a replay starts from: an ISO 8601 time, milliseconds since the epoch, or a duration back from now
 * (`30m`, `2h`, `7d`). Returns ms since the epoch, or undefined when the text is none of these.
 */
export function parseSince(value: string | number, now: number = Date.now()): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const ago = /^(\d+)(s|m|h|d)$/.exec(value);
  if (ago !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(ago[1]) * unit;
  }
  if (/^\d+$/.test(value)) return Number(value);
  // Date.parse accepts many shapes; require at least a calendar date so "5" or "May" are not taken as times.
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

export const replayBody = z
  .object({
    app: appKey.optional(),
    since: z
      .union([z.string().max(64), z.number()])
      .refine((v) => parseSince(v) !== undefined, 'must be an ISO 8601 time, ms since the epoch, or a duration like 30m, 2h, 7d')
      .optional(),
  })
  .strict();

/** `GET /api/cdr?since&app&limit&format`: `since` as for a replay; `format=csv` for a spreadsheet. */
export const cdrQuery = z
  .object({
    since: since.optional(),
    app: appKey.optional(),
    limit: limit.optional(),
    format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).optional(),
  })
  .strict();

/** A session as docs/hooks.md names it (`/<client ip>:<port>/<server ip>:<port>`), percent-encoded in a path. */
const sessionId = z.string().min(1).max(200).describe('sessionId, percent-encoded in the path');
export const sessionParams = z.object({ sessionId }).strict();
export const callParams = z.object({ callId: z.string().min(1).max(200) }).strict();
/** `GET /api/stream?session=`: the steps of this session's timeline come too. */
export const streamQuery = z.object({ session: sessionId.optional() }).strict();
