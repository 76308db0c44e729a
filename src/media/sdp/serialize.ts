/**
 * Writing the SDP model as text (RFC 8866 §5): lines in the grammar's order (§9), each ending in CRLF. A description
 * parsed from text in that order comes back byte for byte.
 */
import type { Attribute, Bandwidth, Connection, MediaDescription, SessionDescription } from './model.ts';

export function serializeSdp(sdp: SessionDescription): string {
  const out: string[] = [];
  const o = sdp.origin;
  out.push(`v=${sdp.version}`);
  out.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  out.push(`s=${sdp.sessionName}`);
  if (sdp.information !== undefined) out.push(`i=${sdp.information}`);
  if (sdp.uri !== undefined) out.push(`u=${sdp.uri}`);
  for (const e of sdp.emails) out.push(`e=${e}`);
  for (const ph of sdp.phones) out.push(`p=${ph}`);
  if (sdp.connection) out.push(connectionLine(sdp.connection));
  for (const b of sdp.bandwidths) out.push(bandwidthLine(b));
  for (const t of sdp.times) {
    out.push(`t=${t.start} ${t.stop}`);
    for (const r of t.repeats) out.push(`r=${r}`);
    if (t.zone !== undefined) out.push(`z=${t.zone}`);
  }
  if (sdp.key !== undefined) out.push(`k=${sdp.key}`);
  for (const a of sdp.attributes) out.push(attributeLine(a));
  for (const m of sdp.media) pushMedia(out, m);
  return out.join('\r\n') + '\r\n';
}

function pushMedia(out: string[], m: MediaDescription): void {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  out.push(`m=${m.type} ${port} ${m.protocol} ${m.formats.join(' ')}`);
  if (m.information !== undefined) out.push(`i=${m.information}`);
  for (const c of m.connections) out.push(connectionLine(c));
  for (const b of m.bandwidths) out.push(bandwidthLine(b));
  if (m.key !== undefined) out.push(`k=${m.key}`);
  for (const a of m.attributes) out.push(attributeLine(a));
}

function connectionLine(c: Connection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function bandwidthLine(b: Bandwidth): string {
  return `b=${b.type}:${b.value}`;
}

function attributeLine(a: Attribute): string {
  return a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}
