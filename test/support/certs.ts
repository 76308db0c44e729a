/**
 * Test certificates made with the `openssl` CLI in a temp directory, for SIP over TLS (RFC 5922): a private CA and,
 * signed by it, a server certificate for 127.0.0.1 and localhost, an expired one and one for another host. Nothing
 * is installed: a test trusts the CA by passing `ca` as sipTlsCaFile (or leaves it out to see `unknown CA`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface CertificateFiles {
  /** PEM certificate (leaf only; the CA is `TestCertificates.ca`). */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface TestCertificates {
  readonly dir: string;
  /** The CA's certificate (PEM): the trust anchor for every certificate below. */
  readonly ca: string;
  /** Valid for IP 127.0.0.1 and DNS localhost. */
  readonly server: CertificateFiles;
  /** Valid for 127.0.0.1 and localhost too, but its notAfter is a day ago. */
  readonly expired: CertificateFiles;
  /** Valid, for DNS wrong.example only: connecting to 127.0.0.1 or localhost is a host mismatch. */
  readonly wrongHost: CertificateFiles;
  /** Another valid server certificate for 127.0.0.1 (a renewal, to see a reload take effect). */
  readonly renewed: CertificateFiles;
  remove(): Promise<void>;
}

const LOCAL_NAMES = 'subjectAltName=IP:127.0.0.1,DNS:localhost';

export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-certs-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileAsync('openssl', args, { cwd: dir });
  // EC P-256: fast to make, and what current PBXes and Kamailio accept.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    await openssl('req', '-x509', ...newKey, '-keyout', path('ca.key'), '-out', path('ca.pem'), '-subj', '/CN=callhook test CA', '-days', '2');
    const leaf = async (name: string, cn: string, names: string, days: number): Promise<CertificateFiles> => {
      await writeFile(path(`${name}.ext`), `${names}\nextendedKeyUsage=serverAuth,clientAuth\n`);
      await openssl('req', ...newKey, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${cn}`);
      // A negative -days puts notAfter in the past: an expired certificate without touching the clock.
      await openssl(
        'x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial',
        '-days', String(days), '-extfile', path(`${name}.ext`), '-out', path(`${name}.pem`),
      );
      return { cert: path(`${name}.pem`), key: path(`${name}.key`) };
    };
    const server = await leaf('server', '127.0.0.1', LOCAL_NAMES, 2);
    const expired = await leaf('expired', '127.0.0.1', LOCAL_NAMES, -1);
    const wrongHost = await leaf('wrong-host', 'wrong.example', 'subjectAltName=DNS:wrong.example', 2);
    const renewed = await leaf('renewed', '127.0.0.1', LOCAL_NAMES, 3);
    return { dir, ca: path('ca.pem'), server, expired, wrongHost, renewed, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The serial number of the certificate a TLS server on 127.0.0.1:`port` serves, verified against the CA file `ca`. */
export async function servedCertificateSerial(port: number, ca: string): Promise<string> {
  const trusted = await readFile(ca);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: [trusted] });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
