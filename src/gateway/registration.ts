/**
 * A session's SIP registration seen the way clients and backends see it (RegistrationStatusEvent): REGISTERED,
 * FAILED, UNREGISTERED. The SIP work — digest, refresh, 423, retries with backoff after a failed refresh — is the
 * Registerer's (src/sip/ua/registerer.ts); this module only decides what is worth reporting:
 *
 * - every change of status is reported once: the first outcome, a refresh that failed (REGISTERED → FAILED), a
 *   retry that succeeded again (FAILED → REGISTERED). A refresh that merely renews a live registration, and
 *   retries that keep failing, are not news.
 * - `stop()` removes the binding (REGISTER `Expires: 0`) only when the registrar may hold one: a registration
 *   whose very first attempt failed has nothing to remove.
 */
import type { Logger } from '../log.ts';
import type { SipResponse } from '../sip/message/message.ts';
import { Registerer, RegistrationState, type ContactBinding, type RegistererOptions, type RegistrationEvent, type SipAccount, type UserAgent } from '../sip/ua/index.ts';
import type { RegistrationStatus } from './types.ts';
import { sipMessageRaw } from './views.ts';

export interface RegistrationReport {
  status: RegistrationStatus;
  /** `SIP 200 OK`, `SIP 403 Forbidden`, or what went wrong without a response. */
  info: string;
  /** The SIP response that decided it, as text. */
  sipMessageRaw?: string;
}

export interface SessionRegistrationOptions {
  ua: UserAgent;
  account: SipAccount;
  /** config `registerExpires` */
  expires: number;
  /** The session's Contact: incoming requests for the registration reach the session through it. */
  binding: ContactBinding;
  onReport(report: RegistrationReport): void;
  /** The REGISTER failed in a way no registrar causes (a bug); a registrar's refusal is a report. */
  onError(err: unknown): void;
  log: Logger;
}

/** What `show sessions` prints while the first REGISTER is out. */
export type RegistrationDisplay = RegistrationStatus | 'REGISTERING';

/**
 * It is its Registerer's options itself (account, expires, onEvent): an options object and an onEvent closure of
 * their own cost each registered session some 150 bytes for as long as it lives.
 */
export class SessionRegistration implements RegistererOptions {
  private readonly registerer: Registerer;
  private reported: RegistrationStatus | undefined;
  private everRegistered = false;
  private first: Promise<void> | undefined;

  constructor(private readonly o: SessionRegistrationOptions) {
    this.registerer = new Registerer(o.ua, this, o.binding);
  }

  get account(): SipAccount {
    return this.o.account;
  }

  get expires(): number {
    return this.o.expires;
  }

  /** The REGISTER's Call-ID, the same for every refresh (RFC 3261 §10.2). */
  get callId(): string {
    return this.registerer.callId;
  }

  get status(): RegistrationDisplay {
    return this.reported ?? 'REGISTERING';
  }

  /** Sends the first REGISTER; the outcome arrives through `onReport`. */
  start(): void {
    // Settled without the outcome: the event holds the parsed 200, which the registration would keep for its life.
    this.first = this.registerer.register().then(
      () => undefined,
      (err: unknown) => this.o.onError(err),
    );
  }

  /**
   * Unregisters when the registrar may hold our binding, then releases the Contact. Resolves with the
   * UNREGISTERED report, or undefined when there was nothing to remove.
   */
  async stop(): Promise<RegistrationReport | undefined> {
    await this.first;
    let report: RegistrationReport | undefined;
    if (this.everRegistered) {
      const event = await this.registerer.unregister().catch((err: unknown) => {
        this.o.log.error({ err }, 'unREGISTER failed unexpectedly');
        return undefined;
      });
      if (event?.state === RegistrationState.Unregistered) report = reportOf('UNREGISTERED', event.info, event.response);
    }
    this.registerer.dispose();
    return report;
  }

  /** @internal The Registerer's: an outcome of a REGISTER. */
  onEvent(e: RegistrationEvent): void {
    let status: RegistrationStatus;
    if (e.state === RegistrationState.Registered) {
      this.everRegistered = true;
      status = 'REGISTERED';
    } else if (e.state === RegistrationState.Failed) {
      status = 'FAILED';
    } else {
      return; // Unregistered: reported by stop(), which asked for it
    }
    if (status === this.reported) return;
    this.reported = status;
    this.o.onReport(reportOf(status, e.info, e.response));
  }
}

function reportOf(status: RegistrationStatus, info: string, response?: SipResponse): RegistrationReport {
  return { status, info, ...(response && { sipMessageRaw: sipMessageRaw(response) }) };
}
