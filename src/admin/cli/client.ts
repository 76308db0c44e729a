/**
 * The CLI's side of the admin API (docs/admin.md: the `callhook` command is a client of the admin API). It finds
 * the server through the same configuration as the server itself (config file, CALLHOOK_* environment) and the
 * token in CALLHOOK_ADMIN_TOKEN or `<dataDir>/admin-token`.
 */
import { resolve } from 'node:path';
import type { Config } from '../../config/schema.ts';
import { readAdminToken, tokenPath, TOKEN_ENV } from '../token.ts';
import { DEFAULT_MAX_JSON_DEPTH, JsonDepthError, parseJsonLimited } from '../../json/limited-parse.ts';
import { ExpectedError } from '../../errors.ts';

export type CliErrorCode =
  /** The server did not answer an admin request in time. */
  | 'CLI_TIMEOUT'
  /** Nothing listens on the admin port. */
  | 'CLI_UNREACHABLE'
  /** The admin port answered with something that is not callhook's JSON. */
  | 'CLI_BAD_REPLY'
  /** No admin token, or the server refused it. */
  | 'CLI_UNAUTHORIZED'
  /** The admin API refused the request; the message is its `error`. */
  | 'CLI_API'
  /** `callhook start` failed for an expected reason (a port in use, a token file that cannot be written…). */
  | 'CLI_START'
  /** Options that do not make a command. */
  | 'CLI_USAGE';

/** Expected CLI failures: the message is printed as is, and the exit code is 1. */
export class CliError extends ExpectedError<CliErrorCode> {}

/** Default bound for one admin request; `check app` passes its own, longer one. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Nesting accepted in a reply. Replies wrap bodies the server took in at up to DEFAULT_MAX_JSON_DEPTH levels (a list
 * of events, each with its hook body), so twice that; anything deeper is not callhook's, and printing it could
 * overflow the stack.
 */
const REPLY_MAX_DEPTH = 2 * DEFAULT_MAX_JSON_DEPTH;

/** Where to connect: a wildcard bind address (0.0.0.0, ::) is reached through loopback. */
export function adminBaseUrl(config: Pick<Config, 'adminHost' | 'adminPort'>): string {
  const host = config.adminHost === '0.0.0.0' ? '127.0.0.1' : config.adminHost === '::' ? '::1' : config.adminHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.adminPort}`;
}

export class AdminClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #tokenSource: string;
  /** Absolute data directory, named in the message when no token is found. */
  readonly dataDir: string;

  constructor(config: Pick<Config, 'adminHost' | 'adminPort' | 'dataDir'>, env: NodeJS.ProcessEnv = process.env) {
    this.baseUrl = adminBaseUrl(config);
    this.#token = readAdminToken(config.dataDir, env);
    this.#tokenSource = env[TOKEN_ENV] !== undefined ? TOKEN_ENV : tokenPath(config.dataDir);
    this.dataDir = resolve(config.dataDir);
  }

  /** One request; the parsed JSON reply of a 2xx, or a CliError that says what went wrong. */
  async request<T>(method: string, path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.#token !== undefined) headers['Authorization'] = `Bearer ${this.#token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        throw new CliError('CLI_TIMEOUT', `callhook at ${this.baseUrl} did not answer within ${timeoutMs / 1000} s`);
      }
      throw new CliError('CLI_UNREACHABLE', `callhook is not reachable at ${this.baseUrl} — start it with npm start`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : parseJsonLimited(text, REPLY_MAX_DEPTH);
    } catch (e) {
      const what = e instanceof JsonDepthError ? `JSON nested deeper than ${e.maxDepth} levels` : 'something that is not JSON';
      throw new CliError('CLI_BAD_REPLY', `${this.baseUrl} answered ${res.status} with ${what}; is it callhook's admin port?`);
    }
    if (res.ok) return parsed as T;
    if (res.status === 401) {
      throw new CliError(
        'CLI_UNAUTHORIZED',
        this.#token === undefined
          ? `no admin token: set ${TOKEN_ENV}, or run callhook where its data directory ${this.dataDir} is (the server writes admin-token there at start)`
          : `the admin token from ${this.#tokenSource} was refused by ${this.baseUrl}`,
      );
    }
    const message = (parsed as { error?: unknown } | undefined)?.error;
    throw new CliError('CLI_API', typeof message === 'string' ? message : `${method} ${path} failed with HTTP ${res.status}`);
  }
}
