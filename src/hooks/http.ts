/**
 * Sends one hook request and reads the answer, within bounds: a deadline over the whole exchange, a cap on the
 * response body, no redirects followed, keep-alive connections pooled per origin.
 *
 * Why node:http and not the global fetch: on the 2-core bench machine Node 20's fetch (its bundled undici) costs
 * ~290 µs of CPU per POST and peaks near 3,400 requests/s against a local backend, below the outbox's 5,000
 * events/s target before any store work; node:http with a keep-alive Agent does ~10,000/s on the same machine.
 * node:http also never follows redirects, refuses CR/LF in header values (ERR_INVALID_CHAR), reports network
 * errors in Node's own words (`connect ECONNREFUSED 10.0.0.1:80`, as docs/hooks.md shows) and has no fetch
 * "bad port" list (fetch refuses port 5060, among others).
 *
 * Pooling: an http.Agent with keepAlive pools sockets per origin (its key is host:port, plus TLS options for
 * https); a test checks that sequential hooks share one connection. Idle sockets are closed after
 * IDLE_SOCKET_MS, or 1 s before the backend's `Keep-Alive: timeout=N` hint when that is shorter (Node's Agent
 * honours the hint only when the agent has a `timeout`, hence the option), so a request rarely lands on a socket
 * the server is closing; when it does, the reset comes before any response and the retry of unsent requests
 * covers it.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { HookRequest } from './request.ts';
import { HookError } from './errors.ts';

/** Largest response body read (1 MiB): a backend answering with megabytes of garbage costs at most this. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export type HookHttpResult = HookHttpResponse | HookHttpError;

export interface HookHttpResponse {
  kind: 'response';
  status: number;
  /** The reason phrase of the status line, as the backend sent it (may be empty). */
  statusText: string;
  headers: IncomingHttpHeaders;
  bodyText: string;
  latencyMs: number;
}

export interface HookHttpError {
  kind: 'error';
  /** What went wrong, for the client's `info` and the hook log (`connect ECONNREFUSED 127.0.0.1:9`). */
  error: string;
  /** Node's error code when there is one (ECONNREFUSED, ECONNRESET, …; TIMEOUT, ABORTED, TOO_LARGE are ours). */
  code?: string;
  /** No response byte arrived and the failure happened while connecting or sending: safe to send again. */
  unsent: boolean;
  latencyMs: number;
}

export interface SendOptions {
  timeoutMs: number;
  maxBodyBytes?: number;
}

/** How long an idle pooled connection is kept when the backend gives no shorter Keep-Alive hint. */
const IDLE_SOCKET_MS = 30_000;

/**
 * Errors docs/hooks.md counts as "could not be sent at all" and retries: refused, reset or broken before any
 * response arrived (the usual case being a pooled connection the backend had just closed).
 */
const UNSENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN']);

const AGENT_OPTIONS = { keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' } as const;

export class HookHttpClient {
  private readonly httpAgent = new http.Agent(AGENT_OPTIONS);
  private readonly httpsAgent = new https.Agent(AGENT_OPTIONS);
  /** Aborters of the exchanges in progress (a Set rather than an AbortSignal per request: cheaper per request). */
  private readonly active = new Set<() => void>();

  send(req: HookRequest, options: SendOptions): Promise<HookHttpResult> {
    const started = performance.now();
    const maxBody = options.maxBodyBytes ?? MAX_RESPONSE_BYTES;
    return new Promise((resolve) => {
      let settled = false;
      let responded = false;
      let timer: NodeJS.Timeout | undefined;
      let request: http.ClientRequest | undefined;
      const finish = (r: HookHttpResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.active.delete(onAbort);
        resolve(r);
      };
      const fail = (e: Error & { code?: string }): void => {
        const code = e.code;
        finish({
          kind: 'error',
          error: describe(e),
          ...(code !== undefined && { code }),
          unsent: !responded && code !== undefined && UNSENT_CODES.has(code),
          latencyMs: performance.now() - started,
        });
      };
      // Settle first, then tear the socket down: errors the teardown causes afterwards are ignored.
      const stop = (e: HookError): void => {
        fail(e);
        request?.destroy();
      };
      const onAbort = (): void => stop(new HookError('ABORTED', 'REST request aborted: callhook is stopping'));

      try {
        const url = new URL(req.url);
        const isHttps = url.protocol === 'https:';
        request = (isHttps ? https : http).request(url, {
          method: 'POST',
          headers: req.headers,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
        });
      } catch (e) {
        // a URL or header value node:http refuses (it rejects CR/LF in headers: ERR_INVALID_CHAR)
        fail(e as Error);
        return;
      }
      timer = setTimeout(
        () => stop(new HookError('TIMEOUT', `REST request timed out after ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      this.active.add(onAbort);

      request.on('error', fail);
      request.on('response', (res) => {
        responded = true;
        const declared = Number(res.headers['content-length']);
        if (declared > maxBody) {
          stop(tooLarge(maxBody));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) stop(tooLarge(maxBody));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () =>
          finish({
            kind: 'response',
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            bodyText: Buffer.concat(chunks, size).toString('utf8'),
            latencyMs: performance.now() - started,
          }),
        );
      });
      request.end(req.rawBody);
    });
  }

  /** Ends every exchange in progress with an error of code ABORTED (engine stop). */
  abortAll(): void {
    for (const abort of [...this.active]) abort();
  }

  /** Closes pooled connections (engine stop, end of a test). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function tooLarge(max: number): HookError {
  return new HookError('TOO_LARGE', `REST response body is larger than ${max} bytes`);
}

/**
 * The error text. Node's own messages already name the cause and the peer (`connect ECONNREFUSED 127.0.0.1:9`,
 * `getaddrinfo ENOTFOUND example.invalid`); a few bare ones get the missing half of the story.
 */
function describe(e: Error & { code?: string }): string {
  if (e instanceof HookError) return e.message;
  if (e instanceof AggregateError && e.errors.length > 0) {
    // happy-eyeballs connect to several addresses: every attempt failed
    return e.errors.map((x: Error) => x.message).join('; ');
  }
  if (e.message === 'socket hang up') return 'socket hang up (the backend closed the connection without answering)';
  return e.message;
}
