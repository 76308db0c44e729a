/** SDP bodies as the sessions carry them: opaque `application/sdp` Buffers (what they say is the media library's). */
import type { SipMessage } from '../message/message.ts';

export const SDP = 'application/sdp';

/** The SDP body of a message, when its Content-Type is application/sdp and it has one. */
export function sdpOf(message: SipMessage): Buffer | undefined {
  const type = message.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return type === SDP && message.body.length > 0 ? message.body : undefined;
}

export function contentType(type: string): { name: string; value: string } {
  return { name: 'Content-Type', value: type };
}

/** The SDP a session last sent (offer or answer) and the one it last received (RFC 3264). */
export class SdpExchange {
  local: Buffer | undefined;
  remote: Buffer | undefined;
}
