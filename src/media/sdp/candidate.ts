/**
 * ICE candidate attributes (RFC 8839 §5.1):
 *
 *   candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
 *                         connection-address SP port SP "typ" SP cand-type
 *                         [SP "raddr" SP connection-address] [SP "rport" SP port] *(SP cand-extension)
 *
 * Extensions (`generation 0`, `ufrag …`, `network-id …`) are name/value pairs kept in order.
 */
import { MediaError } from '../errors.ts';

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

export interface IceCandidate {
  foundation: string;
  component: number;
  /** `udp` or `tcp`, lower-cased (the token is case-insensitive). */
  transport: string;
  priority: number;
  address: string;
  port: number;
  type: CandidateType;
  relatedAddress?: string;
  relatedPort?: number;
  extensions: Array<[string, string]>;
}

const TYPES: ReadonlySet<string> = new Set<CandidateType>(['host', 'srflx', 'prflx', 'relay']);

/** Parses the value of `a=candidate:` (without the `candidate:` prefix, as it is in the model). */
export function parseCandidate(value: string): IceCandidate {
  const f = value.trim().split(/\s+/);
  const bad: (why: string) => never = (why) => {
    throw new MediaError('MEDIA_SDP_PARSE', `a=candidate:${value}: ${why}`);
  };
  if (f.length < 8 || f[6] !== 'typ') {
    bad("needs '<foundation> <component> <transport> <priority> <address> <port> typ <type>'");
  }
  const [foundation, component, transport, priority, address, port, , type] = f as string[] as [
    string, string, string, string, string, string, string, string,
  ];
  if (!/^[0-9]{1,3}$/.test(component) || !/^[0-9]{1,10}$/.test(priority) || !isPort(port)) {
    bad('component, priority and port must be numbers');
  }
  if (!TYPES.has(type)) bad(`unknown candidate type '${type}'`);
  const c: IceCandidate = {
    foundation, component: Number(component), transport: transport.toLowerCase(), priority: Number(priority), address,
    port: Number(port), type: type as CandidateType, extensions: [],
  };
  for (let i = 8; i < f.length; i += 2) {
    const name = f[i]!;
    const v = f[i + 1];
    if (v === undefined) bad(`'${name}' has no value`);
    if (name === 'raddr') c.relatedAddress = v;
    else if (name === 'rport') {
      if (!isPort(v)) bad(`rport '${v}' is not a port`);
      c.relatedPort = Number(v);
    } else c.extensions.push([name, v]);
  }
  return c;
}

export function serializeCandidate(c: IceCandidate): string {
  const parts = [c.foundation, c.component, c.transport, c.priority, c.address, c.port, 'typ', c.type];
  if (c.relatedAddress !== undefined) parts.push('raddr', c.relatedAddress);
  if (c.relatedPort !== undefined) parts.push('rport', c.relatedPort);
  for (const [k, v] of c.extensions) parts.push(k, v);
  return parts.join(' ');
}

function isPort(s: string): boolean {
  return /^[0-9]{1,5}$/.test(s) && Number(s) <= 65535;
}
