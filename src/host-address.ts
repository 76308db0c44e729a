import { networkInterfaces } from 'node:os';

/**
 * The first non-loopback IPv4 address of this host, if any: the default `localIp` of the configuration, and the
 * host the SIP transport advertises when bound to a wildcard address without one. A base module, so that the
 * configuration and the SIP stack share it without the SIP stack depending on the configuration.
 */
export function firstNonLoopbackIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return undefined;
}
