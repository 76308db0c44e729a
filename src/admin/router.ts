/**
 * Routes as data, fastify style: each route declares its method, OpenAPI-style path template (`/api/apps/{name}`),
 * whether it needs the admin token, and the zod schemas of its path parameters, query and body next to the
 * handler. The server validates all three before the handler runs, so a handler only ever sees typed, valid
 * input. The route table is also what the OpenAPI test walks.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { AdminError, MethodNotAllowedError } from './errors.ts';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What a handler returns: JSON (the default), or text such as the Prometheus exposition, or bytes (a recording). */
export type Reply =
  | { status?: number; json: unknown }
  | { status?: number; text: string | Buffer; contentType: string };

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteRequest<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  raw: IncomingMessage;
}

export interface RouteDef<P, Q, B> {
  method: HttpMethod;
  /** OpenAPI path template; `{x}` matches one path segment, percent-decoded. */
  path: string;
  /** docs/admin.md: every `/api/` route and `/metrics` need `Authorization: Bearer <token>`. */
  auth: boolean;
  params?: P;
  query?: Q;
  body?: B;
  handler(req: RouteRequest<P, Q, B>): Promise<Reply> | Reply;
}

/** A route with its types erased, as the router stores it. */
export interface Route {
  method: HttpMethod;
  path: string;
  auth: boolean;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  handler(req: { params: unknown; query: unknown; body: unknown; raw: IncomingMessage }): Promise<Reply> | Reply;
}

export function route<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(def: RouteDef<P, Q, B>): Route {
  return def as unknown as Route;
}

/** zod issues as one line that names each field and what is wrong with it. */
export function describeIssues(where: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') {
        const at = i.path.length > 0 ? ` in ${where}.${i.path.join('.')}` : ` in ${where}`;
        return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}${at}`;
      }
      const field = i.path.length > 0 ? `${where}.${i.path.join('.')}` : where;
      return `${field}: ${i.message}`;
    })
    .join('; ');
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new AdminError('ADMIN_BAD_REQUEST', describeIssues(where, result.error.issues));
  return result.data;
}

interface CompiledRoute {
  route: Route;
  segments: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  readonly #compiled: CompiledRoute[] = [];

  add(...routes: Route[]): this {
    for (const r of routes) {
      if (this.#compiled.some((c) => c.route.method === r.method && c.route.path === r.path)) {
        throw new Error(`route ${r.method} ${r.path} registered twice`);
      }
      this.#compiled.push({ route: r, segments: r.path.split('/').slice(1) });
    }
    return this;
  }

  get routes(): readonly Route[] {
    return this.#compiled.map((c) => c.route);
  }

  /**
   * The route for `method` and the already-split, still-encoded `pathname`. Throws AdminError ADMIN_NOT_FOUND when no path
   * matches and MethodNotAllowedError (with the methods that would) when only the method is wrong. HEAD is
   * served by the GET route (RFC 9110 §9.3.2).
   */
  find(method: string, pathname: string): RouteMatch {
    const wanted = method === 'HEAD' ? 'GET' : method;
    const parts = pathname.split('/').slice(1);
    const allow: string[] = [];
    for (const c of this.#compiled) {
      const params = matchSegments(c.segments, parts);
      if (params === null) continue;
      if (c.route.method === wanted) return { route: c.route, params };
      allow.push(c.route.method);
    }
    if (allow.length > 0) {
      throw new MethodNotAllowedError(allow, `${method} is not allowed on ${pathname} (allowed: ${allow.join(', ')})`);
    }
    throw new AdminError('ADMIN_NOT_FOUND', `no such resource: ${method} ${pathname}`);
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | null {
  if (template.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const p = parts[i]!;
    if (t.startsWith('{') && t.endsWith('}')) {
      if (p === '') return null;
      params[t.slice(1, -1)] = decodeSegment(p);
    } else if (t !== p) {
      return null;
    }
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminError('ADMIN_BAD_REQUEST', `path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}
