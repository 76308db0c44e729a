/**
 * One client connection after its connect hook succeeded: the fields the hook settled on, the session's
 * restClientConfig, its SIP identity and registration, and the hooks and client events of its life
 * (docs/client-protocol.md, docs/hooks.md):
 *
 *   start   → ConnectionStatusEvent ESTABLISHED, getUserData; REGISTER when sipRegisterRequired
 *   live    → RegistrationStatusEvent changes, MESSAGE both ways, calls both ways (./calls.ts)
 *   detach  → ConnectionStatusEvent DISCONNECTED; every call ended (CANCEL / BYE / 480); REGISTER Expires 0 →
 *             RegistrationStatusEvent UNREGISTERED
 *
 * States: Attached → Detaching → Ended (`detach` is idempotent and resolves when the SIP side is cleaned up).
 * The events that open the connection and the registration carry their wills (./wills.ts): should callhook die,
 * the next start still tells the backend the session ended.
 *
 * The session's own steps (its start, messages, its registration, incoming requests) run through `contain`: a bug in
 * one ends this session — `fail` ConnectionStatusEvent `Internal error` to the client, whose connection is closed,
 * then the detach above with that info — and goes no further (docs/security.md "Failure containment").
 */
import type { Config } from '../config/schema.ts';
import { lazyChild, type Logger } from '../log.ts';
import type { HookContext, HookEngine, JsonObject } from '../hooks/types.ts';
import type { AppCodecPolicy, RestClientConfig } from '../hooks/model.ts';
import type { AppLookup } from '../hooks/storage.ts';
import type { SessionInfo } from './info.ts';
import type { ContactBinding, IncomingRequest, SipAccount, UserAgent } from '../sip/ua/index.ts';
import type { Call, CallHost } from './call.ts';
import type { CallMedia, SrtpPolicy } from '../media/index.ts';
import type { CallDetailRecords } from '../store/index.ts';
import type { CallLimits } from './call-limits.ts';
import type { CallMetrics } from './metrics.ts';
import { SessionCalls } from './calls.ts';
import { contain } from './contain.ts';
import { GatewayError, INTERNAL_ERROR } from './errors.ts';
import { receiveIncoming, sendOutgoing, type MessagingHost } from './messaging.ts';
import { SessionRegistration, type RegistrationReport } from './registration.ts';
import { accountOf, type SipSettings } from './sip-settings.ts';
import { newAuthToken } from './ids.ts';
import { clientView, withoutSecrets } from './views.ts';
import { connectionWill, registrationWill } from './wills.ts';
import type { CallMessage, ClientEvent, ClientPort, OutgoingMessageRequest, SessionEndedBy } from './types.ts';
import type { SessionTimeline } from './timeline.ts';

export interface SessionDeps {
  ua: UserAgent;
  hooks: HookEngine;
  log: Logger;
  media: CallMedia;
  callRecords: CallDetailRecords;
  callMetrics: CallMetrics;
  /** The gateway's call limits, shared by every session (per-IP counts). */
  callLimits: CallLimits;
  config: Pick<Config, 'registerExpires'>;
  /** The apps, for the app's own codecPolicy. */
  apps?: AppLookup;
  /** Where calls are recorded (`<dataDir>/recordings`). */
  recordingsDir: string;
  /** Who keeps the sessions (the gateway), told when one ends. */
  owner: SessionOwner;
}

/**
 * What a session tells the gateway that keeps it. Methods of one object the gateway shares with every session,
 * rather than two closures made for each (SessionDeps is one object for all sessions).
 */
export interface SessionOwner {
  /** `session` has ended (after its SIP side is cleaned up). */
  sessionEnded(session: Session): void;
  /** `session` must end now, for `info` (a bug hit it): the gateway detaches it. */
  sessionFailed(session: Session, info: string): void;
}

export interface SessionInit {
  sessionId: string;
  appKey: string;
  nodeId: string;
  port: ClientPort;
  /** The client's IP address (call limits per IP). */
  remoteAddress: string;
  /** The connection fields after the connect hook, without the context fields (the password included). */
  fields: JsonObject;
  restClientConfig: RestClientConfig;
  sip: SipSettings;
  /** Where the session's steps are recorded (./timeline.ts). */
  timeline: SessionTimeline;
}

type SessionPhase = 'Attached' | 'Detaching' | 'Ended';

/** The info line of each registration report (docs/admin.md "Logs"). */
const REGISTRATION_LOG = {
  REGISTERED: 'registration ok',
  FAILED: 'registration failed',
  REFRESH_FAILED: 'registration refresh failed',
  UNREGISTERED: 'registration removed',
} as const;

export class Session implements MessagingHost, CallHost {
  readonly sessionId: string;
  readonly appKey: string;
  /** ms since the epoch (a number: a Date costs some 100 bytes a session). */
  readonly connectedAt = Date.now();
  readonly log: Logger;
  /** The session's calls: client call messages go here. */
  readonly calls: SessionCalls;
  readonly timeline: SessionTimeline;
  private state: SessionPhase = 'Attached';
  /** The registration's Contact, which also receives the session's incoming calls. */
  private contact: ContactBinding | undefined;
  private registration: SessionRegistration | undefined;
  /** The registration status when it could not even start (no identity): there is no SessionRegistration then. */
  private registrationFailure: string | undefined;
  private cachedAccount: SipAccount | undefined;
  /** The registration status last logged: a FAILED after REGISTERED is a refresh that failed. */
  private registrationLogged: RegistrationReport['status'] | undefined;
  private ended: Promise<void> | undefined;
  private readonly context: HookContext;

  constructor(
    private readonly deps: SessionDeps,
    private readonly init: SessionInit,
  ) {
    this.sessionId = init.sessionId;
    this.appKey = init.appKey;
    this.log = lazyChild(deps.log, { sessionId: init.sessionId, appKey: init.appKey });
    this.timeline = init.timeline;
    this.calls = new SessionCalls(this, deps.callLimits, init.remoteAddress);
    this.context = { appKey: init.appKey, sessionId: init.sessionId, nodeId: init.nodeId, restClientConfig: init.restClientConfig };
  }

  // What every session shares, read from the one SessionDeps rather than copied into each session's fields.
  get ua(): UserAgent {
    return this.deps.ua;
  }

  get hooks(): HookEngine {
    return this.deps.hooks;
  }

  get media(): CallMedia {
    return this.deps.media;
  }

  get callRecords(): CallDetailRecords {
    return this.deps.callRecords;
  }

  get callMetrics(): CallMetrics {
    return this.deps.callMetrics;
  }

  get recordingsDir(): string {
    return this.deps.recordingsDir;
  }

  get attached(): boolean {
    return this.state === 'Attached';
  }

  get sipLogin(): string | undefined {
    return this.init.sip.login;
  }

  get sipSrtp(): SrtpPolicy {
    return this.init.sip.srtp;
  }

  appCodecPolicy(): AppCodecPolicy | undefined {
    return this.deps.apps?.getByKey(this.appKey)?.codecPolicy;
  }

  get binding(): ContactBinding | undefined {
    return this.contact;
  }

  hookContext(): HookContext {
    return this.context;
  }

  account(): SipAccount {
    this.cachedAccount ??= accountOf(this.init.sip);
    return this.cachedAccount;
  }

  deliver(event: ClientEvent): boolean {
    if (!this.attached || !this.init.port.deliver(event)) return false;
    this.timeline.toClient(event);
    return true;
  }

  /**
   * Ended by the admin API: the client gets `fail` ConnectionStatusEvent with `info` and its connection is closed,
   * then the session ends as for any client that leaves (DISCONNECTED with `info` to the backend).
   */
  terminate(info: string): void {
    this.deliver({ type: 'failed', failure: { apiMethod: 'ConnectionStatusEvent', info } });
    this.init.port.end(info);
    this.deps.owner.sessionFailed(this, info);
  }

  /**
   * ESTABLISHED: the event to the backend, getUserData to the client, then the REGISTER when asked for.
   * `connectClientExclude` is the connect method's clientExclude (ConnectionStatusEvent's is added here).
   */
  start(connectClientExclude: readonly string[]): void {
    this.contain('start', () => this.establish(connectClientExclude));
  }

  /**
   * Resolves once the message has its final status, never rejects (the client API bounds messages in progress); a
   * bug on the way ends the session.
   */
  sendMessage(request: OutgoingMessageRequest): Promise<void> {
    this.timeline.fromClient('sendMessage');
    return new Promise((settled) => this.contain('sendMessage', () => sendOutgoing(this, request).finally(settled)));
  }

  private establish(connectClientExclude: readonly string[]): void {
    const established = { ...withoutSecrets(this.init.fields), status: 'ESTABLISHED', info: 'Connected' };
    const { clientExclude } = this.hooks.emit('ConnectionStatusEvent', established, this.context, connectionWill(this.init.fields));
    const userData = {
      ...this.init.fields,
      appKey: this.appKey,
      status: 'ESTABLISHED',
      sessionId: this.sessionId,
      // Drawn here, its one use: a session lives for days and would otherwise hold it all along.
      authToken: newAuthToken(),
    };
    this.deliver({ type: 'established', userData: clientView(userData, [...connectClientExclude, ...clientExclude]) });
    this.log.info({ ip: this.init.remoteAddress, sipLogin: this.init.sip.login }, 'session connected');
    if (this.init.sip.registerRequired) this.register();
  }

  /** A client's `notificationResult` for a message it received. The 200 went out on delivery (see docs). */
  acknowledge(notificationResult: JsonObject): void {
    this.log.debug({ id: notificationResult['id'] }, 'notificationResult');
  }

  /**
   * A call message that could not be carried out (an unknown callId, a state that does not allow it, the far end
   * refusing it): `fail` to the client and ErrorStatusEvent to the backend, the hook of errors that have no event
   * of their own (docs/hooks.md).
   */
  refuse(message: CallMessage, callId: string, info: string): void {
    this.hooks.emit('ErrorStatusEvent', { apiMethod: message, info, callId }, this.context);
    this.deliver({ type: 'failed', failure: { apiMethod: message, info, callId } });
  }

  /** Ends the client's connection (the REST API's connection/terminate); its closing detaches the session with `info`. */
  end(info: string): void {
    this.init.port.end(info);
  }

  /** The live call `callId` of this session. */
  call(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /** An event of this session could not be delivered to a backend whose restOnError is FAIL. */
  eventDeliveryFailed(info: string): void {
    this.deliver({ type: 'failed', failure: { apiMethod: 'ErrorStatusEvent', info } });
  }

  /**
   * The client is gone (`info` says why). Emits DISCONNECTED, ends every call (CANCEL, BYE, or 480 to one still
   * ringing) while removing the registration, and resolves once the SIP side is clean. Idempotent.
   */
  detach(info: string, by: SessionEndedBy): Promise<void> {
    if (this.ended) return this.ended;
    this.state = 'Detaching';
    this.log.info({ ip: this.init.remoteAddress, reason: info, durationMs: Date.now() - this.connectedAt }, 'session ended');
    this.hooks.emit('ConnectionStatusEvent', { ...withoutSecrets(this.init.fields), status: 'DISCONNECTED', info }, this.context, connectionWill(null));
    const callsEnded = this.calls.endAll(info, by);
    this.ended = (async () => {
      try {
        const [unregistered] = await Promise.all([this.registration?.stop(), callsEnded]);
        if (unregistered) this.reportRegistration(unregistered);
        this.hooks.endSession(this.sessionId);
      } catch (err) {
        // e.g. the server stopped waiting and closed the store under a late unregistration
        this.log.error({ err }, 'ending the session failed');
      } finally {
        this.state = 'Ended';
        this.deps.owner.sessionEnded(this);
      }
    })();
    return this.ended;
  }

  info(): SessionInfo {
    const s: SessionInfo = {
      sessionId: this.sessionId,
      appKey: this.appKey,
      status: this.attached ? 'ESTABLISHED' : 'DISCONNECTED',
      connectedAt: new Date(this.connectedAt).toISOString(),
    };
    if (this.init.sip.login !== undefined) s.sipLogin = this.init.sip.login;
    if (this.init.sip.domain !== undefined) s.sipDomain = this.init.sip.domain;
    const registration = this.registration?.status ?? (this.registrationFailure === undefined ? undefined : 'FAILED');
    if (registration !== undefined) s.registration = registration;
    return s;
  }

  private register(): void {
    let account: SipAccount;
    try {
      account = this.account();
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      this.registrationFailure = e.message;
      return this.reportRegistration({ status: 'FAILED', info: e.message });
    }
    // The Contact of the registration: requests the registrar routes to it (MESSAGE, new INVITEs) reach this session.
    const binding = this.ua.bindContact((request) => this.onSipRequest(request), { onInvite: (invitation) => this.calls.receive(invitation) });
    this.contact = binding;
    const registration = new SessionRegistration({
      ua: this.ua,
      account,
      expires: this.deps.config.registerExpires,
      binding,
      onReport: (report) => this.contain('registration', () => this.reportRegistration(report)),
      onError: (err) => this.internalError(err, 'REGISTER'),
      log: this.log,
    });
    this.registration = registration;
    this.timeline.trackSip(registration.callId, true);
    registration.start();
  }

  /** RegistrationStatusEvent to the backend; `registered` or `fail` to the client (UNREGISTERED has no client). */
  private reportRegistration(report: RegistrationReport): void {
    const refresh = report.status === 'FAILED' && this.registrationLogged === 'REGISTERED';
    this.registrationLogged = report.status;
    this.log.info({ status: report.status, info: report.info }, REGISTRATION_LOG[refresh ? 'REFRESH_FAILED' : report.status]);
    const { clientExclude } = this.hooks.emit('RegistrationStatusEvent', { ...report }, this.context, registrationWill(report.status));
    const visible = clientView({ ...report }, clientExclude);
    if (report.status === 'REGISTERED') {
      this.deliver({ type: 'registered', event: visible });
    } else if (report.status === 'FAILED') {
      const raw = visible['sipMessageRaw'];
      this.deliver({
        type: 'failed',
        failure: { apiMethod: 'RegistrationStatusEvent', info: report.info, ...(typeof raw === 'string' && { sipMessageRaw: raw }) },
      });
    }
  }

  private onSipRequest(request: IncomingRequest): void {
    if (request.message.method !== 'MESSAGE') return request.respond(501);
    this.contain('incoming MESSAGE', async () => {
      try {
        await receiveIncoming(this, request);
      } catch (err) {
        request.respond(500);
        throw err;
      }
    });
  }

  /** Runs one of the session's own steps; a bug in it ends the session. */
  private contain(step: string, run: () => Promise<void> | void): void {
    contain(run, (err) => this.internalError(err, step));
  }

  /** A bug hit the session in `step`: logged with its stack; the client gets `fail` and the session ends. */
  private internalError(err: unknown, step: string): void {
    this.log.error({ err, step }, 'session failed unexpectedly: ending it');
    if (!this.attached) return; // ending already
    try {
      this.deliver({ type: 'failed', failure: { apiMethod: 'ConnectionStatusEvent', info: INTERNAL_ERROR } });
      this.init.port.end(INTERNAL_ERROR);
    } finally {
      this.deps.owner.sessionFailed(this, INTERNAL_ERROR);
    }
  }
}
