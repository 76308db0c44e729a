/**
 * src/media/dtls-certificate.ts encodes its certificate itself: what it makes must be a certificate that OpenSSL
 * (Node's X509Certificate, and the `openssl` command) reads field by field, whose signature verifies with its own key,
 * and whose key is the PEM key handed out with it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { COMMON_NAME, dtlsCertificate, selfSigned } from '../../src/media/dtls-certificate.ts';

describe('the DTLS certificate', () => {
  it('is a self-signed X.509 v3 certificate of the key handed out with it, valid from an hour back for 30 days', async () => {
    const now = Date.UTC(2026, 11, 7, 13, 30, 15);
    const { certificate, key } = await dtlsCertificate(now);
    const x509 = new X509Certificate(certificate);
    assert.equal(x509.subject, `CN=${COMMON_NAME}`);
    assert.equal(x509.issuer, `CN=${COMMON_NAME}`);
    assert.equal(new Date(x509.validFrom).getTime(), now - 3600_000);
    assert.equal(new Date(x509.validTo).getTime(), now + 30 * 24 * 3600_000);
    assert.ok(x509.verify(x509.publicKey), 'signed by its own key');
    assert.ok(x509.checkPrivateKey(createPrivateKey(key)), 'the key handed out is its key');
    assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(x509.serialNumber, /^[0-7][0-9A-F]{15}$/, 'positive, 8 octets');
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: certificate, encoding: 'utf8' });
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    const verified = execFileSync('sh', ['-c', 'f=$(mktemp); cat > "$f"; openssl verify -no_check_time -CAfile "$f" "$f"; rm -f "$f"'], { input: certificate, encoding: 'utf8' });
    assert.match(verified, /: OK\n/);
  });

  it('is made once and shared, and made anew a day before it would expire', async () => {
    const now = Date.UTC(2027, 0, 1);
    const first = await dtlsCertificate(now);
    assert.equal(await dtlsCertificate(now + 3600_000), first);
    const renewed = await dtlsCertificate(now + 29 * 24 * 3600_000);
    assert.notEqual(renewed.certificate, first.certificate);
  });

  it('encodes serial numbers without a sign problem, and refuses dates UTCTime cannot hold', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (let i = 0; i < 50; i++) {
      const x509 = new X509Certificate(selfSigned(publicKey, privateKey, new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2049, 11, 31))));
      assert.ok(x509.verify(publicKey));
    }
    assert.throws(() => selfSigned(publicKey, privateKey, new Date(), new Date(Date.UTC(2050, 0, 1))), /GeneralizedTime/);
  });
});
