/**
 * pino JSON logs on stdout. Secrets are redacted wherever they appear in a logged object: SIP and REST passwords,
 * digest responses and the Authorization headers that carry them, SRTP keys in SDP (docs/configuration.md, `logLevel`:
 * "secrets redacted").
 */
import { pino, type Logger } from 'pino';
import { jsonDepthExceeds } from './json/limited-parse.ts';

export type { Logger };

const SECRET_KEYS = [
  'password', 'sipPassword', 'restPassword', 'restSecret', 'secret', 'token', 'authorization', 'Authorization',
  'proxyAuthorization', 'Proxy-Authorization', 'response', 'ha1',
];
const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'callhook' }, redact: { paths: redactPaths, censor: '[redacted]' } }, destination);
}

const LEVEL_METHODS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const ignore = (): void => undefined;

/** A lazyChild's own state: the one Proxy handler below serves them all. */
interface LazyChild {
  readonly parent: Logger;
  readonly bindings: pino.Bindings;
  child: Logger | undefined;
}

const LAZY_CHILD: ProxyHandler<LazyChild> = {
  get(lazy, key) {
    const { parent } = lazy;
    if (typeof key === 'string' && LEVEL_METHODS.has(key) && !parent.isLevelEnabled(key)) return ignore;
    const child = (lazy.child ??= parent.child(lazy.bindings));
    const value: unknown = Reflect.get(child, key, child);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
  },
};

/**
 * `parent.child(bindings)`, made at its first use at an enabled level. Each session has a logger of its own, and
 * making a pino child serialises its bindings through the redaction of every secret path (about 10 µs, and garbage);
 * at level warn most sessions never log, so most never need it. A log call below the parent's level is dropped
 * without making the child, as the child itself would drop it. One handler for every such logger, its state in the
 * Proxy's target: a handler and closure of its own cost each session some 150 bytes more.
 */
export function lazyChild(parent: Logger, bindings: pino.Bindings): Logger {
  return new Proxy<LazyChild>({ parent, bindings, child: undefined }, LAZY_CHILD) as unknown as Logger;
}

/**
 * Raw SIP text may carry digest credentials and, in its SDP, SRTP master keys; logs and `sipMessageRaw` keep the
 * message but blank the secret values. RFC 3261 §20.7, §20.28: Authorization / Proxy-Authorization; RFC 4568 §9.1:
 * the `inline:` key material of every a=crypto line (what follows it, lifetime and MKI, stays).
 */
export function redactSipText(text: string): string {
  return text
    .replace(/^((?:Proxy-)?Authorization\s*:\s*\w+)\s+.*$/gim, '$1 [redacted]')
    .replace(/^a=crypto:.*$/gim, (line) => line.replace(/inline:[^|\s;]*/gi, 'inline:[redacted]'));
}

/** A key of a JSON body whose value is a secret: any key ending in password, secret, token or authorization. */
const SECRET_JSON_KEY = /(?:password|secret|token|authorization)$/i;
/** A body naming none of these has nothing to redact, so most bodies are passed through without being parsed. */
const MAY_HOLD_SECRETS = /password|secret|token|authorization|a=crypto/i;
/** A text value without these has nothing for redactSipText to blank (one scan instead of its two). */
const MAY_HOLD_SIP_SECRETS = /authorization|a=crypto/i;
/** Deep enough for every hook body; a deeper one (garbage from a backend) is not kept, as it cannot be walked. */
const REDACT_MAX_DEPTH = 32;

/**
 * A hook body as the hook log and the session timeline show it (docs/admin.md "Hook log"): the values of secret keys
 * (`sipPassword`, `restPassword`, tokens, `authorization`, at any depth) replaced by `[redacted]`, and every string
 * value, `sipMessageRaw` and SDP among them, redacted as SIP text (redactSipText). A body that is not JSON (an error
 * page) is redacted as SIP text; JSON too deep to walk is replaced by a note. JSON comes back compact.
 */
export function redactJsonText(text: string): string {
  if (!MAY_HOLD_SECRETS.test(text)) return text;
  if (jsonDepthExceeds(text, REDACT_MAX_DEPTH)) return `[not kept: JSON nested deeper than ${REDACT_MAX_DEPTH} levels]`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return redactSipText(text);
  }
  // Walked in place rather than through JSON.parse's reviver, which costs about three times as much (a connect
  // body: 12 against 4 µs, and every registration logs three bodies).
  return JSON.stringify(redactValue(value));
}

/** `value` (fresh from JSON.parse, so walked in place) with its secrets redacted as redactJsonText says. */
function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return MAY_HOLD_SIP_SECRETS.test(value) ? redactSipText(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = redactValue(value[i]);
    return value;
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    // Every key is an own data property (JSON.parse makes `__proto__` one too), so assigning it sets that field.
    const v = fields[key];
    fields[key] = v !== null && SECRET_JSON_KEY.test(key) ? '[redacted]' : redactValue(v);
  }
  return fields;
}

/**
 * Logs a repeated warning of one source (a client connection, a SIP peer) once, then counts: a flood of refused
 * frames or bad datagrams must not become a flood of log lines. The first occurrence of each key is logged at once;
 * later ones within `windowMs` are only counted, and the count is logged (`repeated`) when the window closes or
 * when the source goes away (`flush`). One instance per source; keys name the kind of warning.
 */
export class RepeatedWarnings {
  private readonly pending = new Map<string, { count: number; fields: object; msg: string }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 10_000,
  ) {}

  warn(key: string, fields: object, msg: string): void {
    const seen = this.pending.get(key);
    if (seen) {
      seen.count++;
      seen.fields = fields;
      return;
    }
    this.log.warn(fields, msg);
    this.pending.set(key, { count: 0, fields, msg });
    this.timer ??= setTimeout(() => this.flush(), this.windowMs).unref();
  }

  /** Logs the counts of warnings repeated since their first line, and forgets them. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const { count, fields, msg } of this.pending.values()) {
      if (count > 0) this.log.warn({ ...fields, repeated: count }, `${msg} (repeated ${count} more times)`);
    }
    this.pending.clear();
  }
}
