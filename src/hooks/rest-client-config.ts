/**
 * restClientConfig (docs/hooks.md "restClientConfig"): validation of the wire form, the per-method
 * defaults, and how an app's default config and a connect response's config combine.
 */
import type { MethodConfig, RestClientConfig, RestOnError, RestPolicy } from './model.ts';
import { isRestMethod, type RestMethod } from './methods.ts';
import { HookError } from './errors.ts';

/** One method's entry with the WCS defaults applied and the comma lists split. */
export interface ResolvedMethodConfig {
  restExclude: string[];
  clientExclude: string[];
  restOnError: RestOnError;
  restPolicy: RestPolicy;
  restOverwrite: string[];
}

const LIST_FIELDS = ['restExclude', 'clientExclude', 'restOverwrite'] as const;
const ON_ERROR: readonly RestOnError[] = ['LOG', 'FAIL'];
/** One older WCS page spells DISABLE as DISABLED (docs/hooks.md "restClientConfig"); a WCS backend may send either. */
const POLICY: Readonly<Record<string, RestPolicy>> = {
  NOTIFY: 'NOTIFY',
  OVERWRITE: 'OVERWRITE',
  DISABLE: 'DISABLE',
  DISABLED: 'DISABLE',
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a restClientConfig in wire form and returns it normalised (only known fields, DISABLED → DISABLE).
 * Entries for methods callhook does not have (WCS's publishStream, …) are dropped: a backend written for WCS may
 * send them. An empty string for restOnError/restPolicy means the default, as in WCS's own samples.
 * Throws HookError INVALID_REST_CLIENT_CONFIG naming the bad path and value.
 */
export function parseRestClientConfig(value: unknown, where = 'restClientConfig'): RestClientConfig {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw invalid(`${where} must be an object keyed by method name`, value);
  const out: RestClientConfig = {};
  for (const [method, entry] of Object.entries(value)) {
    if (!isRestMethod(method)) continue;
    const path = `${where}.${method}`;
    if (!isPlainObject(entry)) throw invalid(`${path} must be an object`, entry);
    const cfg: MethodConfig = {};
    for (const f of LIST_FIELDS) {
      const v = entry[f];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw invalid(`${path}.${f} must be a comma-separated string of field names`, v);
      cfg[f] = splitList(v).join(',');
    }
    const onError = entry['restOnError'];
    if (onError !== undefined && onError !== null && onError !== '') {
      if (!ON_ERROR.includes(onError as RestOnError)) throw invalid(`${path}.restOnError must be LOG or FAIL`, onError);
      cfg.restOnError = onError as RestOnError;
    }
    const policy = entry['restPolicy'];
    if (policy !== undefined && policy !== null && policy !== '') {
      const p = typeof policy === 'string' ? POLICY[policy] : undefined;
      if (p === undefined) throw invalid(`${path}.restPolicy must be NOTIFY, OVERWRITE or DISABLE`, policy);
      cfg.restPolicy = p;
    }
    out[method] = cfg;
  }
  return out;
}

function invalid(what: string, got: unknown): HookError {
  let shown: string;
  try {
    shown = JSON.stringify(got) ?? String(got);
  } catch {
    shown = String(got);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return new HookError('INVALID_REST_CLIENT_CONFIG', `${what} (got ${shown})`);
}

function splitList(list: string | undefined): string[] {
  if (list === undefined) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The entry for `method` with WCS's defaults: restOnError LOG, restPolicy NOTIFY, empty lists. */
export function resolveMethodConfig(config: RestClientConfig | undefined, method: RestMethod): ResolvedMethodConfig {
  const c = config?.[method];
  return {
    restExclude: splitList(c?.restExclude),
    clientExclude: splitList(c?.clientExclude),
    restOnError: c?.restOnError ?? 'LOG',
    restPolicy: c?.restPolicy ?? 'NOTIFY',
    restOverwrite: splitList(c?.restOverwrite),
  };
}

/** restPolicy from loosest to tightest: a page may move a method up this order, never down. */
const POLICY_RANK: Readonly<Record<RestPolicy, number>> = { DISABLE: 0, NOTIFY: 1, OVERWRITE: 2 };
const FIELDS = ['restExclude', 'clientExclude', 'restOnError', 'restPolicy', 'restOverwrite'] as const;

/**
 * The session's config after connect: the app's default, with each method the connect answer describes taken from
 * the answer instead (docs/hooks.md "restClientConfig": an app's default is overridden by the connect answer method
 * by method), as a whole entry (WCS treats an entry as a unit) — except where the page could have put the value
 * there itself.
 *
 * A backend that mirrors `connect` (what docs/hooks.md recommends) repeats the `restClientConfig` the page sent,
 * and a page must never loosen what the app's configuration or the backend decided: with
 * `{"call":{"restPolicy":"DISABLE"}}` it would otherwise skip a `call` hook that refuses its calls. A mirroring
 * backend cannot be told from one that chose the same value, so for a method the page's own config names, the
 * answer's entry is read field by field against `sentByClient` (what the backend received):
 *   - a value the answer adds or changes is the backend's decision and takes full effect;
 *   - a value the answer merely repeats may only tighten the app's default (`tightened`);
 *   - a field the answer leaves out keeps the app's default (leaving one out may be the page's doing too).
 */
export function sessionRestClientConfig(appDefault: RestClientConfig, sentByClient: unknown, answer: RestClientConfig): RestClientConfig {
  const page = pageEntries(sentByClient);
  const out: RestClientConfig = { ...appDefault };
  for (const [method, entry] of Object.entries(answer) as Array<[RestMethod, MethodConfig]>) {
    const sent = page[method];
    if (sent === undefined) {
      out[method] = entry;
      continue;
    }
    const own: Record<string, string> = {};
    const repeated: Record<string, string> = {};
    for (const f of FIELDS) {
      const v = entry[f];
      if (v !== undefined) (v === sent[f] ? repeated : own)[f] = v;
    }
    out[method] = { ...tightened(appDefault[method] ?? {}, repeated as MethodConfig), ...(own as MethodConfig) };
  }
  return out;
}

/**
 * The app's entry, tightened by the values a page sent: restOnError may become FAIL, never LOG; restPolicy may
 * only move up POLICY_RANK (a hook switched on, never off, nor OVERWRITE back to NOTIFY); restOverwrite and
 * clientExclude may only grow (the backend's answer rewrites more, the page sees less); restExclude stays the
 * app's (a page may neither hide a field from the backend nor have one sent that the app withholds).
 */
function tightened(app: MethodConfig, page: MethodConfig): MethodConfig {
  const out: MethodConfig = { ...app };
  if (page.restOnError === 'FAIL') out.restOnError = 'FAIL';
  if (page.restPolicy !== undefined && POLICY_RANK[page.restPolicy] > POLICY_RANK[app.restPolicy ?? 'NOTIFY']) out.restPolicy = page.restPolicy;
  for (const f of ['restOverwrite', 'clientExclude'] as const) {
    const all = [...new Set([...splitList(app[f]), ...splitList(page[f])])];
    if (all.length > 0) out[f] = all.join(',');
  }
  return out;
}

/**
 * The page's own restClientConfig, normalised as an answer's is so the two compare; an entry that is not valid is
 * left out (a backend's copy of it fails validation anyway).
 */
function pageEntries(value: unknown): RestClientConfig {
  if (!isPlainObject(value)) return {};
  const out: RestClientConfig = {};
  for (const [method, entry] of Object.entries(value)) {
    try {
      Object.assign(out, parseRestClientConfig({ [method]: entry }));
    } catch (e) {
      if (!(e instanceof HookError)) throw e;
    }
  }
  return out;
}
