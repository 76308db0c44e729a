import type { DigestCredentials } from '../auth/digest-client.ts';
import type { SipUri } from '../message/types.ts';
import type { NextHop } from './next-hop.ts';

/**
 * A SIP identity this UA acts as: the address of record (RFC 3261 §10.1 AOR, `sip:<login>@<domain>`), the
 * display name of From, the digest credentials and the next hop every request of it goes to (outbound proxy or
 * domain, RFC 3261 §8.1.2).
 */
export interface SipAccount {
  aor: SipUri;
  displayName?: string;
  credentials?: DigestCredentials;
  nextHop: NextHop;
}

/** `SIP 403 Forbidden`: how a failure response is named to people and to the WCS-compatible events. */
export function describeResponse(response: { status: number; reason: string }): string {
  return `SIP ${response.status} ${response.reason}`.trimEnd();
}
