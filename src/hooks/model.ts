/**
 * The hook engine's model: an app (where its hooks go, how they are signed, which methods are on) and its
 * restClientConfig (docs/hooks.md "restClientConfig"). The engine owns these records; the store keeps
 * them (src/store implements ./storage.ts) and the admin API edits them.
 */
import type { RestMethod } from './methods.ts';

// ---------------------------------------------------------------------------------------------------------------
// restClientConfig

export type RestOnError = 'LOG' | 'FAIL';
export type RestPolicy = 'NOTIFY' | 'OVERWRITE' | 'DISABLE';

/**
 * One method's entry in WCS's wire form: every field optional, lists as comma-separated field names. Absent
 * values mean the WCS defaults (restOnError LOG, restPolicy NOTIFY, empty lists). Values are validated when they
 * enter (admin input, a connect response) by `parseRestClientConfig` (./rest-client-config.ts).
 */
export interface MethodConfig {
  restExclude?: string;
  clientExclude?: string;
  restOnError?: RestOnError;
  restPolicy?: RestPolicy;
  restOverwrite?: string;
}

/** Keyed by method name; a method without an entry uses the defaults. */
export type RestClientConfig = Partial<Record<RestMethod, MethodConfig>>;

// ---------------------------------------------------------------------------------------------------------------
// Apps

/**
 * How hooks are signed when the app has a `restSecret`. Both modes send `X-Callhook-Signature`; `wcs` also sends
 * WCS's `Authorization: WCS <hex HMAC-MD5>`, and because that takes the Authorization header it cannot be
 * combined with HTTP Basic (restUsername/restPassword): such an app is refused when added or updated.
 */
export type SignatureMode = 'callhook' | 'wcs';

/**
 * The app's own `codecPolicy` for its calls, over the configuration's (docs/configuration.md "Codecs and
 * transcoding"); a call hook's answer still overrides it per call. The gateway reads it; the hook engine does not.
 */
export const APP_CODEC_POLICIES = ['passthrough', 'opus-to-browser', 'fail'] as const;
export type AppCodecPolicy = (typeof APP_CODEC_POLICIES)[number];

export interface App {
  name: string;
  appKey: string;
  /** http(s) base URL; a hook goes to `<url>/<method>`. */
  url: string;
  restUsername?: string;
  restPassword?: string;
  restSecret?: string;
  signature: SignatureMode;
  /** The app's default per-method config; a connect response's restClientConfig overrides it per method. */
  restClientConfig: RestClientConfig;
  /** Enabled methods, in the order of REST_METHODS. A new app has none (WCS rule). */
  methods: RestMethod[];
  /** Absent: the configuration's `codecPolicy`. */
  codecPolicy?: AppCodecPolicy;
}

/**
 * An app as it comes in (admin API, CLI), before `validateApp` (./app-validation.ts) checks it. `restClientConfig`
 * is validated too: it usually comes straight from JSON.
 */
export interface NewApp {
  name: string;
  appKey: string;
  url: string;
  restUsername?: string;
  restPassword?: string;
  restSecret?: string;
  signature?: SignatureMode;
  restClientConfig?: unknown;
  codecPolicy?: unknown;
}
