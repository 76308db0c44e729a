/**
 * The admin API over a cluster (docs/scaling.md "Sessions and calls of the whole cluster"): lists of live sessions
 * and calls take this node's from its gateway and the other nodes' from the store's directory, each with a `node`
 * field; a terminate of an item this node does not hold is forwarded to the node that does, over that node's admin
 * API (same route, same body, the caller's bearer token: the nodes of a cluster share one admin token). The holder's
 * answer, its status and error included, is the answer. Without a directory (SQLite, one node) nothing changes.
 *
 * Why HTTP rather than PostgreSQL's LISTEN/NOTIFY (docs/architecture.md): the holder answers with its own status and
 * error text through the very route a client would call, with no reply channel or correlation to build, and the
 * admin ports are reachable between nodes already (the balancer checks /healthz on them).
 */
import type { IncomingMessage } from 'node:http';
import type { LiveDirectory, LiveItemKind } from '../store/types.ts';
import { AdminError } from './errors.ts';
import type { Reply } from './router.ts';

export interface ClusterView {
  /** This node's name (config nodeName). */
  node: string;
  directory: LiveDirectory;
}

/** Set on a forwarded request: the holder answers it itself and never forwards it again. */
const FORWARDED_BY = 'x-callhook-forwarded-by';
const FORWARD_TIMEOUT_MS = 10_000;

/** This node's items with `node`, then the other nodes' from the directory. */
export async function clusterList<T extends object>(cluster: ClusterView | undefined, kind: LiveItemKind, local: T[]): Promise<T[]> {
  if (cluster === undefined) return local;
  const own = local.map((item) => ({ ...item, node: cluster.node }));
  const others = (await cluster.directory.list(kind)).filter((r) => r.node !== cluster.node).map((r) => ({ ...r.info, node: r.node }) as T);
  return [...own, ...others];
}

/**
 * The holder's answer to this request, when another node holds the item; undefined when no other node does (or the
 * request was forwarded here already), so the caller answers 404 itself.
 */
export async function forwardToHolder(
  cluster: ClusterView | undefined, kind: LiveItemKind, id: string, raw: IncomingMessage, body?: unknown,
): Promise<Reply | undefined> {
  if (cluster === undefined || raw.headers[FORWARDED_BY] !== undefined) return undefined;
  const holder = await cluster.directory.owner(kind, id);
  if (holder === undefined || holder.node === cluster.node) return undefined;
  if (holder.adminUrl === undefined) {
    throw new AdminError('ADMIN_UNAVAILABLE', `${kind} ${id} is held by node ${holder.node}, which has not said where its admin API answers`);
  }
  const url = new URL(raw.url ?? '/', holder.adminUrl);
  try {
    const res = await fetch(url, {
      method: raw.method ?? 'GET',
      headers: {
        ...(raw.headers.authorization !== undefined && { authorization: raw.headers.authorization }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        [FORWARDED_BY]: cluster.node,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = { error: `node ${holder.node} answered ${res.status} without JSON` };
    }
    return { status: res.status, json };
  } catch (err) {
    throw new AdminError('ADMIN_UNAVAILABLE', `${kind} ${id} is held by node ${holder.node}, whose admin API (${holder.adminUrl}) did not answer: ${(err as Error).message}`);
  }
}
