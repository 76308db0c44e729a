/**
 * The identifiers WCS puts into every hook and that callhook keeps identical (docs/hooks.md "The request"):
 * `sessionId` names one WebSocket connection by its two socket ends, `nodeId` names this server process.
 */
import { randomBytes } from 'node:crypto';
import { randomHex } from '../random-hex.ts';
import { ownCopy } from '../own-string.ts';
import { isIPv6 } from 'node:net';
import type { ClientEndpoint } from './types.ts';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random letters and digits (WCS's nodeId prefix looks like `H4gfHeULtX6ddGGUWwZxhUNyqZHUFH8j`). */
function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 256 is not a multiple of 62: the small bias is irrelevant for an identifier that is not a secret.
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

/** `<random>@<server ip>`, one per running server. */
export function newNodeId(serverIp: string): string {
  return `${randomAlphanumeric(32)}@${serverIp}`;
}

/**
 * A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (`::ffff:10.0.0.1`); people and backends know them
 * as plain IPv4. Real IPv6 addresses are bracketed so the `:<port>` after them stays readable (RFC 3986 §3.2.2).
 */
export function displayAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  return isIPv6(address) ? `[${address}]` : address;
}

/**
 * `/<client ip>:<client port>/<server ip>:<server port>`, e.g. `/192.168.1.38:64604/192.168.1.59:8443`. A string
 * of its own: V8 keeps a template's result as a tree of its parts (some 7 nodes of 32 bytes), and the id is kept
 * for as long as the session lives, as the key of several tables.
 */
export function sessionIdOf(e: ClientEndpoint): string {
  return ownCopy(`/${displayAddress(e.remoteAddress)}:${e.remotePort}/${displayAddress(e.localAddress)}:${e.localPort}`);
}

/** The client's own address, what per-IP limits count: the forwarded one behind a trusted proxy, else the peer's. */
export function clientAddressOf(e: ClientEndpoint): string {
  return e.forwardedFor ?? e.remoteAddress;
}

/** The token a client gets in `getUserData` (SDK 2.0 stores it to re-attach a kept-alive session later). */
export function newAuthToken(): string {
  return randomHex(16);
}
