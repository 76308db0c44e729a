/**
 * SIP over TLS trusts the system's CA store (RFC 5922 §7.1: the server's certificate against the trust anchors the
 * host is configured with), read from `SSL_CERT_FILE` as OpenSSL does, with no sipTlsCaFile. Its own file: the store
 * is read once per process, and `node --test` runs each file in a process of its own.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { createLogger } from '../../src/log.ts';
import { newTag } from '../../src/sip/message/builders.ts';
import { Headers, SipRequest } from '../../src/sip/message/message.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import { TlsTransport } from '../../src/sip/transport/index.ts';
import { makeTestCertificates, type TestCertificates } from '../support/certs.ts';
import { eventually } from '../support/eventually.ts';

function options(): SipRequest {
  const h = new Headers();
  h.append('Via', `SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK${newTag()}`);
  h.append('From', `<sip:a@127.0.0.1>;tag=${newTag()}`);
  h.append('To', '<sip:x@localhost>');
  h.append('Call-ID', `${newTag()}@test`);
  h.append('CSeq', '1 OPTIONS');
  return new SipRequest('OPTIONS', parseUri('sip:x@localhost'), h, Buffer.alloc(0));
}

describe('SIP TLS and the system CA store', () => {
  let certs: TestCertificates;
  let server: Server;
  const sockets: TLSSocket[] = [];

  before(async () => {
    certs = await makeTestCertificates();
    // The "system store" of this process is our test CA alone.
    process.env['SSL_CERT_FILE'] = certs.ca;
    server = createServer({ cert: await readFile(certs.server.cert), key: await readFile(certs.server.key) }, (s) => {
      sockets.push(s);
      s.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await certs?.remove();
  });

  const listen = (): Promise<TlsTransport> => TlsTransport.listen({
    address: '127.0.0.1', port: 0, maxMessageBytes: 4096, logger: createLogger('silent'), credentials: {},
    sink: { received: () => undefined, framingError: async () => undefined },
  });

  // First: the store, once read, stays for the process. A server that never dials TLS keeps no parsed CA store
  // (about 1 MiB); so the store a transport without files of its own trusts is the one there at its first connection.
  it('reads the system store at the first outgoing connection, not at start', async () => {
    process.env['SSL_CERT_FILE'] = `${certs.ca}.not-yet`;
    const t = await listen();
    process.env['SSL_CERT_FILE'] = certs.ca;
    try {
      const port = (server.address() as { port: number }).port;
      await t.send(options(), { address: '127.0.0.1', port, host: 'localhost' });
      await eventually(() => sockets.length === 1, 3000, 'the verified connection');
    } finally {
      await t.close();
    }
  });

  it('a server certificate from a CA of the system store verifies without sipTlsCaFile', async () => {
    const t = await listen();
    try {
      const port = (server.address() as { port: number }).port;
      await t.send(options(), { address: '127.0.0.1', port, host: 'localhost' });
      await eventually(() => sockets.length === 2, 3000, 'the verified connection');
      assert.equal(t.connectionCount, 1);
    } finally {
      await t.close();
    }
  });
});
