/**
 * RFC 4028 session timers for one INVITE session: the headers of the negotiation, and the two timers of §10.
 *
 * Negotiation, as UAC (our INVITE or re-INVITE): `Supported: timer`, `Session-Expires` (our interval; in a refresh
 * the current one, with the refresher we had, §7.4) and `Min-SE`. A 422 is answered by ./outgoing-invite.ts with
 * the INVITE again, its interval raised to the 422's Min-SE (§7.3). The 2xx decides (§7.2): its Session-Expires
 * gives the interval and, with `refresher=uac`, makes us the refresher; a 2xx without one means no timer.
 *
 * As UAS (the far end's INVITE or re-INVITE with Session-Expires, §9): an interval below our Min-SE gets 422 with
 * our Min-SE; otherwise the 2xx carries Session-Expires with the refresher the request named, else `uac` when the
 * UAC supports timers (the party that asked refreshes), else `uas` (us: a UAC without the extension cannot, §9), and
 * `Require: timer` when the refresher is the UAC. A request without Session-Expires sets no timer.
 *
 * Timers (§10), restarted by every 2xx to an INVITE either way (every re-INVITE is a refresh): as refresher, a
 * re-INVITE with our current SDP at half the interval; either way, a BYE when the session expires — §10: "If the
 * side not performing refreshes does not receive a session refresh request before the session expiration, it
 * SHOULD send a BYE [...] at the last one-third of the interval or 32 seconds before it, whichever is lower"; the
 * refresher whose refreshes failed ends it at the same time.
 */
import type { TimerGroup, TimerHandle } from '../../clock.ts';
import { SipParseError } from '../errors.ts';
import type { SipMessage } from '../message/message.ts';
import { parseParams } from '../message/params.ts';

/** Our side of the negotiation (config `sipSessionExpires`, `sipMinSe`). */
export interface SessionTimerSettings {
  /** The interval we ask for in our INVITEs, in seconds; 0: we ask for none (the far end's are still honoured). */
  sessionExpiresS: number;
  /** The shortest interval we accept (Min-SE); RFC 4028 §4 puts its floor at 90 s. */
  minSeS: number;
}

export const DEFAULT_SESSION_TIMER: SessionTimerSettings = { sessionExpiresS: 1800, minSeS: 90 };

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  intervalS: number;
  refresher: Refresher | undefined;
}

type Header = { name: string; value: string };

export const TIMER = 'timer';

/** The option tag `tag` is in the message's Supported or Require (compact form `k` read as Supported). */
export function hasOptionTag(message: SipMessage, header: 'Supported' | 'Require', tag: string): boolean {
  return message.headers.getAll(header).some((v) => v.split(',').some((t) => t.trim().toLowerCase() === tag));
}

/** `Session-Expires: 1800;refresher=uac` (§4); undefined without one. Throws SipParseError when malformed. */
export function readSessionExpires(message: SipMessage): SessionExpires | undefined {
  const value = message.headers.get('Session-Expires');
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  const delta = (semi < 0 ? value : value.slice(0, semi)).trim();
  if (!/^\d{1,9}$/.test(delta) || Number(delta) === 0) throw new SipParseError(`invalid Session-Expires ${JSON.stringify(value)}`);
  const refresher = semi < 0 ? undefined : parseParams(value.slice(semi)).get('refresher')?.toLowerCase();
  return { intervalS: Number(delta), refresher: refresher === 'uac' || refresher === 'uas' ? refresher : undefined };
}

/** `Min-SE: 90` (§5); undefined without one or when malformed (it only ever raises an interval). */
export function readMinSe(message: SipMessage): number | undefined {
  const value = message.headers.get('Min-SE')?.split(';')[0]?.trim();
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/** What a UAS does with a request's Session-Expires (§9). */
export type UasDecision =
  | { kind: 'none' }
  | { kind: 'too-small'; minSeS: number }
  | { kind: 'timer'; expires: { intervalS: number; refresher: Refresher } };

export function decideAsUas(request: SipMessage, settings: SessionTimerSettings): UasDecision {
  const asked = readSessionExpires(request);
  if (asked === undefined) return { kind: 'none' };
  // §9: "If the value of the Session-Expires header field is less than the Min-SE the UAS is configured with, it
  // MUST reject the request with a 422 (Session Interval Too Small) response".
  if (asked.intervalS < settings.minSeS) return { kind: 'too-small', minSeS: settings.minSeS };
  const refresher = asked.refresher ?? (hasOptionTag(request, 'Supported', TIMER) ? 'uac' : 'uas');
  return { kind: 'timer', expires: { intervalS: asked.intervalS, refresher } };
}

/** The 422's Min-SE header (§6). */
export function minSeHeader(minSeS: number): Header {
  return { name: 'Min-SE', value: String(minSeS) };
}

/** The header fields of our 2xx to a request with a timer (§9). */
export function uasResponseHeaders(expires: { intervalS: number; refresher: Refresher }): Header[] {
  const headers = [{ name: 'Session-Expires', value: `${expires.intervalS};refresher=${expires.refresher}` }];
  // §9: "If the refresher parameter in the Session-Expires header field in the 2xx response has a value of 'uac',
  // the UAS MUST place a Require header field into the response with the value 'timer'."
  if (expires.refresher === 'uac') headers.push({ name: 'Require', value: TIMER });
  return headers;
}

/** §10: the BYE goes out at the last third of the interval or 32 s before its end, whichever is lower. */
export function expiryMs(intervalS: number): number {
  return (intervalS - Math.min(32, intervalS / 3)) * 1000;
}

/** What the timer does when it fires: the session's re-INVITE and BYE. */
export interface SessionTimerOwner {
  readonly timers: TimerGroup;
  /** A refreshing re-INVITE (§10); its 2xx comes back through `negotiatedAsUac`. */
  refresh(): void;
  /** The session expired without a refresh: BYE. */
  expire(): void;
}

/** The running timer of one session (see the header comment). */
export class SessionTimer {
  /** The interval in force and whether we refresh; undefined while no timer runs. */
  private current: { intervalS: number; weRefresh: boolean } | undefined;
  /** Raised by a 422 (§7.3): the interval and Min-SE of every later INVITE of this session. */
  private minSeS: number;
  private refreshTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;

  constructor(
    private readonly settings: SessionTimerSettings,
    private readonly owner: SessionTimerOwner,
  ) {
    this.minSeS = settings.minSeS;
  }

  /** The header fields of an INVITE or re-INVITE we send (§7.1, §7.4). */
  requestHeaders(): Header[] {
    const headers: Header[] = [{ name: 'Supported', value: TIMER }];
    const current = this.current;
    const intervalS = current?.intervalS ?? this.settings.sessionExpiresS;
    if (intervalS === 0) return headers;
    const interval = Math.max(intervalS, this.minSeS);
    // §7.4: a refresh keeps the refresher it had: we are the UAC of this request.
    const refresher = current === undefined ? '' : `;refresher=${current.weRefresh ? 'uac' : 'uas'}`;
    headers.push({ name: 'Session-Expires', value: `${interval}${refresher}` }, minSeHeader(this.minSeS));
    return headers;
  }

  /**
   * §7.3: a 422 to our INVITE: the interval is raised to its Min-SE. Returns the request's new header fields, or
   * undefined when the 422 asks for nothing more than we sent (sending it again would loop).
   */
  tooSmall(response: SipMessage): Header[] | undefined {
    const asked = readMinSe(response);
    if (asked === undefined || asked <= Math.max(this.minSeS, this.current?.intervalS ?? this.settings.sessionExpiresS)) return undefined;
    this.minSeS = asked;
    if (this.current !== undefined) this.current = { ...this.current, intervalS: asked };
    return this.requestHeaders().filter((h) => h.name !== 'Supported');
  }

  /** The 2xx to an INVITE we sent (§7.2). A malformed Session-Expires sets no timer. */
  negotiatedAsUac(response: SipMessage): void {
    let expires: SessionExpires | undefined;
    try {
      expires = readSessionExpires(response);
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
    if (expires === undefined) return this.stop();
    this.start(expires.intervalS, expires.refresher !== 'uas');
  }

  /** Our 2xx to the far end's INVITE with `decision` (§9). */
  negotiatedAsUas(decision: UasDecision): void {
    if (decision.kind !== 'timer') return this.stop();
    this.start(decision.expires.intervalS, decision.expires.refresher === 'uas');
  }

  stop(): void {
    this.owner.timers.cancel(this.refreshTimer);
    this.owner.timers.cancel(this.expiryTimer);
    this.refreshTimer = undefined;
    this.expiryTimer = undefined;
    this.current = undefined;
  }

  private start(intervalS: number, weRefresh: boolean): void {
    this.stop();
    this.current = { intervalS, weRefresh };
    // §10: "the refresher [...] SHOULD send a refresh at half the session expiration interval".
    if (weRefresh) this.refreshTimer = this.owner.timers.schedule((intervalS * 1000) / 2, () => this.owner.refresh());
    this.expiryTimer = this.owner.timers.schedule(expiryMs(intervalS), () => this.owner.expire());
  }
}
