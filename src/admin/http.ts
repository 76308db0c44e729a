/**
 * The few HTTP primitives the admin server needs on top of node:http: a bounded body read, JSON parsing with a
 * depth limit and a clear error, and JSON / text replies. Kept apart from routing so both the router and the
 * EchoApp share them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminError } from './errors.ts';
import { JsonDepthError, parseJsonLimited } from '../json/limited-parse.ts';

/** Largest request body accepted (bytes). Hook bodies carry SDP and raw SIP, a few kB; 1 MiB leaves room. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Reads the whole body, refusing more than `limit` bytes. A `Content-Length` over the limit is refused before
 * reading anything; a chunked body is counted as it arrives and the read stops at the limit.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new AdminError('ADMIN_PAYLOAD_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        // Keep draining without storing so the reply can still be written on this connection.
        req.resume();
        reject(new AdminError('ADMIN_PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    // A client that goes away mid-body: settle, so nothing waits on a request that will never end.
    req.once('close', () => {
      if (!req.complete) reject(new AdminError('ADMIN_BAD_REQUEST', 'the client closed the connection before the body was complete'));
    });
  });
}

/**
 * The JSON body of a request: `Content-Type` checked before reading, the body read up to `limit` bytes, then parsed
 * with the depth limit. An empty body is `undefined` (the route's schema decides whether that is allowed) and needs
 * no `Content-Type`; any other must be `application/json` (parameters such as `; charset=UTF-8` allowed, RFC 8259
 * §11). Requiring the type also for the open EchoApp route means a web page cannot reach it with a CORS "simple"
 * request (text/plain, a form, or no type at all): a JSON type needs a preflight, which the admin port never grants.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && type.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
    throw new AdminError('ADMIN_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got ${JSON.stringify(type)}`);
  }
  const body = await readBody(req, limit);
  if (body.length === 0) return undefined;
  if (type === undefined) throw new AdminError('ADMIN_UNSUPPORTED_MEDIA_TYPE', 'a request body needs Content-Type: application/json');
  try {
    return parseJsonLimited(body.toString('utf8'));
  } catch (e) {
    if (e instanceof JsonDepthError) {
      throw new AdminError('ADMIN_BAD_REQUEST', `request body nests JSON deeper than ${e.maxDepth} levels, the admin API's limit`);
    }
    throw new AdminError('ADMIN_BAD_REQUEST', `request body is not valid JSON: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, text: string | Buffer, contentType: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
