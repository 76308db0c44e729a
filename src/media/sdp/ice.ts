/**
 * ICE attributes (RFC 8839 §5): credentials and options may sit at session or media level (media level wins),
 * `a=ice-lite` is session-level only, candidates are per media description.
 */
import { attributeValue, attributeValues, hasAttribute } from './attributes.ts';
import { parseCandidate, type IceCandidate } from './candidate.ts';
import type { MediaDescription, SessionDescription } from './model.ts';

export interface IceParameters {
  ufrag?: string;
  pwd?: string;
  /** The peer is an ICE-lite agent (§5.3): it answers checks but never sends them. */
  lite: boolean;
  /** `a=ice-options` tokens, such as `trickle` (§5.6). */
  options: string[];
}

export function iceParameters(sdp: SessionDescription, media: MediaDescription): IceParameters {
  const at = (name: string) => attributeValue(media.attributes, name) ?? attributeValue(sdp.attributes, name);
  const p: IceParameters = {
    lite: hasAttribute(sdp.attributes, 'ice-lite'),
    options: (at('ice-options') ?? '').split(' ').filter((o) => o !== ''),
  };
  const ufrag = at('ice-ufrag');
  const pwd = at('ice-pwd');
  if (ufrag !== undefined) p.ufrag = ufrag;
  if (pwd !== undefined) p.pwd = pwd;
  return p;
}

export function mediaCandidates(media: MediaDescription): IceCandidate[] {
  return attributeValues(media.attributes, 'candidate').map(parseCandidate);
}
