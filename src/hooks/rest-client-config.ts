/**
 * restClientConfig (rest-hooks.md "Response"; wcs-notes.md §2.1): validation of the wire form, the per-method
 * defaults, and how an app's default config and a connect response's config combine.
 */
import type { MethodConfig, RestClientConfig, RestOnError, RestPolicy } from '../store/types.ts';
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
/** One older WCS page spells DISABLE as DISABLED (wcs-notes.md §2.1); a WCS backend may send either. */
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

/**
 * The session's config after connect: the app's default, with each method the connect response describes taken
 * from the response instead (rest-hooks.md: "Apps can hold a default restClientConfig …, which the connect
 * response overrides"). A method entry is replaced whole, not field by field, as WCS treats an entry as a unit.
 */
export function overrideRestClientConfig(appDefault: RestClientConfig, fromConnect: RestClientConfig): RestClientConfig {
  return { ...appDefault, ...fromConnect };
}
