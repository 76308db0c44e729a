/**
 * The SDK's helper for backends (`@callhook/sdk/node`): checks the signature callhook puts on every hook request
 * (docs/hooks.md "The request"). These are callhook's own functions, re-exported rather than re-implemented,
 * so a backend verifies with exactly the code that signs.
 *
 * ```ts
 * import { verifySignature, SIGNATURE_HEADER } from '@callhook/sdk/node';
 * const check = verifySignature(rawBody, req.headers['x-callhook-signature'], process.env.HOOK_SECRET);
 * if (!check.ok) return res.writeHead(403).end(); // check.reason: missing | malformed | expired | mismatch
 * ```
 */
export {
  verifySignature,
  verifyWcsSignature,
  signCallhook,
  SIGNATURE_HEADER,
  DEFAULT_TOLERANCE_SEC,
  type SignatureCheck,
  type VerifyOptions,
} from '../../../src/hooks/signature.ts';
