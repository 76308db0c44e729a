/**
 * Header names: canonical spelling and the compact forms of RFC 3261 §7.3.3 (plus RFC 3515 `r`, RFC 3891/4538 `b`,
 * RFC 3265 `o`/`u`, RFC 3841 `j`/`d`/`a`, RFC 4028 `x`, RFC 3329 — only the ones a UA meets in practice).
 */
const COMPACT: Record<string, string> = {
  i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', c: 'Content-Type', f: 'From',
  s: 'Subject', k: 'Supported', t: 'To', v: 'Via', r: 'Refer-To', b: 'Referred-By', o: 'Event', u: 'Allow-Events',
  x: 'Session-Expires', a: 'Accept-Contact', j: 'Reject-Contact', d: 'Request-Disposition', y: 'Identity',
};

const CANONICAL = new Map<string, string>(
  [
    'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Authentication-Info', 'Authorization',
    'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding', 'Content-Language',
    'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From', 'In-Reply-To',
    'Max-Forwards', 'Min-Expires', 'MIME-Version', 'Organization', 'Priority', 'Proxy-Authenticate',
    'Proxy-Authorization', 'Proxy-Require', 'Record-Route', 'Refer-To', 'Referred-By', 'Reply-To', 'Require',
    'Retry-After', 'Route', 'RSeq', 'RAck', 'Server', 'Session-Expires', 'Min-SE', 'Subject', 'Subscription-State',
    'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Path',
    'Allow-Events', 'P-Asserted-Identity', 'Replaces', 'Identity',
  ].map((n) => [n.toLowerCase(), n]),
);

/** Names already in canonical spelling, the common case on the wire: found without lower-casing. */
const EXACT = new Map<string, string>([...CANONICAL.values()].map((n) => [n, n]));

/** Canonical name for any spelling or compact form: `v` → `Via`, `call-id` → `Call-ID`; unknown names are kept. */
export function canonicalHeaderName(name: string): string {
  const exact = EXACT.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const long = COMPACT[lower];
    if (long !== undefined) return long;
  }
  return CANONICAL.get(lower) ?? name;
}

/**
 * Headers whose value is a comma-separated list that may equally be split over several lines (RFC 3261 §7.3.1).
 * Only these are split on commas by `getAll`; others (WWW-Authenticate, Date, …) keep commas inside one value.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Via', 'Contact', 'Route', 'Record-Route', 'Allow', 'Supported', 'Require', 'Proxy-Require', 'Unsupported',
  'Accept', 'Accept-Encoding', 'Accept-Language', 'Content-Encoding', 'Content-Language', 'Allow-Events', 'Path',
  'Alert-Info', 'Call-Info', 'Error-Info', 'In-Reply-To', 'Warning', 'P-Asserted-Identity',
]);
