/**
 * The DTLS certificate of the libdatachannel engine's legs (./datachannel-engine.ts): one self-signed ECDSA P-256
 * certificate per process, made on first use, as PEM text that libdatachannel takes in place of file names.
 *
 * Why one and not libdatachannel's own per peer connection: an incoming call's leg makes its offer on one peer
 * connection and takes the browser's answer on a second one (see `DataChannelConnection.acceptAnswer`), and the
 * browser checks the second against the fingerprint of the first (RFC 8122 §5). Browsers check the fingerprint only,
 * not the issuer (self-signed certificates are the rule, RFC 5763 §5), so one certificate shared by every leg is
 * what WebRTC servers commonly use; a new one is made a day before it would expire.
 */
import { KeyObject, webcrypto } from 'node:crypto';
import { randomHex } from '../random-hex.ts';

export interface PemCertificate {
  certificate: string;
  key: string;
}

const VALIDITY_MS = 30 * 24 * 3600_000;
/** A new certificate is made for new legs this long before the current one's notAfter. */
const RENEW_BEFORE_MS = 24 * 3600_000;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

let current: { pem: Promise<PemCertificate>; renewAt: number } | undefined;

/** The process's certificate (made once, renewed a day before it expires). */
export function dtlsCertificate(now = Date.now()): Promise<PemCertificate> {
  if (current === undefined || now >= current.renewAt) {
    const pem = generate(now);
    current = { pem, renewAt: now + VALIDITY_MS - RENEW_BEFORE_MS };
    // A failed generation is not kept: the next leg tries again.
    pem.catch(() => {
      if (current?.pem === pem) current = undefined;
    });
  }
  return current.pem;
}

async function generate(now: number): Promise<PemCertificate> {
  // Loaded on first use: start-up does not pay for the X.509 library.
  const x509 = await import('@peculiar/x509');
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomHex(8),
      name: 'CN=callhook',
      // An hour back: a peer whose clock is a little behind still sees it as valid.
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + VALIDITY_MS),
      signingAlgorithm: ALGORITHM,
      keys,
    },
    webcrypto as unknown as Crypto,
  );
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' });
  return { certificate: certificate.toString('pem'), key: String(key) };
}
