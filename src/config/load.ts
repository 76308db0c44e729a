/**
 * Loads the configuration: embedded defaults, then a JSON file (`--config FILE`, or `callhook.config.json` in the
 * working directory when present), then `CALLHOOK_<UPPER_SNAKE>` environment variables. The result is validated
 * as a whole; any problem throws a ConfigError naming the key, the value and what is allowed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configSchema, type Config } from './schema.ts';
import { ExpectedError } from '../errors.ts';

export type ConfigErrorCode =
  /** The config file cannot be read, is not JSON, or does not hold an object of settings. */
  | 'CONFIG_FILE'
  /** A setting that is unknown or has a value the schema refuses (file or environment); the message names each. */
  | 'CONFIG_INVALID';

export class ConfigError extends ExpectedError<ConfigErrorCode> {}

export interface LoadOptions {
  /** Explicit config file; it must exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Values that win over file and env (tests, embedding). */
  overrides?: Record<string, unknown>;
}

/** The config file read from the working directory when no `--config` names one. */
const DEFAULT_FILE = 'callhook.config.json';
const ENV_PREFIX = 'CALLHOOK_';
/** Environment variables with this prefix that are not configuration keys (docs/admin.md: the admin token). */
const NON_CONFIG_ENV = new Set(['CALLHOOK_ADMIN_TOKEN']);

function toUpperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('CONFIG_FILE', `cannot read config file ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('CONFIG_FILE', `config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CONFIG_FILE', `config file ${path} must hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** Environment values are strings; numbers and booleans are converted by the type the key expects. */
function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const keys = Object.keys(configSchema.in.shape);
  const byEnvName = new Map(keys.map((k) => [ENV_PREFIX + toUpperSnake(k), k]));
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || NON_CONFIG_ENV.has(name)) continue;
    const key = byEnvName.get(name);
    if (key === undefined) throw new ConfigError('CONFIG_INVALID', `unknown setting in environment: ${name}`);
    out[key] = coerce(raw);
  }
  return out;
}

function coerce(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  let fileValues: Record<string, unknown> = {};
  let source = 'defaults';
  if (opts.file !== undefined) {
    fileValues = readFile(resolve(cwd, opts.file));
    source = opts.file;
  } else if (existsSync(resolve(cwd, DEFAULT_FILE))) {
    fileValues = readFile(resolve(cwd, DEFAULT_FILE));
    source = DEFAULT_FILE;
  }
  const merged = { ...fileValues, ...fromEnv(opts.env ?? process.env), ...opts.overrides };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const key = i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(root)');
      const value = i.path.length > 0 ? ` (got ${JSON.stringify(merged[String(i.path[0])])})` : '';
      return i.code === 'unrecognized_keys'
        ? `unknown setting ${key}`
        : `${key}${value}: ${i.message}`;
    });
    throw new ConfigError('CONFIG_INVALID', `invalid configuration (${source} + environment):\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
