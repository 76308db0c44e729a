/**
 * What both engines' app repositories share: validation, the merge of a patch, method names, and an app built
 * from its rows (apps, app_methods, app_rest_client_config are the same tables in SQLite and PostgreSQL).
 */
import type { App, AppPatch, MethodConfig, NewApp, RestClientConfig } from './types.ts';
import { StoreError } from './errors.ts';
import { validateApp } from '../hooks/app-validation.ts';
import { HookError } from '../hooks/errors.ts';
import { REST_METHOD_NAMES, isRestMethod, type RestMethod } from '../hooks/methods.ts';
import { APP_CODEC_POLICIES, type AppCodecPolicy } from '../hooks/model.ts';

function isAppCodecPolicy(v: string | null): v is AppCodecPolicy {
  return APP_CODEC_POLICIES.some((p) => p === v);
}

export interface AppRow {
  id: number;
  name: string;
  app_key: string;
  url: string;
  rest_username: string | null;
  rest_password: string | null;
  rest_secret: string | null;
  signature: 'callhook' | 'wcs';
  codec_policy: string | null;
}

export interface ConfigRow {
  method: string;
  rest_exclude: string | null;
  client_exclude: string | null;
  rest_on_error: NonNullable<MethodConfig['restOnError']> | null;
  rest_policy: NonNullable<MethodConfig['restPolicy']> | null;
  rest_overwrite: string | null;
}

/** The hook engine's rules for an app (../hooks/app-validation.ts); a field they refuse is INVALID_APP here. */
export function validated(input: NewApp): Omit<App, 'methods'> {
  try {
    return validateApp(input);
  } catch (e) {
    if (e instanceof HookError) throw new StoreError('INVALID_APP', e.message);
    throw e;
  }
}

/** The app `update` writes: the patch over the current app, validated. */
export function patched(current: App, patch: AppPatch): Omit<App, 'methods'> {
  return validated({
    name: current.name,
    appKey: patch.appKey ?? current.appKey,
    url: patch.url ?? current.url,
    restUsername: patch.restUsername === null ? undefined : (patch.restUsername ?? current.restUsername),
    restPassword: patch.restPassword === null ? undefined : (patch.restPassword ?? current.restPassword),
    restSecret: patch.restSecret === null ? undefined : (patch.restSecret ?? current.restSecret),
    signature: patch.signature ?? current.signature,
    restClientConfig: patch.restClientConfig ?? current.restClientConfig,
    codecPolicy: patch.codecPolicy === null ? undefined : (patch.codecPolicy ?? current.codecPolicy),
  });
}

/** The methods `method` names: one, or every method with '*'. */
export function methodsFor(method: string): readonly RestMethod[] {
  if (method === '*') return REST_METHOD_NAMES;
  if (!isRestMethod(method)) {
    throw new StoreError(
      'UNKNOWN_METHOD',
      `unknown REST method "${method}" (known: ${REST_METHOD_NAMES.join(', ')}; names are case-sensitive)`,
    );
  }
  return [method];
}

export const appExists = {
  name: (name: string) => new StoreError('APP_EXISTS', `an app named "${name}" already exists`),
  key: (appKey: string) => new StoreError('APP_EXISTS', `an app with key "${appKey}" already exists`),
};

export const appNotFound = {
  name: (name: string) => new StoreError('APP_NOT_FOUND', `no app named "${name}"`),
  key: (appKey: string) => new StoreError('APP_NOT_FOUND', `no app with key "${appKey}"`),
};

/** The rows of a restClientConfig, one per method. */
export function configRows(config: RestClientConfig): ConfigRow[] {
  return (Object.entries(config) as Array<[string, MethodConfig]>).map(([method, c]) => ({
    method,
    rest_exclude: c.restExclude ?? null,
    client_exclude: c.clientExclude ?? null,
    rest_on_error: c.restOnError ?? null,
    rest_policy: c.restPolicy ?? null,
    rest_overwrite: c.restOverwrite ?? null,
  }));
}

/** A frozen app from its row, its enabled methods and its config rows (ordered by method). */
export function appFromRows(row: AppRow, methods: Iterable<string>, config: readonly ConfigRow[]): App {
  const enabled = new Set(methods);
  const restClientConfig: RestClientConfig = {};
  for (const c of config) {
    if (!isRestMethod(c.method)) continue;
    restClientConfig[c.method] = Object.freeze({
      ...(c.rest_exclude !== null && { restExclude: c.rest_exclude }),
      ...(c.client_exclude !== null && { clientExclude: c.client_exclude }),
      ...(c.rest_on_error !== null && { restOnError: c.rest_on_error }),
      ...(c.rest_policy !== null && { restPolicy: c.rest_policy }),
      ...(c.rest_overwrite !== null && { restOverwrite: c.rest_overwrite }),
    });
  }
  return Object.freeze({
    name: row.name,
    appKey: row.app_key,
    url: row.url,
    ...(row.rest_username !== null && { restUsername: row.rest_username }),
    ...(row.rest_password !== null && { restPassword: row.rest_password }),
    ...(row.rest_secret !== null && { restSecret: row.rest_secret }),
    signature: row.signature,
    restClientConfig: Object.freeze(restClientConfig),
    methods: Object.freeze(REST_METHOD_NAMES.filter((m) => enabled.has(m))) as RestMethod[],
    // A value this callhook does not know (written by a newer one) counts as absent.
    ...(isAppCodecPolicy(row.codec_policy) && { codecPolicy: row.codec_policy }),
  });
}
