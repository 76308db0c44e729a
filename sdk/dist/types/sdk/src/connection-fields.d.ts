/**
 * The `connection` frame (docs/client-protocol.md "Connecting"): the SDK's options in the field names of the
 * WCS protocol. Every SIP field is optional, because a backend's connect hook may supply each of them (that is
 * how credentials stay off the page); options left undefined are left out of the frame, not sent as null.
 */
import type { JsonValue } from './protocol.ts';
export interface SipOptions {
    /** The user part of the identity `sip:<login>@<domain>` (`sipLogin`). */
    login?: string;
    /** Digest user name when it differs from `login` (`sipAuthenticationName`). */
    authName?: string;
    /** Digest password (`sipPassword`); the server never sends it back. */
    password?: string;
    /** SIP domain (`sipDomain`). */
    domain?: string;
    /** Next hop for every request, when it is not the domain (`sipOutboundProxy`). */
    outboundProxy?: string;
    /** Port of the next hop (`sipPort`); a numeric string is accepted, as typed into an input. */
    port?: number | string;
    /** REGISTER on connect (`sipRegisterRequired`); without it incoming calls and messages cannot arrive. */
    register?: boolean;
    /** Display name in From (`sipVisibleName`). */
    visibleName?: string;
    /** SIP transport towards the next hop (`sipTransport`); the server's configuration decides when absent. */
    transport?: 'udp' | 'tcp' | 'tls';
}
export declare const DEFAULT_APP_KEY = "defaultApp";
export interface ConnectionFieldsInput {
    appKey?: string | undefined;
    sip?: SipOptions | undefined;
    custom?: JsonValue | undefined;
}
/** data[0] of the `connection` frame. */
export declare function connectionFields(input: ConnectionFieldsInput, userAgent: string | undefined): Record<string, unknown>;
