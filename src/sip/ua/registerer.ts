/**
 * Registration of one Contact for one AOR (RFC 3261 §10.2): REGISTER with digest, expiry from the 200, refresh
 * before it runs out, 423 handled with Min-Expires, unregistration with `Expires: 0`.
 *
 * States and their transitions (one guard, `stateTransition`):
 *   Unregistered → Registering → Registered | Failed
 *   Registered → Registering (refresh) → Registered | Failed
 *   Failed → Registering (retry)
 *   Registered | Failed → Unregistering → Unregistered
 *   any → Terminated (dispose)
 */
import type { TimerHandle } from '../../clock.ts';
import { DigestClient } from '../auth/digest-client.ts';
import { newCallId } from '../message/builders.ts';
import { getContacts, getExpires } from '../message/headers.ts';
import type { SipResponse } from '../message/message.ts';
import { isSipUri, type SipUri } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';
import { SipError } from '../errors.ts';
import { describeResponse, type SipAccount } from './account.ts';
import type { ContactBinding } from './contact.ts';
import { createRequest } from './request.ts';
import type { UserAgent } from './user-agent.ts';

export enum RegistrationState {
  Unregistered = 'Unregistered',
  Registering = 'Registering',
  Registered = 'Registered',
  Unregistering = 'Unregistering',
  Failed = 'Failed',
  Terminated = 'Terminated',
}

const TRANSITIONS: Readonly<Record<RegistrationState, readonly RegistrationState[]>> = {
  [RegistrationState.Unregistered]: [RegistrationState.Registering, RegistrationState.Terminated],
  [RegistrationState.Registering]: [RegistrationState.Registered, RegistrationState.Failed, RegistrationState.Terminated],
  [RegistrationState.Registered]: [RegistrationState.Registering, RegistrationState.Unregistering, RegistrationState.Terminated],
  [RegistrationState.Failed]: [RegistrationState.Registering, RegistrationState.Unregistering, RegistrationState.Terminated],
  [RegistrationState.Unregistering]: [RegistrationState.Unregistered, RegistrationState.Terminated],
  [RegistrationState.Terminated]: [],
};

export interface RegistrationEvent {
  state: RegistrationState;
  /** `SIP 200 OK`, `SIP 403 Forbidden`, or what went wrong without a response (timeout, transport error). */
  info: string;
  /** The final response that decided it, when there was one. */
  response?: SipResponse;
  /** Granted lifetime in seconds (Registered only). */
  expires?: number;
  /** Registered: whether this was a refresh of a live registration. */
  refresh?: boolean;
}

export interface RegistererOptions {
  account: SipAccount;
  /** Requested lifetime (config `registerExpires`). */
  expires: number;
  onEvent?(event: RegistrationEvent): void;
  /** Delays before re-trying after a failed refresh (default 5 s doubling to 5 min). */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000];
/** §10.2.8: one retry with Min-Expires; a registrar that still answers 423 is not worth more. */
const MAX_INTERVAL_RETRIES = 2;

export class Registerer {
  private stateValue = RegistrationState.Unregistered;
  private readonly binding: ContactBinding;
  private readonly digest: DigestClient | undefined;
  /** §10.2: "A UA SHOULD use the same Call-ID for all registrations during a single boot cycle" (per AOR). */
  readonly callId: string;
  private cseq = 0;
  private expires: number;
  private timer: TimerHandle | undefined;
  private retryIndex = 0;
  private pending: Promise<RegistrationEvent> | undefined;

  constructor(
    private readonly ua: UserAgent,
    private readonly o: RegistererOptions,
    binding?: ContactBinding,
  ) {
    this.binding = binding ?? ua.bindContact(() => undefined);
    this.digest = o.account.credentials ? new DigestClient(o.account.credentials) : undefined;
    this.callId = newCallId(o.account.aor.host);
    this.expires = o.expires;
  }

  get state(): RegistrationState {
    return this.stateValue;
  }

  /** The Contact user part; incoming requests for this registration carry it in their Request-URI. */
  get contactUser(): string {
    return this.binding.user;
  }

  /**
   * Registers (or refreshes) and resolves with the outcome, Registered or Failed; never rejects for SIP failures.
   * §10.2: "A UA MUST NOT send a new registration (that is, containing new Contact header field values, as
   * opposed to a retransmission) until it has received a final response from the registrar for the previous one
   * or the previous REGISTER request has timed out" — so a call while one is pending returns that one.
   */
  register(): Promise<RegistrationEvent> {
    if (this.pending) return this.pending;
    if (this.stateValue === RegistrationState.Terminated || this.stateValue === RegistrationState.Unregistering) {
      return Promise.reject(new SipError('SIP_STATE', `cannot register: registration is ${this.stateValue}`));
    }
    const refresh = this.stateValue === RegistrationState.Registered;
    this.clearTimer();
    this.stateTransition(RegistrationState.Registering);
    this.pending = this.runRegister(refresh).finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Removes our binding (`Expires: 0`, §10.2.2) and resolves when the registrar answered (or failed to). */
  async unregister(): Promise<RegistrationEvent> {
    if (this.pending) await this.pending.catch(() => undefined);
    this.clearTimer();
    if (this.stateValue !== RegistrationState.Registered && this.stateValue !== RegistrationState.Failed) {
      return { state: this.stateValue, info: `not registered (${this.stateValue})` };
    }
    this.stateTransition(RegistrationState.Unregistering);
    let info: string;
    let response: SipResponse | undefined;
    try {
      response = await this.sendRegister(0);
      info = describeResponse(response);
    } catch (e) {
      info = failureText(e);
    }
    // dispose() may have ended us while the REGISTER was out.
    if ((this.stateValue as RegistrationState) !== RegistrationState.Unregistering) return { state: this.stateValue, info };
    this.stateTransition(RegistrationState.Unregistered);
    return this.emit({ state: RegistrationState.Unregistered, info, ...(response && { response }) });
  }

  /** Stops timers and releases the Contact; no REGISTER is sent (call `unregister` first for that). */
  dispose(): void {
    this.clearTimer();
    if (this.stateValue !== RegistrationState.Terminated) this.stateTransition(RegistrationState.Terminated);
    this.binding.close();
  }

  private async runRegister(refresh: boolean): Promise<RegistrationEvent> {
    let response: SipResponse;
    try {
      response = await this.sendRegister(this.expires);
      for (let i = 0; response.status === 423 && i < MAX_INTERVAL_RETRIES; i++) {
        // §10.2.8: 423 Interval Too Brief carries Min-Expires; retry with at least that.
        const min = Number(response.headers.get('Min-Expires'));
        if (!Number.isInteger(min) || min <= this.expires) break;
        this.expires = min;
        response = await this.sendRegister(this.expires);
      }
    } catch (e) {
      return this.fail(refresh, failureText(e));
    }
    if (this.stateValue !== RegistrationState.Registering) {
      return { state: this.stateValue, info: describeResponse(response), response };
    }
    if (response.status < 200 || response.status >= 300) return this.fail(refresh, describeResponse(response), response);
    const granted = this.grantedExpires(response);
    if (granted === 0) return this.fail(refresh, `${describeResponse(response)} without our binding`, response);
    this.retryIndex = 0;
    this.stateTransition(RegistrationState.Registered);
    this.schedule(refreshDelayMs(granted));
    return this.emit({ state: RegistrationState.Registered, info: describeResponse(response), response, expires: granted, refresh });
  }

  private async sendRegister(expires: number): Promise<SipResponse> {
    const { aor, displayName } = this.o.account;
    const destination = await this.ua.destination(this.o.account.nextHop);
    // §10.2: the Request-URI names the domain of the registrar: no user part.
    const registrar: SipUri = { scheme: aor.scheme, host: aor.host, params: new Map(), headers: new Map() };
    if (aor.port !== undefined) registrar.port = aor.port;
    const request = createRequest({
      method: 'REGISTER',
      requestUri: registrar,
      from: { uri: aor, ...(displayName !== undefined && { displayName }) },
      to: { uri: aor, ...(displayName !== undefined && { displayName }) },
      callId: this.callId,
      cseq: ++this.cseq,
      contact: this.binding.contactUri(destination.transport, aor.scheme === 'sips'),
      headers: [{ name: 'Expires', value: String(expires) }],
    });
    const response = await this.ua.send(request, destination, this.digest);
    // Requests for our Contact come from where the REGISTER went (trustedSources `registrar`).
    if (expires > 0 && response.status >= 200 && response.status < 300) this.binding.registeredThrough(destination.remote);
    // Keep our CSeq above every one the authentication rounds used (§10.2: CSeq increases per REGISTER).
    this.cseq = Math.max(this.cseq, Number(request.headers.get('CSeq')?.split(' ')[0]) || this.cseq);
    return response;
  }

  /**
   * §10.2.4: the 200 lists all current bindings; ours is found by its Contact (here: our unique user part) and its
   * `expires` parameter wins over the Expires header. 0 when our Contact is missing from a non-empty list.
   */
  private grantedExpires(response: SipResponse): number {
    let contacts: ReturnType<typeof getContacts>;
    try {
      contacts = getContacts(response);
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      contacts = [];
    }
    const headerExpires = getExpires(response);
    if (contacts === '*' || contacts.length === 0) return headerExpires ?? this.expires;
    const ours = contacts.find((c) => isSipUri(c.uri) && c.uri.user === this.binding.user);
    if (ours === undefined) return 0;
    const param = Number(ours.params.get('expires'));
    if (Number.isInteger(param) && param >= 0) return param;
    return headerExpires ?? this.expires;
  }

  private fail(refresh: boolean, info: string, response?: SipResponse): RegistrationEvent {
    if (this.stateValue !== RegistrationState.Registering) return { state: this.stateValue, info };
    this.stateTransition(RegistrationState.Failed);
    // A failed refresh leaves a user who was reachable unreachable: keep trying with backoff (a first
    // registration that fails is reported and left to the caller: it is usually a wrong password).
    const delays = this.o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS;
    if ((refresh || this.retryIndex > 0) && delays.length > 0) {
      const delay = delays[Math.min(this.retryIndex++, delays.length - 1)]!;
      this.schedule(delay);
    }
    return this.emit({ state: RegistrationState.Failed, info, ...(response && { response }) });
  }

  private emit(event: RegistrationEvent): RegistrationEvent {
    this.o.onEvent?.(event);
    return event;
  }

  /**
   * The next REGISTER (refresh or retry) in `ms`, on the UA's clock. Nobody awaits it: SIP failures become Failed
   * events, and anything else is a programming error, logged rather than left to reject unhandled.
   */
  private schedule(ms: number): void {
    this.clearTimer();
    this.timer = this.ua.clock.setTimeout(() => {
      this.timer = undefined;
      this.register().catch((err: unknown) => {
        this.ua.log.error({ err, aor: formatUri(this.o.account.aor) }, 'REGISTER refresh failed on a programming error');
      });
    }, ms, { unref: true });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.ua.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private stateTransition(next: RegistrationState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) {
      throw new Error(`registration state ${this.stateValue} → ${next} is not allowed`);
    }
    this.stateValue = next;
  }
}

/**
 * When to refresh a binding of `expires` seconds: half-way for short lifetimes, a minute early for long ones, so a
 * refresh has time for Timer F (32 s) and a retry before the registrar forgets us.
 */
export function refreshDelayMs(expires: number): number {
  return Math.max(expires / 2, expires - 60) * 1000;
}

function failureText(e: unknown): string {
  if (e instanceof SipError) return e.message;
  throw e;
}
