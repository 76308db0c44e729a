/**
 * The sample backend's own data: who may connect (a token per user, with the SIP account the backend fills in
 * for them) and whom they may call. Read from a JSON file (users.example.json shows the shape); every problem is
 * reported with the file and the field.
 */
import { readFileSync } from 'node:fs';

/** One user: the token the page sends in `custom`, and the SIP account callhook registers with. */
export interface User {
  token: string;
  sipLogin: string;
  sipAuthenticationName?: string;
  sipPassword: string;
  sipDomain: string;
  sipOutboundProxy?: string;
  sipPort?: number;
  sipRegisterRequired?: boolean;
  sipVisibleName?: string;
}

export interface BackendData {
  users: User[];
  /**
   * Callees a user may call, after normalisation (see policy.ts): exact values, or prefixes ending in `*`
   * (`"+4930*"`, `"1*"`). An empty list allows no call at all.
   */
  allowedCallees: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'BAD_BACKEND_CONFIG';
}

const OPTIONAL_TEXT = ['sipAuthenticationName', 'sipOutboundProxy', 'sipVisibleName'] as const;

/** Checks parsed JSON; throws ConfigError naming the first bad field (`users[1].sipPassword must be …`). */
export function parseBackendData(value: unknown, source: string): BackendData {
  const fail = (what: string): never => {
    throw new ConfigError(`${source}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('must be a JSON object {"users": [...], "allowedCallees": [...]}');
  const { users, allowedCallees } = value as { users?: unknown; allowedCallees?: unknown };
  if (!Array.isArray(users)) fail('users must be an array');
  if (!Array.isArray(allowedCallees) || !allowedCallees.every((c) => typeof c === 'string' && c !== '')) {
    fail('allowedCallees must be an array of non-empty strings');
  }
  const tokens = new Set<string>();
  const checked = (users as unknown[]).map((u, i): User => {
    const at = `users[${i}]`;
    if (typeof u !== 'object' || u === null) fail(`${at} must be an object`);
    const user = u as Record<string, unknown>;
    for (const field of ['token', 'sipLogin', 'sipPassword', 'sipDomain'] as const) {
      if (typeof user[field] !== 'string' || user[field] === '') fail(`${at}.${field} must be a non-empty string`);
    }
    for (const field of OPTIONAL_TEXT) {
      if (user[field] !== undefined && typeof user[field] !== 'string') fail(`${at}.${field} must be a string`);
    }
    const port = user['sipPort'];
    if (port !== undefined && (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)) {
      fail(`${at}.sipPort must be a port number (1-65535)`);
    }
    if (user['sipRegisterRequired'] !== undefined && typeof user['sipRegisterRequired'] !== 'boolean') {
      fail(`${at}.sipRegisterRequired must be true or false`);
    }
    const token = user['token'] as string;
    if (tokens.has(token)) fail(`${at}.token is the same as another user's`);
    tokens.add(token);
    return user as unknown as User;
  });
  return { users: checked, allowedCallees: allowedCallees as string[] };
}

export function loadBackendData(file: string): BackendData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return parseBackendData(json, file);
}
