/**
 * The SIP TLS transport on loopback (RFC 3261 §26.2, RFC 5630) with the test's own certificates: what it shares with
 * TCP (CRLF keep-alive pong, RFC 5626 §3.5.1; the message timeout) and what is its own — the handshake timeout both
 * ways, SNI with the next hop's name (RFC 6066 §3) and none for an address, credentials checked at start and on
 * reload, and a Contact of a sips: request that is a SIPS URI (RFC 3261 §8.1.1.8).
 */
import assert from 'node:assert/strict';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { createLogger } from '../../src/log.ts';
import { SipError } from '../../src/sip/errors.ts';
import { newTag } from '../../src/sip/message/builders.ts';
import { Headers, SipRequest } from '../../src/sip/message/message.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import { readTlsCredentials, TlsTransport, type TlsCredentials } from '../../src/sip/transport/index.ts';
import { makeTestCertificates, type TestCertificates } from '../support/certs.ts';
import { eventually } from '../support/eventually.ts';

const logger = createLogger('silent');
const WAIT_MS = 3000;
const sink = { received: () => undefined, framingError: async () => undefined };

function options(target: string): SipRequest {
  const h = new Headers();
  h.append('Via', `SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bK${newTag()}`);
  h.append('Max-Forwards', '70');
  h.append('From', `<sip:a@127.0.0.1>;tag=${newTag()}`);
  h.append('To', `<${target}>`);
  h.append('Call-ID', `${newTag()}@test`);
  h.append('CSeq', '1 OPTIONS');
  return new SipRequest('OPTIONS', parseUri(target), h, Buffer.alloc(0));
}

/** Resolves when `socket` closes; with how long that took from now. */
function closedWithin(socket: Socket): Promise<number> {
  const start = Date.now();
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - start)));
}

describe('SIP TLS transport on loopback', () => {
  let certs: TestCertificates;
  let credentials: TlsCredentials;
  let ca: Buffer;
  const transports: TlsTransport[] = [];

  async function listen(o: Partial<Parameters<typeof TlsTransport.listen>[0]> = {}): Promise<TlsTransport> {
    const t = await TlsTransport.listen({ address: '127.0.0.1', port: 0, maxMessageBytes: 4096, sink, logger, credentials, ...o });
    transports.push(t);
    return t;
  }

  before(async () => {
    certs = await makeTestCertificates();
    credentials = readTlsCredentials({ ...certs.server, caFile: certs.ca });
    ca = await readFile(certs.ca);
  });
  after(async () => {
    for (const t of transports) await t.close();
    await certs?.remove();
  });

  it('a CRLFCRLF keep-alive ping is answered with a CRLF pong over TLS, as over TCP (RFC 5626 §3.5.1)', async () => {
    const t = await listen();
    const peer = tlsConnect({ host: '127.0.0.1', port: t.local.port, ca: [ca] });
    try {
      let data = '';
      peer.on('data', (c: Buffer) => (data += c.toString('latin1')));
      await new Promise<void>((resolve, reject) => peer.once('secureConnect', resolve).once('error', reject));
      peer.write('\r\n\r\n');
      await eventually(() => data === '\r\n', WAIT_MS, 'the pong');
    } finally {
      peer.destroy();
    }
  });

  it('a peer that connects and never completes the handshake is closed after the handshake timeout', async () => {
    const t = await listen({ handshakeTimeoutMs: 300 });
    const peer = netConnect({ host: '127.0.0.1', port: t.local.port });
    peer.on('error', () => undefined);
    const took = await closedWithin(peer);
    assert.ok(took >= 250 && took < 2500, `closed after ${took} ms`);
  });

  it('plain SIP (not TLS) sent to the TLS port: the connection is closed, the listener goes on serving', async () => {
    const t = await listen();
    const plain = netConnect({ host: '127.0.0.1', port: t.local.port });
    plain.on('error', () => undefined);
    const closed = closedWithin(plain);
    plain.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKplain\r\nContent-Length: 0\r\n\r\n');
    assert.ok((await closed) < WAIT_MS);
    const peer = tlsConnect({ host: '127.0.0.1', port: t.local.port, ca: [ca] });
    await new Promise<void>((resolve, reject) => peer.once('secureConnect', resolve).once('error', reject));
    peer.destroy();
  });

  it('after the handshake, a peer that sends no message is closed after the message timeout (sipTcpMessageTimeoutMs)', async () => {
    const t = await listen({ messageTimeoutMs: 300 });
    const peer = tlsConnect({ host: '127.0.0.1', port: t.local.port, ca: [ca] });
    peer.on('error', () => undefined);
    await new Promise<void>((resolve) => peer.once('secureConnect', resolve));
    const took = await closedWithin(peer);
    assert.ok(took >= 250 && took < 2500, `closed after ${took} ms`);
  });

  it('connections beyond maxConnections (sipTcpMaxConnections) are closed at once', async () => {
    const t = await listen({ maxConnections: 1 });
    const first = tlsConnect({ host: '127.0.0.1', port: t.local.port, ca: [ca] });
    await new Promise<void>((resolve) => first.once('secureConnect', resolve));
    const second = netConnect({ host: '127.0.0.1', port: t.local.port });
    second.on('error', () => undefined);
    await closedWithin(second);
    assert.equal(first.destroyed, false);
    first.destroy();
  });

  describe('outgoing', () => {
    let server: ReturnType<typeof createTlsServer>;
    let silent: NetServer;
    const servernames: (string | false | null)[] = [];
    /** Sockets of both servers, destroyed at the end (a server's close waits for them). */
    const accepted: Socket[] = [];

    before(async () => {
      const pem = { cert: await readFile(certs.server.cert), key: await readFile(certs.server.key) };
      server = createTlsServer(pem, (s: TLSSocket) => {
        accepted.push(s);
        servernames.push(s.servername);
        s.resume();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      // Accepts TCP and never says a word: a TLS client waits for its ServerHello in vain.
      silent = createNetServer((s) => accepted.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      for (const s of accepted) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => silent.close(resolve));
    });

    const port = (s: { address(): unknown }) => (s.address() as { port: number }).port;

    it('SNI carries the next hop\'s host name, and nothing for an IP address (RFC 6066 §3)', async () => {
      const t = await listen();
      await t.send(options('sip:x@localhost'), { address: '127.0.0.1', port: port(server), host: 'localhost' });
      await eventually(() => servernames.length === 1, WAIT_MS, 'the connection');
      assert.equal(servernames[0], 'localhost');
      const other = await listen();
      await other.send(options('sip:x@127.0.0.1'), { address: '127.0.0.1', port: port(server), host: '127.0.0.1' });
      await eventually(() => servernames.length === 2, WAIT_MS, 'the second connection');
      assert.equal(servernames[1], false);
    });

    it('a server that never answers the handshake: the send fails after the handshake timeout, naming it', async () => {
      const t = await listen({ handshakeTimeoutMs: 300 });
      const start = Date.now();
      await assert.rejects(
        t.send(options('sip:x@127.0.0.1'), { address: '127.0.0.1', port: port(silent), host: '127.0.0.1' }),
        (e: unknown) => e instanceof SipError && e.code === 'SIP_TRANSPORT' && /^TLS connect to 127\.0\.0\.1:\d+ failed: no answer within 300 ms$/.test(e.message),
      );
      assert.ok(Date.now() - start < 2500);
    });
  });

  describe('credentials', () => {
    it('a key that does not belong to the certificate is refused at start, naming the files\' fault', async () => {
      const mismatched = readTlsCredentials({ cert: certs.server.cert, key: certs.expired.key });
      await assert.rejects(listen({ credentials: mismatched }), (e: unknown) => e instanceof SipError && /^bad TLS certificate, key or CA file: .*key values mismatch/.test(e.message));
    });

    it('a file that cannot be read is named', () => {
      assert.throws(
        () => readTlsCredentials({ caFile: '/nonexistent/ca.pem' }),
        (e: unknown) => e instanceof SipError && e.message === 'cannot read the TLS CA file /nonexistent/ca.pem: ENOENT',
      );
    });

    it('a reload with bad credentials throws and keeps the old ones serving', async () => {
      const t = await listen();
      assert.throws(() => t.setCredentials({ cert: Buffer.from('not a PEM'), key: Buffer.from('nor this') }), SipError);
      const peer = tlsConnect({ host: '127.0.0.1', port: t.local.port, ca: [ca] });
      await new Promise<void>((resolve, reject) => peer.once('secureConnect', resolve).once('error', reject));
      peer.destroy();
    });

    it('without a certificate of its own the transport only connects out: no listener, the advertised port 5061', async () => {
      const t = await listen({ credentials: {} });
      assert.equal(t.listening, false);
      assert.deepEqual(t.local, { address: '127.0.0.1', port: 5061 });
    });
  });
});
