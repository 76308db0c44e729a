/**
 * The `connection` frame (docs/client-protocol.md "Connecting"): the SDK's options in the field names of the
 * WCS protocol. Every SIP field is optional, because a backend's connect hook may supply each of them (that is
 * how credentials stay off the page); options left undefined are left out of the frame, not sent as null.
 */
import type { JsonValue } from './protocol.ts';
import { SDK_VERSION } from './version.ts';

export interface SipOptions {
  /** The user part of the identity `sip:<login>@<domain>` (`sipLogin`). */
  login?: string;
  /** Digest user name when it differs from `login` (`sipAuthenticationName`). */
  authName?: string;
  /** Digest password (`sipPassword`); the server never sends it back. */
  password?: string;
  /** SIP domain (`sipDomain`). */
  domain?: string;
  /** Next hop for every request, when it is not the domain (`sipOutboundProxy`). */
  outboundProxy?: string;
  /** Port of the next hop (`sipPort`); a numeric string is accepted, as typed into an input. */
  port?: number | string;
  /** REGISTER on connect (`sipRegisterRequired`); without it incoming calls and messages cannot arrive. */
  register?: boolean;
  /** Display name in From (`sipVisibleName`). */
  visibleName?: string;
  /** SIP transport towards the next hop (`sipTransport`); the server's configuration decides when absent. */
  transport?: 'udp' | 'tcp' | 'tls';
}

export const DEFAULT_APP_KEY = 'defaultApp';

const SIP_FIELDS: ReadonlyArray<[keyof SipOptions, string]> = [
  ['login', 'sipLogin'],
  ['authName', 'sipAuthenticationName'],
  ['password', 'sipPassword'],
  ['domain', 'sipDomain'],
  ['outboundProxy', 'sipOutboundProxy'],
  ['port', 'sipPort'],
  ['register', 'sipRegisterRequired'],
  ['visibleName', 'sipVisibleName'],
  ['transport', 'sipTransport'],
];

export interface ConnectionFieldsInput {
  appKey?: string | undefined;
  sip?: SipOptions | undefined;
  custom?: JsonValue | undefined;
}

/** data[0] of the `connection` frame. */
export function connectionFields(input: ConnectionFieldsInput, userAgent: string | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    appKey: input.appKey ?? DEFAULT_APP_KEY,
    mediaProviders: ['WebRTC'],
    clientVersion: `callhook-sdk ${SDK_VERSION}`,
  };
  if (userAgent !== undefined) fields['clientBrowserVersion'] = userAgent;
  for (const [option, field] of SIP_FIELDS) {
    const value = input.sip?.[option];
    if (value !== undefined) fields[field] = value;
  }
  if (input.custom !== undefined) fields['custom'] = input.custom;
  return fields;
}
