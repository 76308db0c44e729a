/**
 * Blind transfer with REFER (RFC 3515): the pieces that are not session state — the progress statuses reported
 * upwards (the WCS `notifyTransferEvent` vocabulary), reading the `message/sipfrag` (RFC 3420) of each NOTIFY, and
 * the Subscription-State header (RFC 6665 §8.2.3) that ends the implicit subscription.
 */

/** Transfer progress as the client protocol names it (docs/client-protocol.md, `notifyTransferEvent`). */
export enum TransferStatus {
  /** REFER sent, no answer yet. */
  Pending = 'PENDING',
  /** REFER answered 2xx (RFC 3515 §2.4.2: normally 202 Accepted). */
  Accepted = 'ACCEPTED',
  /** A NOTIFY reported a provisional response from the transfer target. */
  Trying = 'TRYING',
  /** A NOTIFY reported a 2xx from the transfer target. */
  Completed = 'COMPLETED',
  /** REFER refused, a NOTIFY reported 3xx-6xx, or the subscription ended (or expired) without a final report. */
  Failed = 'FAILED',
}

export interface SipfragStatus {
  status: number;
  reason: string;
}

/**
 * The status line of a `message/sipfrag` body (RFC 3515 §2.4.5: "the body of a NOTIFY MUST begin with a SIP
 * Response Status-Line"). Undefined when the body does not start with one.
 */
export function parseSipfrag(body: Buffer): SipfragStatus | undefined {
  const first = body.toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  const m = /^SIP\/2\.0\s+([1-6]\d\d)(?:\s+(.*))?$/i.exec(first.trim());
  if (m === null) return undefined;
  return { status: Number(m[1]), reason: (m[2] ?? '').trim() };
}

/** 1xx → TRYING, 2xx → COMPLETED, 3xx-6xx → FAILED. */
export function sipfragTransferStatus(status: number): TransferStatus {
  if (status < 200) return TransferStatus.Trying;
  if (status < 300) return TransferStatus.Completed;
  return TransferStatus.Failed;
}

export interface SubscriptionState {
  state: string;
  /** Seconds, from the `expires` parameter. */
  expires?: number;
}

/** RFC 6665 §8.2.3: `Subscription-State: active;expires=60` (state lower-cased). Undefined when absent. */
export function parseSubscriptionState(value: string | undefined): SubscriptionState | undefined {
  if (value === undefined) return undefined;
  const [state = '', ...params] = value.split(';').map((p) => p.trim());
  const out: SubscriptionState = { state: state.toLowerCase() };
  for (const p of params) {
    const [name, v] = p.split('=').map((x) => x.trim());
    if (name?.toLowerCase() === 'expires' && v !== undefined && /^\d{1,10}$/.test(v)) out.expires = Number(v);
  }
  return out;
}

/** RFC 3515 §2.4.4 / RFC 6665 §8.2.1: whether an Event header is the `refer` package (parameters such as `id` ignored). */
export function isReferEvent(value: string | undefined): boolean {
  return value?.split(';')[0]?.trim().toLowerCase() === 'refer';
}
