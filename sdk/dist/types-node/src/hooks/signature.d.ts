export declare const SIGNATURE_HEADER = "X-Callhook-Signature";
/** docs/hooks.md "The request": compared in constant time, timestamps up to 5 minutes off either way. */
export declare const DEFAULT_TOLERANCE_SEC = 300;
/** The `X-Callhook-Signature` value for `rawBody` signed at `unixSec`. */
export declare function signCallhook(rawBody: string | Buffer, secret: string, unixSec: number): string;
/** The `Authorization` value of WCS's hook signing: `WCS <hex HMAC-MD5(secret, raw body)>`. */
export declare function signWcs(rawBody: string | Buffer, secret: string): string;
export type SignatureCheck = {
    ok: true;
} | {
    ok: false;
    reason: 'missing' | 'malformed' | 'expired' | 'mismatch';
};
export interface VerifyOptions {
    /** Accepted clock difference either way, seconds (default 300). */
    toleranceSec?: number;
    /** Current time, ms since epoch (default Date.now()). */
    now?: number;
}
/**
 * Checks an `X-Callhook-Signature` header against the raw request body (the exact bytes received, before any
 * JSON parsing). Several `v1=` entries are allowed (a sender rotating secrets); one matching is enough.
 */
export declare function verifySignature(rawBody: string | Buffer, header: string | undefined | null, secret: string, options?: VerifyOptions): SignatureCheck;
/** Checks WCS's `Authorization: WCS <hex>` header against the raw body (what a WCS backend does). */
export declare function verifyWcsSignature(rawBody: string | Buffer, header: string | undefined | null, secret: string): SignatureCheck;
