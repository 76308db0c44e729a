import { networkInterfaces } from 'node:os';

/** The default `localIp` of config.md: the first non-loopback IPv4 address of this host, if any. */
export function firstNonLoopbackIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return undefined;
}
