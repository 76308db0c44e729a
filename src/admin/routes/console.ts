/**
 * The admin console (console/, docs/console.md) on the admin port: its page at `/` for a browser (one that asks for
 * HTML in `Accept`; every other client gets the JSON index of ./index.ts there) and its two files. None needs the
 * token: they hold no secret, and every call the page makes sends the token as a header.
 *
 * Only these files exist (looked up whole, never joined onto a directory). They are read per request: small, and
 * a rebuilt console shows on reload.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { AdminError } from '../errors.ts';
import { route, type Reply, type Route } from '../router.ts';

const file = (path: string) => fileURLToPath(new URL(`../../../console/${path}`, import.meta.url));
const PAGE = file('index.html');
const FILES: ReadonlyMap<string, { file: string; type: string }> = new Map([
  ['/console/console.js', { file: file('dist/console.js'), type: 'text/javascript; charset=utf-8' }],
  ['/console/console.css', { file: file('console.css'), type: 'text/css; charset=utf-8' }],
]);

/**
 * Scripts, styles and requests of this origin only; the exported SVG and JSON are blob: downloads. Never framed (a
 * framed console could be clicked by another site), and no form is ever submitted anywhere.
 */
const HEADERS = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** A browser navigating asks for text/html first; curl, the CLI and scripts do not (RFC 9110 §12.5.1). */
export function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

async function serve(path: string, type: string): Promise<Reply> {
  try {
    return { text: await readFile(path), contentType: type, headers: HEADERS };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new AdminError('ADMIN_NOT_FOUND', `${path} is missing: build the console with npm run build`);
  }
}

export function consolePage(): Promise<Reply> {
  return serve(PAGE, 'text/html; charset=utf-8');
}

export function consoleRoutes(): Route[] {
  return [...FILES].map(([path, f]) => route({ method: 'GET', path, auth: false, handler: () => serve(f.file, f.type) }));
}
