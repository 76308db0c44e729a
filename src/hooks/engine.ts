/**
 * The hook engine: every rule of docs/hooks.md, over the store and an HTTP client.
 *
 * - `invoke` runs a decision hook (connect, direct, incoming) and tells the caller whether to proceed and with
 *   which fields; `emit` puts an event into the outbox and returns at once; the outbox worker delivers it.
 * - Knows nothing of SIP or WebSockets: the caller turns outcomes into `fail` messages, SIP 403s and so on
 *   (see HookOutcome in ./types.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { App, RestClientConfig } from './model.ts';
import type { OutboxEvent, SessionWill, StoreWrite } from './storage.ts';
import { isRestMethod, methodType, type DecisionMethod, type EventMethod, type RestMethod } from './methods.ts';
import { parseRestClientConfig, resolveMethodConfig, sessionRestClientConfig, type ResolvedMethodConfig } from './rest-client-config.ts';
import { buildHookRequest } from './request.ts';
import { logBody } from './hook-log-body.ts';
import { HookHttpClient } from './http.ts';
import { interpret, type Interaction } from './interaction.ts';
import { createHookMetrics } from './metrics.ts';
import { OutboxWorker, type DeliveryResult } from './outbox-worker.ts';
import { HookError } from './errors.ts';
import { WriteBehind } from './write-behind.ts';
import {
  CONTEXT_FIELDS,
  type EmitResult,
  type HookContext,
  type HookEngine,
  type HookEngineDeps,
  type HookOutcome,
  type JsonObject,
  type Will,
} from './types.ts';

const CONTEXT = new Set<string>(CONTEXT_FIELDS);

/** `work`'s outcome, unless `signal` aborts first: then its reason, and `work` goes on unwatched. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** docs/hooks.md "Events": backoff from 250 ms, capped at 60 s. */
export const DEFAULT_BACKOFF_MIN_MS = 250;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;
export const DEFAULT_CONCURRENCY_PER_APP = 32;

/**
 * Sets a field as an own data property. Plain assignment of a key named `__proto__` taken from a backend's JSON
 * would replace the object's prototype instead of setting a field.
 */
function put(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The body as the hook sees it: the context fields first, with the values from `ctx` (never from the caller's
 * body). Spread copies own data properties only, so a `__proto__` key stays a plain field here too.
 */
function withContext(body: JsonObject, ctx: HookContext): JsonObject {
  const out: JsonObject = { nodeId: ctx.nodeId, appKey: ctx.appKey, sessionId: ctx.sessionId, ...body };
  out['nodeId'] = ctx.nodeId;
  out['appKey'] = ctx.appKey;
  out['sessionId'] = ctx.sessionId;
  return out;
}

/** restExclude: fields not sent to the backend. Context fields are always sent: every body carries them. */
function without(body: JsonObject, fields: readonly string[]): JsonObject {
  if (fields.length === 0) return body;
  const out: JsonObject = { ...body };
  for (const f of fields) if (!CONTEXT.has(f)) delete out[f];
  return out;
}

export function createHookEngine(deps: HookEngineDeps): HookEngine {
  const { store, config, log } = deps;
  const now = deps.now ?? Date.now;
  const http = new HookHttpClient();
  const metrics = createHookMetrics(store.outbox);
  const writes = new WriteBehind(store, log);

  /**
   * One hook exchange with the docs/hooks.md retry rule: a request that could not be sent at all is sent again,
   * up to restRetryCount more times. Each attempt is logged (hook log, metrics); `timeoutMs` bounds each attempt.
   */
  const logged = (text: string | null): string | null =>
    text === null || config.hookLogMaxBodyBytes === 0 ? null : logBody(text, config.hookLogMaxBodyBytes);

  async function exchange(app: App, method: string, body: JsonObject | string, sessionId: string): Promise<Interaction> {
    for (let attempt = 0; ; attempt++) {
      const time = now();
      let result: Interaction;
      let url = app.url;
      let latencyMs = 0;
      let requestText: string | null = null;
      let responseText: string | null = null;
      try {
        const req = buildHookRequest(app, method, body, { userAgent: config.userAgent, now: time });
        url = req.url;
        requestText = req.rawBody;
        const res = await (deps.localBackend?.answer(req) ?? http.send(req, { timeoutMs: config.restRequestTimeoutMs }));
        latencyMs = res.latencyMs;
        if (res.kind === 'response') responseText = res.bodyText;
        result = interpret(res);
      } catch (e) {
        if (!(e instanceof HookError)) throw e;
        result = { ok: false, info: e.message, error: e.message, unsent: false, outcome: 'bad_response' };
      }
      if (!result.ok && result.outcome === 'aborted') return result; // stopping: not an attempt to record
      const outcome = result.ok ? 'ok' : result.outcome;
      metrics.requests.inc({ app: app.appKey, method, outcome });
      metrics.latency.observe({ app: app.appKey, method }, latencyMs / 1000);
      const requestBody = logged(requestText);
      const entry = {
        time,
        appKey: app.appKey,
        method,
        url,
        status: result.ok ? 200 : (result.httpStatus ?? null),
        latencyMs: Math.round(latencyMs * 1000) / 1000,
        error: result.ok ? null : result.error,
        requestBody,
        // A backend that mirrors its request (EchoApp) answers the same text: redacted and cut once, kept once.
        responseBody: responseText !== null && responseText === requestText ? requestBody : logged(responseText),
      };
      writes.add({ kind: 'logAttempt', entry });
      try {
        deps.onAttempt?.({ ...entry, sessionId });
      } catch (err) {
        // A watcher's bug must not turn into a failed hook.
        log.error({ err, method }, 'hook attempt observer threw');
      }
      if (result.ok || !result.unsent || attempt >= config.restRetryCount) return result;
      log.debug({ appKey: app.appKey, method, error: result.error, attempt: attempt + 1 }, 'REST hook not sent, retrying');
    }
  }

  function hookIsOff(app: App, method: RestMethod, policy: string): boolean {
    return config.disableRest || policy === 'DISABLE' || !app.methods.includes(method);
  }

  /** A decision hook's log rows are committed before its outcome is returned: `show hooks` sees it at once. */
  function invoke(method: DecisionMethod, body: JsonObject, ctx: HookContext, signal?: AbortSignal): Promise<HookOutcome> {
    // Like fetch: a signal that has aborted already sends nothing.
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const deciding = decide(method, body, ctx).finally(() => writes.flush());
    return signal === undefined ? deciding : unlessAborted(deciding, signal);
  }

  async function decide(method: DecisionMethod, body: JsonObject, ctx: HookContext): Promise<HookOutcome> {
    const type = methodType(method);
    if (type === undefined || type === 'event') throw new TypeError(`invoke() is for decision hooks; ${method} is ${type === 'event' ? 'an event: use emit()' : 'unknown'}`);
    const full = withContext(body, ctx);
    const app = store.apps.getByKey(ctx.appKey);
    if (app === undefined) {
      const sessionConfig = ctx.restClientConfig ?? {};
      const mc = resolveMethodConfig(sessionConfig, method);
      const info = `unknown appKey "${ctx.appKey}"`;
      return { ok: false, refuse: type === 'connect' || mc.restOnError === 'FAIL', info, body: full, clientExclude: mc.clientExclude, restClientConfig: sessionConfig };
    }
    // connect starts from the app's default config; later calls use what connect returned for the session.
    const sessionConfig: RestClientConfig = type === 'connect' ? app.restClientConfig : (ctx.restClientConfig ?? app.restClientConfig);
    const mc = resolveMethodConfig(sessionConfig, method);
    if (hookIsOff(app, method, mc.restPolicy)) {
      return { ok: true, called: false, body: full, clientExclude: mc.clientExclude, restClientConfig: sessionConfig };
    }

    const sent = without(full, mc.restExclude);
    const result = await exchange(app, method, sent, ctx.sessionId);
    const failure = (info: string, httpStatus?: number): HookOutcome => ({
      ok: false,
      // docs/hooks.md: connect always fails on error; direct and incoming stop only with restOnError FAIL.
      refuse: type === 'connect' || mc.restOnError === 'FAIL',
      info,
      ...(httpStatus !== undefined && { httpStatus }),
      body: full,
      clientExclude: mc.clientExclude,
      restClientConfig: sessionConfig,
    });
    if (!result.ok) {
      log.warn({ appKey: app.appKey, sessionId: ctx.sessionId, method, error: result.error, restOnError: mc.restOnError }, 'REST hook interaction error');
      return failure(result.info, result.httpStatus);
    }

    const out: JsonObject = { ...full };
    if (type === 'connect') {
      // Every non-context field of the response replaces the request's (how a backend supplies SIP credentials).
      for (const [k, v] of Object.entries(result.json)) {
        if (!CONTEXT.has(k) && k !== 'restClientConfig') put(out, k, v);
      }
      let newConfig: RestClientConfig;
      try {
        // Compared with what the backend received: a value it never saw cannot be a mirror of the page's.
        newConfig = sessionRestClientConfig(app.restClientConfig, sent['restClientConfig'], parseRestClientConfig(result.json['restClientConfig']));
      } catch (e) {
        if (!(e instanceof HookError)) throw e;
        const info = `connect response has a bad ${e.message}`;
        log.warn({ appKey: app.appKey, sessionId: ctx.sessionId, error: info }, 'REST hook interaction error');
        return failure(info);
      }
      return { ok: true, called: true, body: out, clientExclude: resolveMethodConfig(newConfig, method).clientExclude, restClientConfig: newConfig };
    }
    if (mc.restPolicy === 'OVERWRITE') {
      for (const f of mc.restOverwrite) {
        if (!CONTEXT.has(f) && Object.hasOwn(result.json, f)) put(out, f, result.json[f]);
      }
    }
    return { ok: true, called: true, body: out, clientExclude: mc.clientExclude, restClientConfig: sessionConfig };
  }

  /**
   * The wills in the store, by session and subject, with the SHA-256 of their body's JSON: a will never written
   * needs no delete, and one that has not changed (a call's object stays the same from status to status) no write.
   * Kept as of the writes handed to the store (which commits them in order), not as of their commits. The digest
   * rather than the JSON itself: a registered session holds two wills for as long as it lives, and their JSON came
   * to some 500 bytes a session (docs/benchmarks.md); a digest costs about a microsecond.
   */
  const willsHeld = new Map<string, Map<string, string>>();

  /** Hands `batch` to the store; a failure is logged (what it costs is in `what`), never thrown at the caller. */
  function writeNow(batch: StoreWrite[], what: string, fields: Record<string, unknown>): Promise<OutboxEvent[] | undefined> {
    return store.write(batch).catch((err: unknown) => {
      log.error({ err, ...fields }, what);
      return undefined;
    });
  }

  /** The will's removal, when the store holds one for the subject. */
  function willRemoval(sessionId: string, subject: string): StoreWrite | undefined {
    const held = willsHeld.get(sessionId);
    if (held === undefined || !held.delete(subject)) return undefined;
    if (held.size === 0) willsHeld.delete(sessionId);
    return { kind: 'removeWill', sessionId, subject };
  }

  function settleWill(sessionId: string, subject: string): void {
    const removal = willRemoval(sessionId, subject);
    if (removal !== undefined) void writeNow([removal], 'a session will could not be removed from the store', { sessionId, subject });
  }

  /** The store write `will` needs, to commit with the event; undefined when the store holds it already. */
  function willWrite(app: App, method: EventMethod, mc: ResolvedMethodConfig, ctx: HookContext, will: Will): StoreWrite | undefined {
    if (will.owed === null) return willRemoval(ctx.sessionId, will.subject);
    const held = willsHeld.get(ctx.sessionId);
    const body = without(withContext(will.owed, ctx), mc.restExclude);
    // createHash, not crypto.hash: that one is Node 20.12 and later, and package.json allows any Node 20.
    const digest = createHash('sha256').update(JSON.stringify(body)).digest('base64');
    if (held?.get(will.subject) === digest) return undefined;
    if (held === undefined) willsHeld.set(ctx.sessionId, new Map([[will.subject, digest]]));
    else held.set(will.subject, digest);
    return { kind: 'putWill', will: { sessionId: ctx.sessionId, subject: will.subject, appKey: app.appKey, method, body, failNotify: mc.restOnError === 'FAIL' } };
  }

  function endSession(sessionId: string): void {
    if (!willsHeld.delete(sessionId)) return;
    void writeNow([{ kind: 'removeSessionWills', sessionId }], 'the wills of an ended session could not be removed from the store', { sessionId });
  }

  function emit(method: EventMethod, body: JsonObject, ctx: HookContext, will?: Will): EmitResult {
    if (methodType(method) !== 'event') throw new TypeError(`emit() is for events; ${method} is not one: use invoke()`);
    const app = store.apps.getByKey(ctx.appKey);
    const sessionConfig = ctx.restClientConfig ?? app?.restClientConfig ?? {};
    const mc = resolveMethodConfig(sessionConfig, method);
    if (app === undefined || hookIsOff(app, method, mc.restPolicy)) {
      if (will !== undefined) settleWill(ctx.sessionId, will.subject);
      return { queued: false, clientExclude: mc.clientExclude };
    }
    const eventId = randomUUID();
    const sent = without(withContext(body, ctx), mc.restExclude);
    sent['eventId'] = eventId;
    const event = {
      eventId,
      appKey: app.appKey,
      sessionId: ctx.sessionId,
      method,
      body: sent,
      failNotify: mc.restOnError === 'FAIL',
      createdAt: now(),
    };
    const batch: StoreWrite[] = [{ kind: 'appendEvent', event }];
    const write = will === undefined ? undefined : willWrite(app, method, mc, ctx, will);
    if (write !== undefined) batch.push(write);
    // The worker hears of the event once it is committed: a lane reads only what the store holds.
    const committed = writeNow(batch, 'an event could not be written to the outbox: it is lost', { eventId, sessionId: ctx.sessionId, method })
      .then((rows) => {
        if (rows === undefined) return undefined;
        worker.notify(ctx.sessionId, app.appKey, rows[0]);
        return rows[0]!.sequence;
      });
    return { queued: true, eventId, committed, clientExclude: mc.clientExclude };
  }

  /**
   * The wills a crash left (a clean stop settles every one): each becomes its event, in one transaction with
   * their removal, so a crash during this start cannot emit one twice. An app deleted since, or a method switched
   * off since, gets nothing, as `emit` would do.
   */
  async function emitWills(): Promise<void> {
    const wills = await store.wills.all();
    if (wills.length === 0) return;
    const emitted = await appendOwed(wills, undefined, [{ kind: 'clearWills' }]);
    const sessions = new Set(wills.map((w) => w.sessionId)).size;
    log.warn({ sessions, events: emitted }, 'the previous run ended without closing its sessions: their closing events are emitted now');
  }

  /**
   * Wills → their events, appended with `extra` in one transaction; `info` replaces the wills' own (a lost node's
   * sessions end `Node lost`, not `Server restarted`). An app deleted since, or a method switched off since, gets
   * nothing, as `emit` would do. Returns how many events were appended.
   */
  async function appendOwed(wills: readonly SessionWill[], info: string | undefined, extra: StoreWrite[] = []): Promise<number> {
    const batch: StoreWrite[] = [];
    for (const w of wills) {
      const app = store.apps.getByKey(w.appKey);
      if (app === undefined || !isRestMethod(w.method) || hookIsOff(app, w.method, 'NOTIFY')) continue;
      const eventId = randomUUID();
      const body = { ...w.body, ...(info !== undefined && { info }), eventId };
      batch.push({ kind: 'appendEvent', event: { eventId, appKey: w.appKey, sessionId: w.sessionId, method: w.method, body, failNotify: w.failNotify, createdAt: now() } });
    }
    const emitted = batch.length;
    if (batch.length + extra.length > 0) await store.write([...batch, ...extra]);
    return emitted;
  }

  async function deliver(event: OutboxEvent): Promise<DeliveryResult> {
    const app = store.apps.getByKey(event.appKey);
    if (app === undefined) return { delivered: false, error: `app "${event.appKey}" no longer exists`, permanent: true };
    const result = await exchange(app, event.method, event.body, event.sessionId);
    if (result.ok) return { delivered: true };
    // aborted: callhook is stopping; the worker leaves the event pending, and the client hears nothing
    if (event.failNotify && event.attempts === 0 && result.outcome !== 'aborted') {
      // docs/hooks.md "The response" table, event × FAIL: keep going, tell the client with ErrorStatusEvent (once per event).
      deps.onEventDeliveryFailure?.({ appKey: event.appKey, sessionId: event.sessionId, method: event.method, eventId: event.eventId, info: result.info });
    }
    return { delivered: false, error: result.error, permanent: false };
  }

  const worker = new OutboxWorker(store.outbox, deliver, writes, {
    backoffMinMs: deps.outbox?.backoffMinMs ?? DEFAULT_BACKOFF_MIN_MS,
    backoffMaxMs: deps.outbox?.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
    concurrencyPerApp: deps.outbox?.concurrencyPerApp ?? DEFAULT_CONCURRENCY_PER_APP,
    maxAgeMs: config.restEventMaxAgeMs,
    now,
    log,
    abortInFlight: () => http.abortAll(),
  });

  return {
    invoke,
    emit,
    endSession,
    async start() {
      await emitWills();
      await worker.start();
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const idle = await Promise.race([
        worker.idle().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      return idle;
    },
    async stop() {
      await worker.stop();
      await writes.flush();
      http.close();
    },
    async emitOwed(wills, info) {
      const emitted = await appendOwed(wills, info);
      await worker.resync();
      return emitted;
    },
    adoptEvents: () => worker.resync(),
    async replayEvents(q = {}) {
      const n = await store.outbox.replay(q, now());
      await worker.resync();
      return n;
    },
    metrics: metrics.registry,
  };
}
