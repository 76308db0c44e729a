/**
 * What the HTTP side of `wsPort` serves until the web phone lands (issue 6): a page at `/` saying where the
 * WebSocket endpoint is, so a person who opens the address in a browser sees the server is up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VERSION } from '../version.ts';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>callhook</title></head>
<body>
<h1>callhook ${VERSION}</h1>
<p>This is a callhook web call server. Clients connect over WebSocket to this address (<code>ws://</code> or
<code>wss://</code>, any path) with the Flashphoner Web SDK protocol.</p>
<p>The web phone will be served here.</p>
</body>
</html>
`;

export function servePlaceholder(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  if (path !== '/' && path !== '/index.html') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : PAGE);
}
