/**
 * What the HTTP side of `wsPort` (and `wssPort`) serves besides the WebSocket upgrade: the web phone (web/, see
 * docs/webphone.md) at `/`, and the SDK bundles it is built on, which any page on
 * this origin may load as well (`/callhook.js` by script tag, `/callhook.mjs` by import).
 *
 * Only the files in FILES exist: a request path is looked up as a whole in that table, never joined onto a
 * directory, so no path can reach another file (`/../package.json`, `/web/index.html`, `/%2e%2e/…` are all 404).
 * The files are read per request: they are small, and an edited page shows on reload.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';

interface WebFile {
  file: string;
  type: string;
}

const web = (name: string) => fileURLToPath(new URL(`../../web/${name}`, import.meta.url));
const sdk = (name: string) => fileURLToPath(new URL(`../../sdk/dist/${name}`, import.meta.url));
const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

const FILES: ReadonlyMap<string, WebFile> = new Map([
  ['/', { file: web('index.html'), type: HTML }],
  ['/index.html', { file: web('index.html'), type: HTML }],
  ['/webphone.js', { file: web('webphone.js'), type: JS }],
  ['/webphone.css', { file: web('webphone.css'), type: 'text/css; charset=utf-8' }],
  ['/callhook.js', { file: sdk('callhook.js'), type: JS }],
  ['/callhook.mjs', { file: sdk('callhook.mjs'), type: JS }],
]);

/**
 * The page loads scripts and styles from this origin only, and opens WebSockets to whatever server the person
 * types into "Server URL" (ws: / wss:). It may not be framed (a framed phone could be clicked by another site),
 * and nothing is ever submitted anywhere by a form.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/**
 * The request handler of the HTTP server on wsPort / wssPort (upgrades are handled apart, by the WebSocket server).
 * A failure no answer foresees costs that request only: 500 (or the socket, once the answer has begun), logged.
 */
export function webPhoneHandler(log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    respond(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'web phone request failed unexpectedly');
      if (res.headersSent) res.destroy();
      else text(res, 500, 'internal error\n');
    });
  };
}

async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    text(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const entry = FILES.get(pathOf(req.url));
  if (entry === undefined) {
    text(res, 404, 'not found\n');
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(entry.file);
  } catch (err) {
    // A broken installation (web/ or sdk/dist missing): say which file, not the whole error with its stack.
    text(res, 500, `cannot read ${entry.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return;
  }
  res.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Type': entry.type,
    'Content-Length': body.length,
    ...(entry.type === HTML && { 'Content-Security-Policy': CONTENT_SECURITY_POLICY }),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The path of a request target, without the query; anything unparsable is a path no file has. */
function pathOf(target: string | undefined): string {
  const path = (target ?? '/').split('?', 1)[0] ?? '';
  return path.startsWith('/') ? path : '';
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}
