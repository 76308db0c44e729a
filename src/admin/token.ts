/**
 * The admin token (docs/admin.md): `CALLHOOK_ADMIN_TOKEN`, or a random token generated at the server's first start into
 * `<dataDir>/admin-token` with mode 0600 and reused afterwards. The CLI reads the same two places.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdminError } from './errors.ts';

export const TOKEN_ENV = 'CALLHOOK_ADMIN_TOKEN';
export const TOKEN_FILE = 'admin-token';

export function tokenPath(dataDir: string): string {
  return join(resolve(dataDir), TOKEN_FILE);
}

/** The token travels in an HTTP header: visible ASCII only (RFC 6750 §2.1 b64token is a subset). */
function checkToken(token: string, source: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new AdminError('ADMIN_TOKEN', `admin token from ${source} must be non-empty visible ASCII without spaces`);
  }
  return token;
}

/** Environment first, else the token file; `undefined` when neither exists (the CLI then says how to fix it). */
export function readAdminToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv !== undefined) return checkToken(fromEnv, TOKEN_ENV);
  const path = tokenPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AdminError('ADMIN_TOKEN', `cannot read admin token file ${path}: ${(e as Error).message}`);
  }
  return checkToken(text.trim(), path);
}

/** For the server at start: the existing token, or a new 256-bit one written to `<dataDir>/admin-token` (0600). */
export function loadOrCreateAdminToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const existing = readAdminToken(dataDir, env);
  if (existing !== undefined) return existing;
  const token = randomBytes(32).toString('base64url');
  mkdirSync(resolve(dataDir), { recursive: true });
  try {
    // `wx`: never overwrite a token another process wrote in the meantime.
    writeFileSync(tokenPath(dataDir), `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readAdminToken(dataDir, env)!;
    throw new AdminError('ADMIN_TOKEN', `cannot write admin token file ${tokenPath(dataDir)}: ${(e as Error).message}`);
  }
  return token;
}

/**
 * Compares a presented `Authorization` header value with the token in constant time. Both sides are hashed first
 * so the comparison length never depends on the presented value (timingSafeEqual needs equal lengths).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (m === null) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}
