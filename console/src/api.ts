/**
 * The admin API as the console uses it: the token from sessionStorage (never a cookie, so another site's page
 * cannot make the browser send it) in `Authorization: Bearer`, errors as the server words them, and the
 * Server-Sent Events stream read through fetch (EventSource cannot send a header).
 */
const TOKEN_KEY = 'callhook.adminToken';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** Told when the server refuses the token (it changed, or the server restarted with another). */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

export async function request(path: string, init: RequestInit = {}, bearer = token.get()): Promise<Response> {
  const headers = new Headers(init.headers);
  if (bearer !== null) headers.set('Authorization', `Bearer ${bearer}`);
  if (init.body !== undefined) headers.set('Content-Type', 'application/json');
  const res = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: the status line says it
  }
  if (res.status === 401 && bearer === token.get()) onUnauthorized();
  throw new ApiError(res.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(path, { method, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return (await res.json()) as T;
}

/** Reads `GET path` as Server-Sent Events until `signal` aborts; reconnects after the server's `retry`. */
export async function stream(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
  let retryMs = 3000;
  while (!signal.aborted) {
    try {
      const res = await request(path, { signal });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('retry: ')) retryMs = Number(line.slice(7)) || retryMs;
          }
          if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
        }
      }
    } catch (e) {
      if (signal.aborted || (e instanceof ApiError && e.status === 401)) return;
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
}
