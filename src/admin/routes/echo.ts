/**
 * EchoApp (docs/hooks.md "The built-in backend: EchoApp"): `POST /apps/EchoApp/<method>` answers 200 with the body it got, the
 * mirror WCS's own EchoApp gives, so `defaultApp` works with no web server. No token: it is a hook backend.
 *
 * The hook engine of the same process reaches the route without HTTP (`InProcessEchoApp`): a request whose URL is
 * this admin server's own EchoApp route gets the answer the route would give, built by the same schemas, after a
 * turn of the event loop as a network answer would come. Whatever the route would refuse (a bad method name, a
 * body over the limit or too deep) is left to HTTP, so its refusal stays the route's own.
 */
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { HookHttpResponse, HookRequest, LocalHookBackend } from '../../hooks/index.ts';
import { parseJsonLimited } from '../../json/limited-parse.ts';
import { DEFAULT_BODY_LIMIT } from '../http.ts';
import { route, type Route } from '../router.ts';
import { echoParams } from '../schemas.ts';

export const ECHO_PATH = '/apps/EchoApp/{method}';

const echoBody = z.record(z.string(), z.unknown(), { error: 'must be a JSON object' });

export function echoRoutes(): Route[] {
  return [
    route({
      method: 'POST',
      path: ECHO_PATH,
      auth: false,
      params: echoParams,
      body: echoBody,
      handler: ({ body }) => ({ json: body }),
    }),
  ];
}

/** Addresses on which a server is reachable as 127.0.0.1, the host of the defaultApp URL the store creates. */
const LOOPBACK_REACHABLE = new Set(['127.0.0.1', '0.0.0.0', '::']);
/** Method names remembered (an app's URL with a path or query after the route makes names of its own). */
const MAX_REMEMBERED_METHODS = 256;

export class InProcessEchoApp implements LocalHookBackend {
  /** `http://127.0.0.1:<port>/apps/EchoApp/` while the admin server listens where that URL reaches it. */
  #prefix: string | undefined;

  /** The route's verdict on each method name seen (hooks use a few dozen names, so this stays small). */
  readonly #methods = new Map<string, boolean>();

  #isEchoMethod(method: string): boolean {
    let ok = this.#methods.get(method);
    if (ok === undefined) {
      ok = echoParams.safeParse({ method }).success;
      if (this.#methods.size < MAX_REMEMBERED_METHODS) this.#methods.set(method, ok);
    }
    return ok;
  }

  /** The admin server listens on `address`; from now on its EchoApp URL is answered in-process. */
  serve(address: AddressInfo): void {
    this.#prefix = LOOPBACK_REACHABLE.has(address.address) ? `http://127.0.0.1:${address.port}/apps/EchoApp/` : undefined;
  }

  /** The admin server is closing: hooks to its URL go over HTTP again (and find it closed, as they would). */
  stop(): void {
    this.#prefix = undefined;
  }

  answer(req: HookRequest): Promise<HookHttpResponse> | undefined {
    const started = performance.now();
    if (this.#prefix === undefined || !req.url.startsWith(this.#prefix)) return undefined;
    if (!this.#isEchoMethod(req.url.slice(this.#prefix.length))) return undefined;
    if (Buffer.byteLength(req.rawBody) > DEFAULT_BODY_LIMIT) return undefined;
    let body: unknown;
    try {
      body = parseJsonLimited(req.rawBody);
    } catch {
      return undefined;
    }
    // The route's schema copies a JSON object's fields as they are; only a `__proto__` key (an own field once
    // parsed) could come out of it otherwise, so such a body goes through the schema itself.
    if (req.rawBody.includes('"__proto__"')) {
      const parsed = echoBody.safeParse(body);
      if (!parsed.success) return undefined;
      body = parsed.data;
    } else if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return undefined;
    }
    const bodyText = JSON.stringify(body);
    return new Promise((resolve) => {
      setImmediate(() =>
        resolve({
          kind: 'response',
          status: 200,
          statusText: 'OK',
          headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(bodyText)), 'cache-control': 'no-store' },
          bodyText,
          latencyMs: performance.now() - started,
        }),
      );
    });
  }
}
