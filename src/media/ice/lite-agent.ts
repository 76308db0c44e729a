/**
 * The ICE-lite agent of one browser leg (RFC 8445 §2.5): callhook has one host candidate and never sends checks;
 * it answers the browser's, and the browser, always the controlling agent against a lite one (§6.1.1), nominates a
 * pair with USE-CANDIDATE. The engine hands it the datagrams whose first byte is 0–3 (RFC 7983 §7) and sends back
 * what `receive` returns.
 *
 * - A Binding request is answered when its USERNAME is `<our ufrag>:<anything>` and its MESSAGE-INTEGRITY checks
 *   with our password, whatever the remote part: for an incoming call our offer goes out before the browser's answer,
 *   and its checks may come before its ufrag does (§7.3). Otherwise 400 or 401 (RFC 8489 §9.1.3); a request with a
 *   bad FINGERPRINT, or that does not parse, is not STUN for us and is dropped (RFC 8489 §6.3, RFC 7983 §7).
 * - Role: a lite agent is always controlled, so a request carrying ICE-CONTROLLED (the browser thinks so too) gets
 *   487 Role Conflict, which tells it to take the controlling role (§6.1.3.1, §7.3.1.1).
 * - Nomination (§7.3.1.5, §8.1.1): a valid request with USE-CANDIDATE selects its source address once the remote
 *   ufrag is known and is the USERNAME's remote part; one that came earlier is kept and applied when it is set. A later
 *   nomination from elsewhere moves the selection (the browser nominated again).
 * - Consent (RFC 7675): every valid request from the selected address renews consent; none for `consentTimeoutMs`
 *   after selection (§5.1: 30 s) fires `onConsentLost` once. One timer, re-armed for what is left when it fires,
 *   so a request costs no timer work.
 */
import { systemClock, type Clock, type TimerHandle } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { Listeners } from '../events.ts';
import type { UdpPeer } from '../latched-destination.ts';
import {
  BINDING, FINGERPRINT, ICE_CONTROLLED, MESSAGE_INTEGRITY, USE_CANDIDATE, USERNAME, bindingError, bindingSuccess,
  checkFingerprint, checkMessageIntegrity, isStunMessage, parseStun, stunAttribute, type StunMessage,
} from './stun.ts';

export interface IceLiteAgentOptions {
  /** Our ufrag and password, as our SDP gives them (a=ice-ufrag, a=ice-pwd). */
  localUfrag: string;
  localPwd: string;
  /** The browser's a=ice-ufrag, when its SDP is already known (else `setRemoteUfrag`). */
  remoteUfrag?: string;
  /** RFC 7675 §5.1: consent expires 30 s after the last check that renewed it. */
  consentTimeoutMs?: number;
  /** The consent timer's time (default: the system clock; tests pass a fake one). */
  clock?: Clock;
  logger?: Logger;
}

const DEFAULT_CONSENT_TIMEOUT_MS = 30_000;

export class IceLiteAgent {
  /** The short-term credential's key: our password as UTF-8 (RFC 8489 §9.1.1; ICE passwords are ice-chars). */
  private readonly key: Buffer;
  /** `<our ufrag>:`, compared as bytes, so a request's USERNAME is decoded only to read its remote part. */
  private readonly usernamePrefix: Buffer;
  private remoteUfrag: string | undefined;
  /** A nomination that came before the remote ufrag: applied by `setRemoteUfrag` if the ufrags agree. */
  private early: { remoteUfrag: string; from: UdpPeer } | undefined;
  private selectedAddress: UdpPeer | undefined;
  private checkedAddress: UdpPeer | undefined;
  private readonly clock: Clock;
  private readonly consentTimeoutMs: number;
  private consentAt = 0;
  private consentTimer: TimerHandle | undefined;
  /** Consent was lost: it is not watched again (RFC 7675 §5.1: the session is over, not paused). */
  private consentExpired = false;
  private closed = false;
  private readonly selectedListeners = new Listeners<[UdpPeer]>();
  private readonly consentLostListeners = new Listeners<[]>();

  constructor(private readonly o: IceLiteAgentOptions) {
    this.key = Buffer.from(o.localPwd, 'utf8');
    this.usernamePrefix = Buffer.from(`${o.localUfrag}:`, 'utf8');
    this.remoteUfrag = o.remoteUfrag;
    this.clock = o.clock ?? systemClock;
    this.consentTimeoutMs = o.consentTimeoutMs ?? DEFAULT_CONSENT_TIMEOUT_MS;
  }

  /**
   * The browser's ufrag, from its SDP. A lite agent never sends checks, so the browser's password is not needed
   * (RFC 8445 §2.5): only the ufrag, to tell whose nominations these are.
   */
  setRemoteUfrag(ufrag: string): void {
    this.remoteUfrag = ufrag;
    const early = this.early;
    this.early = undefined;
    if (early !== undefined && early.remoteUfrag === ufrag) this.select(early.from);
  }

  /** The remote address the browser nominated, once it has. */
  /**
   * Where the latest check we answered with success came from: a browser may start DTLS there before it nominates
   * a pair (RFC 8445 §8.1.1), so until `selected` is set, that is where its peer is.
   */
  get checked(): UdpPeer | undefined {
    return this.checkedAddress;
  }

  get selected(): UdpPeer | undefined {
    return this.selectedAddress;
  }

  /** A pair was nominated, or nominated again from another address. */
  onSelected(fn: (remote: UdpPeer) => void): () => void {
    return this.selectedListeners.on(fn);
  }

  /** No valid check from the selected address for `consentTimeoutMs`: fires once (RFC 7675 §5.1). */
  onConsentLost(fn: () => void): () => void {
    return this.consentLostListeners.on(fn);
  }

  /**
   * One datagram from `from` (first byte 0–3); returns the response to send back to it, if any. A malformed datagram
   * is dropped, never thrown.
   */
  receive(datagram: Buffer, from: UdpPeer): Buffer | undefined {
    if (this.closed || !isStunMessage(datagram)) return undefined;
    let request: StunMessage;
    try {
      request = parseStun(datagram);
    } catch {
      return undefined; // malformed: dropped (RFC 8489 §6.3)
    }
    // Indications (a keepalive, RFC 8445 §11) and responses (we send no requests) need nothing from us.
    if (request.class !== 'request' || request.method !== BINDING) return undefined;
    if (stunAttribute(request, FINGERPRINT) !== undefined && !checkFingerprint(request)) return undefined;
    const username = stunAttribute(request, USERNAME);
    if (username === undefined || stunAttribute(request, MESSAGE_INTEGRITY) === undefined) {
      return bindingError(request, 400, 'Bad Request');
    }
    const prefix = this.usernamePrefix;
    if (!username.value.subarray(0, prefix.length).equals(prefix) || !checkMessageIntegrity(request, this.key)) {
      return bindingError(request, 401, 'Unauthorized');
    }
    if (stunAttribute(request, ICE_CONTROLLED) !== undefined) return bindingError(request, 487, 'Role Conflict', this.key);
    if (stunAttribute(request, USE_CANDIDATE) !== undefined) this.nominated(username.value.toString('utf8', prefix.length), from);
    if (this.selectedAddress !== undefined && sameAddress(from, this.selectedAddress)) this.consentAt = this.clock.now();
    this.checkedAddress = from;
    return bindingSuccess(request, from, this.key);
  }

  /** Stops the consent timer and the listeners; later datagrams get no answer. */
  close(): void {
    this.closed = true;
    if (this.consentTimer !== undefined) this.clock.clearTimeout(this.consentTimer);
    this.consentTimer = undefined;
    this.selectedListeners.clear();
    this.consentLostListeners.clear();
  }

  private nominated(remoteUfrag: string, from: UdpPeer): void {
    if (this.remoteUfrag === undefined) this.early = { remoteUfrag, from: { address: from.address, port: from.port } };
    else if (remoteUfrag === this.remoteUfrag) this.select(from);
  }

  private select(from: UdpPeer): void {
    this.consentAt = this.clock.now();
    if (this.selectedAddress !== undefined && sameAddress(from, this.selectedAddress)) return;
    this.selectedAddress = { address: from.address, port: from.port };
    if (this.consentTimer === undefined && !this.consentExpired) this.watchConsent(this.consentTimeoutMs);
    this.selectedListeners.emit(this.listenerFailed, this.selectedAddress);
  }

  private watchConsent(ms: number): void {
    this.consentTimer = this.clock.setTimeout(() => {
      const left = this.consentAt + this.consentTimeoutMs - this.clock.now();
      if (left > 0) return this.watchConsent(left);
      this.consentTimer = undefined;
      this.consentExpired = true;
      this.consentLostListeners.emit(this.listenerFailed);
    }, ms, { unref: true });
  }

  private readonly listenerFailed = (err: unknown): void => {
    this.o.logger?.error({ err }, 'ICE agent listener failed');
  };
}

function sameAddress(a: UdpPeer, b: UdpPeer): boolean {
  return a.port === b.port && a.address === b.address;
}
