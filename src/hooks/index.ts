/**
 * callhook's REST hook engine (docs/hooks.md). What other modules use:
 *
 * Engine
 *   createHookEngine({ store, config, log, outbox?, onEventDeliveryFailure?, onAttempt?, localBackend? }): HookEngine
 *     .invoke(method, body, ctx): Promise<HookOutcome>  decision hooks: connect, direct, incoming.
 *         ctx = { appKey, sessionId, nodeId, restClientConfig? }. Leave restClientConfig undefined for connect;
 *         keep `outcome.restClientConfig` and pass it in ctx for every later call of the session.
 *         outcome.ok → go on with outcome.body (connect: SIP fields from the backend; OVERWRITE fields applied).
 *         !outcome.ok → outcome.refuse says whether to stop; outcome.info is the client's `info`.
 *         outcome.clientExclude: fields never to send to the client. Backend trouble never throws.
 *     .emit(method, body, ctx, will?): EmitResult   events: in the outbox (durably) before it returns; `will` is
 *         what the backend is owed about the event's subject should callhook die (types.ts Will).
 *     .start() / .stop()                       the delivery worker (stop aborts in-flight deliveries; they stay pending);
 *         start first emits the wills a crash left
 *     .replayEvents({ appKey?, since? }): number   dead letters → pending, delivered at once (admin "replay events")
 *     .metrics: prom-client Registry          serve `await engine.metrics.metrics()` with `engine.metrics.contentType`
 *
 * Building and sending one hook request yourself (the admin API's `check app`)
 *   buildHookRequest(app, method, body, { userAgent, now? }): { url, headers, rawBody }
 *       POST `url` with exactly these headers and body: JSON content type, User-Agent, Basic auth or
 *       `Authorization: WCS …`, `X-Callhook-Signature`. Every header value is checked for CR/LF.
 *   new HookHttpClient().send(req, { timeoutMs, maxBodyBytes? }): Promise<HookHttpResult>
 *       node:http with keep-alive; never follows redirects; reads at most 1 MiB; call .close() when done.
 *   interpret(result): Interaction            the engine's reading of an answer: ok + json, or info/error text.
 *   hookUrl(appUrl, method)                   `http://h/rest` + `connect` → `http://h/rest/connect`
 *
 * Signatures (for backends; constant-time compare)
 *   signCallhook(rawBody, secret, unixSec) → `t=…,v1=…`     signWcs(rawBody, secret) → `WCS <hex md5 hmac>`
 *   verifySignature(rawBody, header, secret, { toleranceSec = 300, now }) → { ok } | { ok: false, reason }
 *   verifyWcsSignature(rawBody, header, secret)
 *
 * Methods and restClientConfig
 *   REST_METHODS (the docs/hooks.md "Methods" table: name + type), REST_METHOD_NAMES, isRestMethod, methodType
 *   parseRestClientConfig(value) validates the wire form (throws HookError INVALID_REST_CLIENT_CONFIG)
 *
 * The engine's model and the storage it needs (the store implements them; imported from their modules)
 *   model.ts: App, NewApp, RestClientConfig, MethodConfig   app-validation.ts: validateApp, validateAppUrl
 *   storage.ts: HookStore = the app lookup, the hook log, the event outbox, the session wills, batch()
 */
export { createHookEngine, DEFAULT_BACKOFF_MAX_MS, DEFAULT_BACKOFF_MIN_MS, DEFAULT_CONCURRENCY_PER_APP } from './engine.ts';
export * from './types.ts';
export * from './methods.ts';
export { buildHookRequest, hookUrl, assertHeaderValue, type HookRequest, type BuildOptions } from './request.ts';
export { HookHttpClient, MAX_RESPONSE_BYTES, type HookHttpResult, type HookHttpResponse, type HookHttpError, type SendOptions } from './http.ts';
export { interpret, type Interaction, type InteractionOk, type InteractionError } from './interaction.ts';
export {
  signCallhook,
  signWcs,
  verifySignature,
  verifyWcsSignature,
  SIGNATURE_HEADER,
  DEFAULT_TOLERANCE_SEC,
  type SignatureCheck,
  type VerifyOptions,
} from './signature.ts';
export { parseRestClientConfig, resolveMethodConfig, type ResolvedMethodConfig } from './rest-client-config.ts';
export { HookError, type HookErrorCode } from './errors.ts';
