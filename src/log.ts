/**
 * pino JSON logs on stdout. Secrets are redacted wherever they appear in a logged object: SIP and REST passwords,
 * digest responses and the Authorization headers that carry them (config.md: "secrets redacted").
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = [
  'password', 'sipPassword', 'restPassword', 'restSecret', 'secret', 'token', 'authorization', 'Authorization',
  'proxyAuthorization', 'Proxy-Authorization', 'response', 'ha1',
];
const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'callhook' }, redact: { paths: redactPaths, censor: '[redacted]' } }, destination);
}

/**
 * Raw SIP text may carry digest credentials; logs keep the message but blank the credential values.
 * RFC 3261 §20.7, §20.28: Authorization / Proxy-Authorization.
 */
export function redactSipText(text: string): string {
  return text.replace(/^((?:Proxy-)?Authorization\s*:\s*\w+)\s+.*$/gim, '$1 [redacted]');
}
