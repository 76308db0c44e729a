/**
 * The gateway: the one place that joins the client API, the REST hooks, the SIP stack and the media relay. It turns
 * a client's `connection` into a Session (after the connect hook), keeps the live sessions (and through them their
 * calls), answers `show sessions` / `show calls`, and ends every session when the server stops.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { CallInfo, SessionControl, SessionInfo, SessionsProvider } from './info.ts';
import type { EventDeliveryFailure, HookContext, HookEngine } from '../hooks/types.ts';
import type { AppLookup } from '../hooks/storage.ts';
import { DEFAULT_APP_KEY, type CallDetailRecords } from '../store/index.ts';
import type { UserAgent } from '../sip/ua/index.ts';
import { GatewayError } from './errors.ts';
import { clientAddressOf, sessionIdOf } from './ids.ts';
import type { CallMedia } from '../media/index.ts';
import { CallLimits, type CallLimitSettings } from './call-limits.ts';
import type { CallMetrics } from './metrics.ts';
import type { Call } from './call.ts';
import { Session, type SessionDeps } from './session.ts';
import { readSipSettings } from './sip-settings.ts';
import { withoutContext } from './views.ts';
import { TimelineRecorder, type SessionTimeline } from './timeline.ts';
import type { ClientEndpoint, ClientPort, ConnectionRequest, SessionEndedBy } from './types.ts';

export interface GatewayOptions {
  ua: UserAgent;
  hooks: HookEngine;
  log: Logger;
  /** `<random>@<server ip>` (./ids.ts newNodeId). */
  nodeId: string;
  /** The media engine, port allocators and codec choice of calls (../media/call-media.ts createCallMedia). */
  media: CallMedia;
  /** Where calls' detail records are kept (the store's). */
  callRecords: CallDetailRecords;
  /** Where calls are counted for /metrics (./metrics.ts createCallMetrics). */
  callMetrics: CallMetrics;
  config: Pick<Config, 'registerExpires' | 'sipTransport' | 'sipSrtp'> & CallLimitSettings;
  /** Per-session timelines (./timeline.ts); none are kept without one. */
  timeline?: TimelineRecorder;
  /** Where calls are recorded (`<dataDir>/recordings`). */
  recordingsDir: string;
  /** The apps, for an app's own codecPolicy (read when each call starts, so a change applies to the next call). */
  apps?: AppLookup;
}

/** What a session or call ended by the admin API tells the client and the backend. */
export const TERMINATED_BY_ADMIN = 'Terminated by the administrator';

export class Gateway implements SessionsProvider, SessionControl {
  private readonly live = new Map<string, Session>();
  /** Sessions detaching: their unregistration is still out. `close()` waits for them. */
  private readonly ending = new Set<Session>();
  private readonly log: Logger;
  private readonly callLimits: CallLimits;
  private readonly timeline: TimelineRecorder;
  private readonly removeSipTap: () => void;
  private closing = false;
  /** What every session is given: one object for all of them. */
  private readonly sessionDeps: SessionDeps;

  constructor(private readonly o: GatewayOptions) {
    this.log = o.log.child({ component: 'gateway' });
    this.callLimits = new CallLimits(o.config);
    this.timeline = o.timeline ?? new TimelineRecorder({ keepEnded: 0, maxSteps: 0, maxBytes: 0 });
    this.removeSipTap = this.timeline.enabled ? o.ua.transports.observe(this.timeline.sipObserver) : () => undefined;
    this.sessionDeps = {
      ua: o.ua, hooks: o.hooks, log: o.log, media: o.media, callRecords: o.callRecords, callMetrics: o.callMetrics,
      callLimits: this.callLimits, config: o.config, recordingsDir: o.recordingsDir, ...(o.apps && { apps: o.apps }),
      owner: {
        sessionEnded: (s) => {
          this.ending.delete(s);
          this.timeline.close(s.timeline);
        },
        // detach() never rejects (Session.detach logs what fails while ending): nothing to await here.
        sessionFailed: (s, info) => void this.detach(s, info, 'callhook'),
      },
    };
  }

  /** Live sessions (connected clients). */
  get sessionCount(): number {
    return this.live.size;
  }

  /**
   * A client's `connection`: the connect hook, then a Session that is ESTABLISHED (and registering when asked).
   * A refused connect (hook, bad sip* fields, stopping) sends the client `fail` for ConnectionStatusEvent, tells the
   * backend FAILED, ends the connection and resolves undefined. `sessionId` is the client's socket ends by default;
   * a session without a socket (the REST API's) brings its own.
   */
  async connect(
    port: ClientPort, endpoint: ClientEndpoint, request: ConnectionRequest, sessionId = sessionIdOf(endpoint),
  ): Promise<Session | undefined> {
    const appKey = typeof request.appKey === 'string' && request.appKey !== '' ? request.appKey : DEFAULT_APP_KEY;
    const context: HookContext = { appKey, sessionId, nodeId: this.o.nodeId };
    const timeline = this.timeline.open(sessionId, appKey);
    timeline.fromClient('connection');
    if (this.closing) return this.refuse(port, context, timeline, 'Server stopping');
    let outcome;
    try {
      outcome = await this.o.hooks.invoke('connect', { ...request, appKey }, context);
    } catch (err) {
      // A bug (the client API contains it): the timeline of a session that never started must not stay live.
      this.timeline.close(timeline);
      throw err;
    }
    if (!outcome.ok) return this.refuse(port, context, timeline, outcome.info);
    if (this.closing) return this.refuse(port, context, timeline, 'Server stopping');
    const fields = withoutContext(outcome.body);
    let sip;
    try {
      sip = readSipSettings(fields, this.o.config.sipTransport, this.o.config.sipSrtp);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      return this.refuse(port, context, timeline, e.message);
    }
    timeline.sipLogin = sip.login;
    const session = new Session(
      this.sessionDeps,
      {
        sessionId,
        appKey,
        nodeId: this.o.nodeId,
        port,
        remoteAddress: clientAddressOf(endpoint),
        fields,
        restClientConfig: outcome.restClientConfig,
        sip,
        timeline,
      },
    );
    this.live.set(sessionId, session);
    session.start(outcome.clientExclude);
    return session;
  }

  /** The client of `session` is gone; `info` says why (it goes into ConnectionStatusEvent DISCONNECTED). */
  detach(session: Session, info: string, by: SessionEndedBy): Promise<void> {
    if (this.live.get(session.sessionId) === session) {
      this.live.delete(session.sessionId);
      this.ending.add(session);
    }
    return session.detach(info, by);
  }

  /** The hook engine could not deliver an event of a session whose restOnError is FAIL (docs/hooks.md "The response" table). */
  eventDeliveryFailed(failure: EventDeliveryFailure): void {
    this.live.get(failure.sessionId)?.eventDeliveryFailed(`${failure.method}: ${failure.info}`);
  }

  terminateSession(sessionId: string, info = TERMINATED_BY_ADMIN): boolean {
    const session = this.live.get(sessionId);
    if (session === undefined) return false;
    session.terminate(info);
    return true;
  }

  terminateCall(callId: string, info = TERMINATED_BY_ADMIN): boolean {
    return [...this.live.values()].some((s) => s.calls.terminate(callId, info));
  }

  /** The live session `sessionId`. */
  session(sessionId: string): Session | undefined {
    return this.live.get(sessionId);
  }

  /** The live call `callId`, of whichever session has it (a session still detaching included). */
  call(callId: string): Call | undefined {
    for (const s of [...this.live.values(), ...this.ending]) {
      const call = s.call(callId);
      if (call !== undefined) return call;
    }
    return undefined;
  }

  sessions(): SessionInfo[] {
    return [...this.live.values()].map((s) => s.info());
  }

  /** Live calls of every session, those of sessions still detaching included (their calls are ending). */
  calls(): CallInfo[] {
    return [...this.live.values(), ...this.ending].flatMap((s) => s.calls.infos());
  }

  /**
   * Refuses new connections and ends every session (DISCONNECTED, calls ended, unregistration), waiting at most
   * `timeoutMs` for SIP peers and registrars to answer (the server's shutdownDrainMs bounds it). The client API
   * closes the sockets itself.
   */
  async close(timeoutMs: number, info = 'Server stopping'): Promise<void> {
    this.closing = true;
    // Each detach is awaited below through `ending`; it never rejects.
    for (const s of [...this.live.values()]) void this.detach(s, info, 'callhook');
    const all = Promise.all([...this.ending].map((s) => s.detach(info, 'callhook')));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([all, timeout]);
    clearTimeout(timer);
    this.removeSipTap();
    if (result === 'timeout') this.log.warn({ sessions: this.ending.size }, 'stopping without waiting for every unregistration');
  }

  private refuse(port: ClientPort, context: HookContext, timeline: SessionTimeline, info: string): undefined {
    this.log.info({ sessionId: context.sessionId, appKey: context.appKey, reason: info }, 'session refused');
    // docs/hooks.md: on a refused connect only status and info go to the client, and the backend hears FAILED.
    this.o.hooks.emit('ConnectionStatusEvent', { status: 'FAILED', info }, context);
    const refused = { type: 'failed', failure: { apiMethod: 'ConnectionStatusEvent', info } } as const;
    port.deliver(refused);
    timeline.toClient(refused);
    port.end(info);
    this.timeline.close(timeline);
    return undefined;
  }
}
