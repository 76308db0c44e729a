/**
 * The hook engine's public types. The engine knows nothing of SIP or WebSockets: a caller (the gateway, the admin
 * API, a test) hands it a method, a JSON body and the session's context, and gets back what to do.
 */
import type { Logger } from '../log.ts';
import type { JsonObject } from '../json/json-object.ts';
import type { RestClientConfig } from './model.ts';
import type { HookLogEntry, HookStore, SessionWill } from './storage.ts';
import type { DecisionMethod, EventMethod } from './methods.ts';
import type { Registry } from 'prom-client';
import type { HookHttpResponse } from './http.ts';
import type { HookRequest } from './request.ts';

/**
 * Who a hook is about. The three context fields go into every body and the backend can never change them
 * (docs/hooks.md "The request"). `restClientConfig` is the session's effective config: leave it undefined for
 * `connect`, then keep the one `connect` returns and pass it with every later call of that session.
 */
export interface HookContext {
  appKey: string;
  /** `/<client ip>:<client port>/<server ip>:<server port>` */
  sessionId: string;
  /** `<random>@<server ip>` */
  nodeId: string;
  restClientConfig?: RestClientConfig;
}

/** The context field names, which a backend's answer never changes and restExclude never removes. */
export const CONTEXT_FIELDS = ['nodeId', 'appKey', 'sessionId'] as const;

export type { JsonObject };

/**
 * Outcome of a decision hook (`invoke`). In every case `body` is what the operation goes on with and
 * `clientExclude` names the fields the client must not be sent (from this method's restClientConfig entry).
 *
 * - `ok: true`: proceed. `called` is false when no request was made (method not enabled, restPolicy DISABLE,
 *   disableRest); `body` is then the caller's own data. For `connect`, `body` holds the response's non-context
 *   fields over the request's (SIP credentials!), and `restClientConfig` is the session's effective config.
 * - `ok: false`: an interaction error (non-200, network error, timeout, bad body). `info` is what the client is
 *   shown (docs/hooks.md: the `{status,reason}` reason, else the HTTP reason phrase, else the error text);
 *   `refuse` says whether the operation must stop (connect always; direct/incoming with restOnError FAIL):
 *     connect  → send `fail` (apiMethod ConnectionStatusEvent) with `info`, close the session;
 *     direct   → stop the operation, `fail` for its event;
 *     incoming → answer the SIP request 403, `fail` to the client.
 *   With `refuse: false` (restOnError LOG) the operation goes on with `body` (the caller's own data).
 */
export type HookOutcome = HookProceed | HookFailure;

export interface HookProceed {
  ok: true;
  called: boolean;
  body: JsonObject;
  clientExclude: string[];
  /** The session's effective config: for connect the new one, else the one passed in ctx (or the app's). */
  restClientConfig: RestClientConfig;
}

export interface HookFailure {
  ok: false;
  refuse: boolean;
  info: string;
  /** The backend's status when it answered at all. */
  httpStatus?: number;
  body: JsonObject;
  clientExclude: string[];
  restClientConfig: RestClientConfig;
}

/**
 * A session's will about one of its subjects (its connection, its registration, a call): the event its backend is
 * owed should callhook die before the subject ends — without it, a session alive at a crash would never be closed
 * for the backend. A will rides on the `emit` that opens or changes the subject and is written in the same
 * transaction, so the store never holds the one without the other; the `emit` that closes the subject settles it
 * (`owed: null`). The next `start()` emits every will a crash left, exactly once, before anything else. The owed
 * event has the method of the `emit` that carried the will, and the session's context and restClientConfig.
 */
export interface Will {
  /** The subject within the session, e.g. `connection`, `call <callId>`. */
  subject: string;
  /** The body of the owed event; null when the event being emitted closes the subject. */
  owed: JsonObject | null;
}

/** Result of `emit`: the event is in the outbox (or was not queued because the hook is off for it). */
export interface EmitResult {
  queued: boolean;
  /** Present when queued. */
  eventId?: string;
  /**
   * Present when queued: resolves with the event's sequence once it is in the store (at the store's group commit,
   * the end of the turn of the event loop), or undefined when the store failed (logged). Never rejects.
   */
  committed?: Promise<number | undefined>;
  /** Fields of this event the client must not be sent. */
  clientExclude: string[];
}

/**
 * A delivery attempt of an event whose restOnError was FAIL failed (reported once per event, on its first failed
 * attempt): the session, if still there, sends the client `fail` with ErrorStatusEvent (docs/hooks.md "The response" table).
 */
export interface EventDeliveryFailure {
  appKey: string;
  sessionId: string;
  method: string;
  eventId: string;
  info: string;
}

export interface OutboxOptions {
  /** First retry delay; doubles per failed attempt (docs/hooks.md "Events": 250 ms → 60 s). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Deliveries in flight at once per app (sessions of one app in parallel, one in flight per session). */
  concurrencyPerApp?: number;
}

/** What the engine reads of the configuration: the settings of these names (docs/configuration.md). */
export interface HookEngineSettings {
  restRequestTimeoutMs: number;
  restRetryCount: number;
  restEventMaxAgeMs: number;
  disableRest: boolean;
  userAgent: string;
  /** Bytes kept of each body in the hook log; 0 keeps none (./hook-log-body.ts). */
  hookLogMaxBodyBytes: number;
}

/** One hook attempt as the hook log records it (bodies redacted and bounded), with the session it is about. */
export interface HookAttempt extends Omit<HookLogEntry, 'id'> {
  sessionId: string;
}

export interface HookEngineDeps {
  store: HookStore;
  config: HookEngineSettings;
  log: Logger;
  outbox?: OutboxOptions;
  onEventDeliveryFailure?: (failure: EventDeliveryFailure) => void;
  /** Each attempt, right after it is logged (the gateway's session timeline listens). Must not throw. */
  onAttempt?: (attempt: HookAttempt) => void;
  /** Clock (ms since epoch); tests only. */
  now?: () => number;
  /** A backend this process serves itself (the built-in EchoApp): see LocalHookBackend. */
  localBackend?: LocalHookBackend;
}

/**
 * A hook backend served by the process that sends the hooks. `answer` returns the answer the backend's HTTP route
 * would give, without the loopback HTTP round trip (its parsing, sockets and a turn of both servers, most of a
 * registration's cost against the built-in EchoApp: issue 18), or undefined for a request it does not serve,
 * which then goes over HTTP as usual. Everything else about the attempt (hook log, metrics, retries) is unchanged.
 */
export interface LocalHookBackend {
  answer(req: HookRequest): Promise<HookHttpResponse> | undefined;
}

export interface HookEngine {
  /**
   * A decision hook (connect, direct, incoming). Never throws for backend trouble: see HookOutcome. `signal`: the
   * caller stops waiting when it aborts (the promise rejects with its reason); a request already sent runs on and
   * is logged, as the backend may have acted on it; none is sent once the signal has aborted.
   */
  invoke(method: DecisionMethod, body: JsonObject, ctx: HookContext, signal?: AbortSignal): Promise<HookOutcome>;
  /**
   * An event: handed to the outbox (durable when `committed` resolves: SQLite before returning, PostgreSQL at the
   * group commit of this turn of the event loop); delivered later by the worker. `will`: what the
   * backend is owed about the event's subject from now on, should callhook die (see Will); nothing is owed for an
   * event the backend does not get (hook off).
   */
  emit(method: EventMethod, body: JsonObject, ctx: HookContext, will?: Will): EmitResult;
  /**
   * The session is over: whatever will it still has is dropped (a subject that ended without its closing event,
   * such as a registration whose removal got no answer, owes nothing at the next start either).
   */
  endSession(sessionId: string): void;
  /**
   * Emits what sessions of the previous run still owed (their wills: a crash ended them), then starts the
   * delivery worker, resuming what was pending in the store.
   */
  start(): Promise<void>;
  /**
   * Stops the worker. Requests in flight are aborted: deliveries stay pending (sent again after the next start),
   * decision hooks resolve as interaction errors ("REST request aborted: callhook is stopping").
   */
  stop(): Promise<void>;
  /**
   * Waits, at most `timeoutMs`, until the worker has sent what it can send now: every pending event delivered,
   * except those of sessions waiting out a failed delivery's backoff (a stopping server flushes the outbox before
   * stop()). Resolves false on the timeout. What is left stays pending for the next start.
   */
  drain(timeoutMs: number): Promise<boolean>;
  /**
   * Emits what sessions of another node owed when it was lost (its wills, taken over from the store), with `info`
   * in place of the wills' own; resolves with how many events were appended. Their delivery starts at once.
   */
  emitOwed(wills: readonly SessionWill[], info: string): Promise<number>;
  /** Events moved to this node in the store (a lost node's, taken over) are picked up for delivery. */
  adoptEvents(): Promise<void>;
  /** Dead letters → pending, delivered at once. Returns how many. */
  replayEvents(q?: { appKey?: string; since?: number }): Promise<number>;
  /** prom-client registry with the hook metrics (serve `await metrics.metrics()` at /metrics). */
  readonly metrics: Registry;
}
