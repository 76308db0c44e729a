/**
 * What the UA core hands to those above it: a request received for one of our contacts, and the contact bindings
 * (RFC 3261 §8.1.1.8 Contact URIs of ours) that requests are routed to. A leaf module, so the dialog router and the
 * sessions read these types without importing the UserAgent that creates them.
 */
import type { ResponseOptions } from '../message/builders.ts';
import type { SipRequest } from '../message/message.ts';
import type { SipUri } from '../message/types.ts';
import type { Endpoint, Received, Transport } from '../transport/transport.ts';

/** A request received for one of our contacts, answered through `respond` (once; later calls are ignored). */
export interface IncomingRequest {
  readonly message: SipRequest;
  readonly received: Received;
  respond(status: number, reason?: string, options?: ResponseOptions): void;
}

export type RequestHandler = (request: IncomingRequest) => void;

/** A Contact user part of ours; requests whose Request-URI names it reach `handler`. */
export interface ContactBinding {
  readonly user: string;
  /**
   * Our Contact URI for requests that leave over `transport` (RFC 3261 §8.1.1.8). `sips`: the request's
   * Request-URI is a SIPS URI, so "the Contact header field MUST contain a SIPS URI as well" (§8.1.1.8).
   */
  contactUri(transport: Transport, sips?: boolean): SipUri;
  /**
   * The registrar (or outbound proxy) a REGISTER of this contact was accepted through: with trustedSources
   * `registrar`, the one source address new requests to the contact are taken from.
   */
  registeredThrough(registrar: Endpoint): void;
  close(): void;
}
