/**
 * The DTLS certificate of the libdatachannel engine's legs (./datachannel-engine.ts): one self-signed ECDSA P-256
 * certificate per process, made on first use, as PEM text that libdatachannel takes in place of file names.
 *
 * Why one and not libdatachannel's own per peer connection: an incoming call's leg makes its offer on one peer
 * connection and takes the browser's answer on a second one (see `DataChannelConnection.acceptAnswer`), and the
 * browser checks the second against the fingerprint of the first (RFC 8122 §5). Browsers check the fingerprint only,
 * not the issuer (self-signed certificates are the rule, RFC 5763 §5), so one certificate shared by every leg is
 * what WebRTC servers commonly use; a new one is made a day before it would expire.
 *
 * The certificate is encoded here (RFC 5280 §4.1, DER per X.690) and signed with node:crypto rather than made by an
 * X.509 library: it is always the same four fields, and the library (with its ASN.1 schemas) cost a server 15 MiB of
 * RSS, 10 MiB of it V8 heap, from its first call on (measured, docs/benchmarks.md).
 */
import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { randomHex } from '../random-hex.ts';

export interface PemCertificate {
  certificate: string;
  key: string;
}

const VALIDITY_MS = 30 * 24 * 3600_000;
/** A new certificate is made for new legs this long before the current one's notAfter. */
const RENEW_BEFORE_MS = 24 * 3600_000;
/** The subject and issuer's common name. */
export const COMMON_NAME = 'callhook';

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
  const { publicKey, privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'prime256v1' });
  // An hour back: a peer whose clock is a little behind still sees it as valid.
  const der = selfSigned(publicKey, privateKey, new Date(now - 3600_000), new Date(now + VALIDITY_MS));
  return { certificate: pem('CERTIFICATE', der), key: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) };
}

/** An X.509 v3 certificate (RFC 5280 §4.1) of `publicKey`, issued by itself, signed ECDSA with SHA-256. */
export function selfSigned(publicKey: KeyObject, privateKey: KeyObject, notBefore: Date, notAfter: Date): Buffer {
  const serial = randomSerial();
  const name = der(SEQUENCE, der(SET, der(SEQUENCE, OID_COMMON_NAME, der(UTF8_STRING, Buffer.from(COMMON_NAME)))));
  const tbs = der(
    SEQUENCE,
    der(VERSION_TAG, der(INTEGER, Buffer.from([2]))), // v3
    der(INTEGER, serial),
    ECDSA_WITH_SHA256,
    name, // issuer
    der(SEQUENCE, utcTime(notBefore), utcTime(notAfter)),
    name, // subject
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  return der(SEQUENCE, tbs, ECDSA_WITH_SHA256, der(BIT_STRING, Buffer.from([0]), signature));
}

// X.690 tags of what a certificate uses.
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OBJECT_IDENTIFIER = 0x06;
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const SEQUENCE = 0x30;
const SET = 0x31;
/** `version [0] EXPLICIT` of TBSCertificate. */
const VERSION_TAG = 0xa0;
/** ecdsa-with-SHA256, 1.2.840.10045.4.3.2, with its parameters absent (RFC 5758 §3.2). */
const ECDSA_WITH_SHA256 = der(SEQUENCE, der(OBJECT_IDENTIFIER, Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
/** id-at-commonName, 2.5.4.3. */
const OID_COMMON_NAME = der(OBJECT_IDENTIFIER, Buffer.from([0x55, 0x04, 0x03]));

/** One DER element: tag, definite length (short form under 128, else long form, X.690 §8.1.3), contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** A positive serial number of 8 random bytes (RFC 5280 §4.1.2.2: positive, at most 20 octets). */
function randomSerial(): Buffer {
  const serial = Buffer.from(randomHex(8), 'hex');
  serial[0] = (serial[0]! & 0x7f) | 0x01; // sign bit clear, and no leading zero octet to strip
  return serial;
}

/** UTCTime YYMMDDHHMMSSZ, what RFC 5280 §4.1.2.5 requires for dates through 2049. */
function utcTime(date: Date): Buffer {
  if (date.getUTCFullYear() >= 2050) throw new RangeError('a date from 2050 on needs GeneralizedTime (RFC 5280 §4.1.2.5)');
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(UTC_TIME, Buffer.from(text));
}

function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
