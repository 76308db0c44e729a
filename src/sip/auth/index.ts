/** Client-side SIP digest authentication (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760). */
export {
  algorithmStrength, digestAlgorithm, digestHA1, digestResponse, formatNonceCount, type DigestAlgorithm, type DigestInput,
  type DigestQop,
} from './digest.ts';
export {
  DigestAuthError, DigestClient, type Challenge, type ChallengeHeader, type Credentials, type CredentialsHeader,
  type DigestAuthFailure, type DigestClientOptions, type DigestCredentials,
} from './digest-client.ts';
