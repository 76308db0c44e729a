/**
 * What the sample backend decides: who a token belongs to, which SIP fields it answers the connect hook with, the
 * restClientConfig that keeps the SIP account off the page, and which callees are allowed.
 */
import type { BackendData, User } from './config.ts';

/**
 * The SIP fields of a connection. The connect answer sets EVERY one of them: a field the backend left out would
 * keep the value the page sent, and a page could then, say, send its own `sipOutboundProxy` and have callhook
 * register with our credentials at a server of its choosing. "" means "not set" to callhook.
 */
const SIP_FIELDS = [
  'sipLogin',
  'sipAuthenticationName',
  'sipPassword',
  'sipDomain',
  'sipOutboundProxy',
  'sipPort',
  'sipRegisterRequired',
  'sipVisibleName',
  'sipTransport',
  'sipContactParams',
] as const;

/** The token a page sends: `custom: "<token>"` or `custom: {token: "<token>"}`. */
export function tokenOf(custom: unknown): string | undefined {
  if (typeof custom === 'string') return custom;
  if (typeof custom === 'object' && custom !== null && typeof (custom as { token?: unknown }).token === 'string') {
    return (custom as { token: string }).token;
  }
  return undefined;
}

export function findUser(data: BackendData, token: string | undefined): User | undefined {
  return token === undefined || token === '' ? undefined : data.users.find((u) => u.token === token);
}

/** The SIP fields of the connect answer for `user`. */
export function sipFieldsOf(user: User): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.fromEntries(SIP_FIELDS.map((f) => [f, '']));
  for (const f of SIP_FIELDS) {
    const value = (user as unknown as Record<string, unknown>)[f];
    if (value !== undefined) fields[f] = value;
  }
  fields['sipRegisterRequired'] = user.sipRegisterRequired ?? true;
  return fields;
}

/**
 * The session's restClientConfig (docs/hooks.md "The response"):
 * - the SIP identity never reaches the page: not in getUserData (clientExclude of ConnectionStatusEvent; callhook
 *   never sends sipPassword anyway), not in the raw SIP messages of registration and call statuses, not as the
 *   `from` of a sent message or the `to` of a received one;
 * - `call` is a decision the backend takes: OVERWRITE copies its `callee` (normalised), FAIL makes a refusal stop
 *   the call with the backend's reason.
 */
export const REST_CLIENT_CONFIG = {
  ConnectionStatusEvent: {
    clientExclude: 'sipLogin,sipAuthenticationName,sipPassword,sipDomain,sipOutboundProxy,sipPort,sipVisibleName,sipTransport,sipContactParams',
  },
  RegistrationStatusEvent: { clientExclude: 'sipMessageRaw' },
  call: { restPolicy: 'OVERWRITE', restOverwrite: 'callee', restOnError: 'FAIL' },
  CallStatusEvent: { clientExclude: 'sipMessageRaw' },
  OnCallEvent: { clientExclude: 'sipMessageRaw' },
  MessageStatusEvent: { clientExclude: 'from' },
  OnMessageEvent: { clientExclude: 'to,sipMessageRaw' },
} as const;

const URI = /^(sips?|tel):|@/i;

/**
 * A callee as the backend stores and compares it: SIP/tel URIs as given; phone numbers without the separators
 * people type (spaces, dashes, dots, brackets) and with `00` written as `+` (E.164 international prefix).
 */
export function normalizeCallee(callee: string): string {
  const trimmed = callee.trim();
  if (URI.test(trimmed)) return trimmed;
  const compact = trimmed.replace(/[\s\-.()]/g, '');
  return compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
}

export function isAllowedCallee(data: BackendData, normalized: string): boolean {
  return data.allowedCallees.some((entry) => (entry.endsWith('*') ? normalized.startsWith(entry.slice(0, -1)) : normalized === entry));
}
