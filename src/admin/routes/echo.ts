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

export class InProcessEchoApp implements LocalHookBackend {
  /** `http://127.0.0.1:<port>/apps/EchoApp/` while the admin server listens where that URL reaches it. */
  #prefix: string | undefined;

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
    if (!echoParams.safeParse({ method: req.url.slice(this.#prefix.length) }).success) return undefined;
    if (Buffer.byteLength(req.rawBody) > DEFAULT_BODY_LIMIT) return undefined;
    let body: Record<string, unknown>;
    try {
      const parsed = echoBody.safeParse(parseJsonLimited(req.rawBody));
      if (!parsed.success) return undefined;
      body = parsed.data;
    } catch {
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
