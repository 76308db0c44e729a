/**
 * The SIP transport layer over real sockets on loopback (RFC 3261 §18, RFC 3581): two TransportLayers talk over UDP
 * and TCP; raw sockets play broken or foreign peers; sipp plays a real one.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/log.ts';
import { SipError } from '../../src/sip/errors.ts';
import { createResponse, newTag } from '../../src/sip/message/builders.ts';
import { topVia } from '../../src/sip/message/headers.ts';
import { Headers, SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import { TcpTransport } from '../../src/sip/transport/tcp.ts';
import { TransportLayer, type ListenSpec } from '../../src/sip/transport/transport-layer.ts';
import type { Received, Transport } from '../../src/sip/transport/transport.ts';
import { eventually } from '../support/eventually.ts';
import { runSipp, scenarioFile } from '../support/sipp.ts';

const logger = createLogger('silent');
const MAX_BYTES = 4096;
const WAIT_MS = 3000;

/** Collects what a layer receives and lets a test wait for the next message matching a predicate. */
class Inbox {
  readonly all: Received[] = [];
  private waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];

  constructor(layer: TransportLayer, private readonly onEach?: (r: Received) => void) {
    layer.onMessage((r) => {
      this.all.push(r);
      const w = this.waiters.find((x) => x.match(r));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(r);
      }
      this.onEach?.(r);
    });
  }

  /** The first message from now on (or already received, unconsumed by index `since`) matching `match`. */
  next(match: (r: Received) => boolean, timeoutMs = WAIT_MS): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.resolve !== done);
        reject(new Error(`nothing matching arrived within ${timeoutMs} ms (got ${this.all.length} messages)`));
      }, timeoutMs);
      const done = (r: Received): void => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.push({ match, resolve: done });
    });
  }
}

const callIdIs = (id: string) => (r: Received) => r.message.headers.get('Call-ID') === id;

function options(target: string, callId = `${newTag()}@test`, body = ''): SipRequest {
  const h = new Headers();
  h.append('Max-Forwards', '70');
  h.append('From', `<sip:a@127.0.0.1>;tag=${newTag()}`);
  h.append('To', `<${target}>`);
  h.append('Call-ID', callId);
  h.append('CSeq', '1 OPTIONS');
  return new SipRequest('OPTIONS', parseUri(target), h, Buffer.from(body));
}

async function layer(...listen: ListenSpec[]): Promise<TransportLayer> {
  return TransportLayer.start({ listen, maxMessageBytes: MAX_BYTES, logger });
}

function tcpOf(l: TransportLayer): TcpTransport {
  const t = l.transports.find((x) => x.protocol === 'TCP');
  assert.ok(t instanceof TcpTransport);
  return t;
}

function udpOf(l: TransportLayer): Transport {
  return l.transportFor('UDP', '127.0.0.1');
}

/** A raw UDP socket on loopback that collects datagrams. */
async function rawUdp(): Promise<{ socket: UdpSocket; port: number; received: Buffer[]; next(timeoutMs?: number): Promise<Buffer> }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    socket,
    port: socket.address().port,
    received,
    next: (timeoutMs = WAIT_MS) => eventually(() => received.shift(), timeoutMs, 'a datagram'),
  };
}

function sendRaw(socket: UdpSocket, data: string | Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

/** A raw TCP client collecting everything it reads, and whether the server closed it. */
async function rawTcp(port: number): Promise<{ socket: Socket; text(): string; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('utf8')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, text: () => data, closed };
}

/** A request as a peer would write it, with a Via of our choosing. */
function rawRequest(via: string, callId: string, extra = ''): string {
  return (
    `OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n` +
    `To: <sip:b@127.0.0.1>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`
  );
}

describe('SIP transport layer on loopback', () => {
  let a: TransportLayer;
  let b: TransportLayer;
  let inboxA: Inbox;
  let inboxB: Inbox;

  before(async () => {
    a = await layer({ protocol: 'UDP', address: '127.0.0.1', port: 0 }, { protocol: 'TCP', address: '127.0.0.1', port: 0 });
    b = await layer({ protocol: 'UDP', address: '127.0.0.1', port: 0 }, { protocol: 'TCP', address: '127.0.0.1', port: 0 });
    inboxA = new Inbox(a);
    // B answers every OPTIONS with 200 where RFC 3261 §18.2.2 says, like a UAS would.
    inboxB = new Inbox(b, (r) => {
      if (r.message.kind !== 'request' || r.message.method !== 'OPTIONS') return;
      void r.transport.send(createResponse(r.message, 200), b.responseDestination(r)).catch(() => undefined);
    });
  });

  after(async () => {
    await a.close();
    await b.close();
  });

  describe('UDP (RFC 3261 §18.1, §18.2; RFC 3581)', () => {
    it('a request reaches the other layer with rport and received stamped, and the 200 comes back', async () => {
      const req = options(`sip:b@127.0.0.1:${udpOf(b).local.port}`);
      const via = a.addVia(req, udpOf(a));
      assert.match(via.params.get('branch')!, /^z9hG4bK./);
      assert.equal(via.params.get('rport'), null, 'an empty rport asks for the source port (RFC 3581 §3)');
      const callId = req.headers.get('Call-ID')!;
      const gotResponse = inboxA.next(callIdIs(callId));
      await udpOf(a).send(req, udpOf(b).local);

      const atB = await inboxB.next(callIdIs(callId));
      assert.equal(atB.transport.protocol, 'UDP');
      assert.deepEqual(atB.remote, { address: '127.0.0.1', port: udpOf(a).local.port });
      const stamped = topVia(atB.message);
      assert.equal(stamped.params.get('rport'), String(udpOf(a).local.port), 'rport filled with the source port');
      assert.equal(stamped.params.get('received'), '127.0.0.1', 'RFC 3581 §4: received added along with rport');
      assert.deepEqual(b.responseDestination(atB), { address: '127.0.0.1', port: udpOf(a).local.port });

      const res = await gotResponse;
      assert.equal(res.message.kind, 'response');
      assert.equal((res.message as SipResponse).status, 200);
    });

    it('received is added when the Via host differs from the source, and the response follows received + sent-by port', async () => {
      const peer = await rawUdp();
      try {
        // No rport: the response goes to received:sent-by-port (RFC 3261 §18.2.2), here the raw socket.
        await sendRaw(peer.socket, rawRequest(`SIP/2.0/UDP 192.0.2.7:${peer.port};branch=z9hG4bKx1`, 'diff-host@test'), udpOf(b).local.port);
        const atB = await inboxB.next(callIdIs('diff-host@test'));
        const via = topVia(atB.message);
        assert.equal(via.params.get('received'), '127.0.0.1');
        assert.equal(via.params.has('rport'), false, 'no rport asked, none added');
        const answer = parseMessage(await peer.next());
        assert.equal(answer.kind, 'response');
        assert.equal((answer as SipResponse).status, 200);
        assert.match(answer.headers.get('Via')!, /received=127\.0\.0\.1/);
      } finally {
        peer.socket.close();
      }
    });

    it('a Via host equal to the source and no rport gets neither parameter (RFC 3261 §18.2.1)', async () => {
      const peer = await rawUdp();
      try {
        await sendRaw(peer.socket, rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKx2`, 'same-host@test'), udpOf(b).local.port);
        const via = topVia((await inboxB.next(callIdIs('same-host@test'))).message);
        assert.equal(via.params.has('received'), false);
        assert.equal(via.params.has('rport'), false);
        await peer.next(); // the 200
      } finally {
        peer.socket.close();
      }
    });

    it('only the top Via of a shared line is stamped', async () => {
      const peer = await rawUdp();
      try {
        const vias = `SIP/2.0/UDP 10.0.0.1:${peer.port};branch=z9hG4bKtop;rport, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKlow`;
        await sendRaw(peer.socket, rawRequest(vias, 'two-vias@test'), udpOf(b).local.port);
        const atB = await inboxB.next(callIdIs('two-vias@test'));
        const all = atB.message.headers.getAll('Via');
        assert.equal(all.length, 2);
        assert.match(all[0]!, /;rport=\d+;received=127\.0\.0\.1$/);
        assert.equal(all[1], 'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKlow');
        // rport + received: the 200 goes to the source port, the raw socket (RFC 3581 §4).
        assert.equal((parseMessage(await peer.next()) as SipResponse).status, 200);
      } finally {
        peer.socket.close();
      }
    });

    it('garbage is dropped, a broken request gets 400 <reason>, and good traffic keeps flowing', async () => {
      const peer = await rawUdp();
      try {
        const port = udpOf(b).local.port;
        const before = inboxB.all.length;
        await sendRaw(peer.socket, Buffer.from([0, 1, 2, 255, 254, 10, 13]), port);
        await sendRaw(peer.socket, '\r\n\r\n', port);
        await sendRaw(peer.socket, 'SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n', port);
        await sendRaw(peer.socket, 'INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1', port);
        await sendRaw(peer.socket, Buffer.from('OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nTo: \xff\xfe\r\n\r\n', 'latin1'), port);
        // Parsable up to its CSeq: answered 400, echoing the parser's reason.
        const bad = rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbad;rport`, 'bad-cseq@test').replace('CSeq: 1 OPTIONS', 'CSeq: x OPTIONS');
        await sendRaw(peer.socket, bad, port);
        // The 400 copies the broken CSeq as it was (RFC 3261 §8.2.6.2), so a strict parser would refuse it: read text.
        const answer = (await peer.next()).toString('utf8');
        assert.match(answer, /^SIP\/2\.0 400 [^\r]*CSeq/);
        assert.match(answer, /\r\nCall-ID: bad-cseq@test\r\n/);
        assert.match(answer, /\r\nTo: <sip:b@127\.0\.0\.1>;tag=\w+\r\n/, 'the 400 adds a To tag (RFC 3261 §8.2.6.2)');
        assert.match(answer, new RegExp(`\\r\\nVia: [^\\r]*;rport=${peer.port};received=127\\.0\\.0\\.1\\r\\n`));
        // A broken ACK is never answered (RFC 3261 §17).
        await sendRaw(peer.socket, bad.replace(/OPTIONS/g, 'ACK'), port);

        await sendRaw(peer.socket, rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKok`, 'after-garbage@test'), port);
        await inboxB.next(callIdIs('after-garbage@test'));
        assert.equal(inboxB.all.length, before + 1, 'only the good request was delivered');
        assert.equal((parseMessage(await peer.next()) as SipResponse).status, 200, 'the ACK got nothing, the good request its 200');
        // One more round trip: whatever the ACK might still have caused would arrive before this 200.
        await sendRaw(peer.socket, rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKlast`, 'last@test'), port);
        assert.equal((parseMessage(await peer.next()) as SipResponse).status, 200);
        assert.equal(peer.received.length, 0);
      } finally {
        peer.socket.close();
      }
    });

    it('a request in another SIP version is answered 505 (RFC 3261 §21.5.6)', async () => {
      const peer = await rawUdp();
      try {
        const v3 = rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKv3`, 'v3@test').replace('SIP/2.0\r\n', 'SIP/3.0\r\n');
        await sendRaw(peer.socket, v3, udpOf(b).local.port);
        const answer = parseMessage(await peer.next()) as SipResponse;
        assert.equal(answer.status, 505);
      } finally {
        peer.socket.close();
      }
    });

    it('an oversize datagram is dropped on receipt; an oversize message is refused on send with SIP_TRANSPORT', async () => {
      const peer = await rawUdp();
      try {
        const big = rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKbig`, 'big@test', `X-Pad: ${'x'.repeat(MAX_BYTES)}\r\n`);
        await sendRaw(peer.socket, big, udpOf(b).local.port);
        await sendRaw(peer.socket, rawRequest(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKsmall`, 'small@test'), udpOf(b).local.port);
        await inboxB.next(callIdIs('small@test'));
        assert.equal(inboxB.all.some((r) => r.message.headers.get('Call-ID') === 'big@test'), false);
      } finally {
        peer.socket.close();
      }
      const req = options(`sip:b@127.0.0.1:${udpOf(b).local.port}`, 'too-big@test', 'y'.repeat(MAX_BYTES));
      a.addVia(req, udpOf(a));
      await assert.rejects(udpOf(a).send(req, udpOf(b).local), (e: unknown) => e instanceof SipError && e.code === 'SIP_TRANSPORT' && /sipMaxMessageBytes/.test(e.message));
    });

    it('a response whose Via sent-by is not ours is discarded (RFC 3261 §18.1.2)', async () => {
      const peer = await rawUdp();
      try {
        const foreign = (sentBy: string, callId: string): string =>
          `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ${sentBy};branch=z9hG4bKr\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n` +
          `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
        await sendRaw(peer.socket, foreign('192.0.2.1:5060', 'foreign@test'), udpOf(a).local.port);
        await sendRaw(peer.socket, foreign(`127.0.0.1:${udpOf(a).local.port}`, 'ours@test'), udpOf(a).local.port);
        await inboxA.next(callIdIs('ours@test'));
        assert.equal(inboxA.all.some((r) => r.message.headers.get('Call-ID') === 'foreign@test'), false);
      } finally {
        peer.socket.close();
      }
    });

    it('a handler that throws does not stop delivery', async () => {
      const c = await layer({ protocol: 'UDP', address: '127.0.0.1', port: 0 });
      try {
        let calls = 0;
        c.onMessage(() => {
          calls++;
          throw new Error('handler bug');
        });
        for (const id of ['t1@test', 't2@test']) {
          const req = options(`sip:c@127.0.0.1:${udpOf(c).local.port}`, id);
          a.addVia(req, udpOf(a));
          await udpOf(a).send(req, udpOf(c).local);
        }
        await eventually(() => calls === 2, WAIT_MS, 'both requests delivered');
      } finally {
        await c.close();
      }
    });
  });

  describe('TCP (RFC 3261 §18.2.2, §18.3)', () => {
    it('the response travels back over the connection the request came on: one connection each side', async () => {
      const req = options(`sip:b@127.0.0.1:${tcpOf(b).local.port};transport=tcp`);
      a.addVia(req, tcpOf(a));
      const callId = req.headers.get('Call-ID')!;
      const gotResponse = inboxA.next(callIdIs(callId));
      await tcpOf(a).send(req, tcpOf(b).local);
      const atB = await inboxB.next(callIdIs(callId));
      assert.equal(atB.transport.protocol, 'TCP');
      assert.notEqual(atB.remote.port, tcpOf(a).local.port, 'the source is the connection, not our listening port');
      assert.deepEqual(b.responseDestination(atB), atB.remote);
      assert.equal(topVia(atB.message).params.get('rport'), String(atB.remote.port));
      const res = await gotResponse;
      assert.equal((res.message as SipResponse).status, 200);
      assert.equal(tcpOf(a).connectionCount, 1);
      assert.equal(tcpOf(b).connectionCount, 1);

      // A second request reuses the same connection.
      const again = options(`sip:b@127.0.0.1:${tcpOf(b).local.port};transport=tcp`);
      a.addVia(again, tcpOf(a));
      const second = inboxA.next(callIdIs(again.headers.get('Call-ID')!));
      await tcpOf(a).send(again, tcpOf(b).local);
      await second;
      assert.equal(tcpOf(a).connectionCount, 1);
      assert.equal(tcpOf(b).connectionCount, 1);
    });

    it('several messages in one chunk and one message split over chunks are all framed', async () => {
      const peer = await rawTcp(tcpOf(b).local.port);
      try {
        const via = (n: string): string => `SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK${n}`;
        const third = rawRequest(via('m3'), 'm3@test');
        peer.socket.write(rawRequest(via('m1'), 'm1@test') + rawRequest(via('m2'), 'm2@test') + third.slice(0, 40));
        // m2 delivered: the chunk ending in m3's first 40 bytes has been read, so the rest comes in another one.
        await eventually(() => inboxB.all.some((r) => r.message.headers.get('Call-ID') === 'm2@test'), WAIT_MS, 'm2');
        peer.socket.write(third.slice(40));
        for (const id of ['m1@test', 'm2@test', 'm3@test']) {
          await eventually(() => inboxB.all.some((r) => r.message.headers.get('Call-ID') === id), WAIT_MS, id);
        }
        await eventually(() => (peer.text().match(/SIP\/2\.0 200 OK/g) ?? []).length === 3, WAIT_MS, 'three 200s on the same connection');
      } finally {
        peer.socket.destroy();
      }
    });

    it('messages of one chunk are handed up one per turn of the event loop: what one sets off in promise callbacks runs before the next', async () => {
      // A REFER's 202 and the NOTIFY right behind it (RFC 3515 §2.4.4) arrive in one chunk; the transaction user
      // awaiting the 202 continues in promise callbacks, which must run before the NOTIFY is handled.
      const c = await layer({ protocol: 'TCP', address: '127.0.0.1', port: 0 });
      const order: string[] = [];
      c.onMessage((r) => {
        const id = r.message.headers.get('Call-ID')!;
        order.push(id);
        void Promise.resolve().then(() => Promise.resolve()).then(() => order.push(`${id} continued`));
      });
      const peer = await rawTcp(tcpOf(c).local.port);
      try {
        const via = (n: string): string => `SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK${n}`;
        peer.socket.write(['o1', 'o2', 'o3'].map((n) => rawRequest(via(n), `${n}@test`)).join(''));
        await eventually(() => order.length === 6, WAIT_MS, () => `three messages and their continuations (${order.join(', ')})`);
        assert.deepEqual(order, ['o1@test', 'o1@test continued', 'o2@test', 'o2@test continued', 'o3@test', 'o3@test continued']);
      } finally {
        peer.socket.destroy();
        await c.close();
      }
    });

    it('a CRLFCRLF keep-alive ping is answered with a CRLF pong and the connection goes on (RFC 5626 §3.5.1)', async () => {
      const peer = await rawTcp(tcpOf(b).local.port);
      try {
        peer.socket.write('\r\n\r\n');
        await eventually(() => peer.text() === '\r\n', WAIT_MS, 'the pong');
        peer.socket.write(`\r\n\r\n${rawRequest('SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKpinged', 'pinged@test')}`);
        await inboxB.next(callIdIs('pinged@test'));
        await eventually(() => /^\r\n\r\nSIP\/2\.0 200 OK/.test(peer.text()), WAIT_MS, 'a second pong, then the 200');
      } finally {
        peer.socket.destroy();
      }
    });

    it('connections accepted beyond maxConnections are closed at once; the others are served', async () => {
      const received: string[] = [];
      const capped = await TcpTransport.listen({
        address: '127.0.0.1', port: 0, maxMessageBytes: MAX_BYTES, logger, maxConnections: 2,
        sink: { received: (raw) => received.push(raw.toString('utf8')), framingError: async () => undefined },
      });
      const peers = [await rawTcp(capped.local.port), await rawTcp(capped.local.port)];
      try {
        const third = await rawTcp(capped.local.port);
        peers.push(third);
        let thirdClosed = false;
        void third.closed.then(() => (thirdClosed = true));
        await eventually(() => thirdClosed, WAIT_MS, 'the third connection to be closed');
        for (const [i, p] of peers.slice(0, 2).entries()) p.socket.write(rawRequest(`SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKcap${i}`, `cap${i}@test`));
        await eventually(() => received.length === 2, WAIT_MS, 'both requests');
        assert.equal(peers[0]!.socket.destroyed || peers[1]!.socket.destroyed, false);
      } finally {
        for (const p of peers) p.socket.destroy();
        await capped.close();
      }
    });

    it('a REGISTER keeps its connection past the idle timeout for the Expires it asked (RFC 5626 flow); Expires: 0 lets it go', async () => {
      const idleTimeoutMs = 300;
      const ours = await TcpTransport.listen({
        address: '127.0.0.1', port: 0, maxMessageBytes: MAX_BYTES, logger, idleTimeoutMs, messageTimeoutMs: 200,
        sink: { received: () => undefined, framingError: async () => undefined },
      });
      // A registrar that reads and never answers: nothing but our REGISTERs crosses the connection.
      const registrar = createServer();
      const accepted: Socket[] = [];
      let closedAt: number | undefined;
      registrar.on('connection', (s) => {
        accepted.push(s);
        s.resume();
        s.on('close', () => (closedAt = Date.now()));
      });
      await new Promise<void>((resolve) => registrar.listen(0, '127.0.0.1', resolve));
      const remote = { address: '127.0.0.1', port: (registrar.address() as { port: number }).port };
      const register = (expires: number): SipRequest => {
        const req = options(`sip:127.0.0.1:${remote.port};transport=tcp`);
        req.method = 'REGISTER';
        req.headers.set('CSeq', '1 REGISTER');
        req.headers.append('Expires', String(expires));
        return req;
      };
      try {
        await ours.send(register(2), remote);
        await eventually(() => accepted.length === 1, 5000, 'the registrar to accept');
        // Well past the idle timeout, and past the message timeout (ours opened it: no first message is due): a
        // window in which nothing may happen, so a sleep is the test.
        await sleep(idleTimeoutMs * 4);
        assert.equal(closedAt, undefined, 'the registration flow is open');
        const unregistered = Date.now();
        await ours.send(register(0), remote);
        await eventually(() => closedAt !== undefined, idleTimeoutMs * 10, 'the connection to close once idle');
        assert.ok(closedAt! - unregistered >= idleTimeoutMs * 0.9, `closed ${closedAt! - unregistered} ms after the unREGISTER`);
      } finally {
        for (const s of accepted) s.destroy();
        await ours.close();
        await new Promise<void>((resolve) => registrar.close(() => resolve()));
      }
    });

    it('a framing error closes that connection only; a parse error with a Via is answered 400 on the connection', async () => {
      const good = await rawTcp(tcpOf(b).local.port);
      const broken = await rawTcp(tcpOf(b).local.port);
      try {
        // A message without Content-Length cannot be framed on a stream (RFC 3261 §18.3).
        broken.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKnolen', 'nolen@test').replace('Content-Length: 0\r\n', ''));
        await broken.closed;

        // The other connection: a bad CSeq gets its 400, the connection stays, the next request is served.
        const bad = rawRequest('SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbad2', 'bad-tcp@test').replace('CSeq: 1 OPTIONS', 'CSeq: 1');
        good.socket.write(bad);
        await eventually(() => /^SIP\/2\.0 400 /m.test(good.text()), WAIT_MS, 'a 400 on the good connection');
        good.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKfine', 'fine@test'));
        await inboxB.next(callIdIs('fine@test'));
        await eventually(() => /SIP\/2\.0 200 OK/.test(good.text()), WAIT_MS, 'the 200 on the good connection');
        assert.equal(inboxB.all.some((r) => r.message.headers.get('Call-ID') === 'nolen@test'), false);
      } finally {
        good.socket.destroy();
        broken.socket.destroy();
      }
    });

    it('an oversize stream message closes its connection (sipMaxMessageBytes)', async () => {
      const peer = await rawTcp(tcpOf(b).local.port);
      try {
        peer.socket.write(rawRequest('SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKhuge', 'huge@test').replace('Content-Length: 0', `Content-Length: ${MAX_BYTES * 2}`));
        await peer.closed;
      } finally {
        peer.socket.destroy();
      }
    });

    it('sending to a closed TCP port rejects with SIP_TRANSPORT', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const req = options(`sip:x@127.0.0.1:${port};transport=tcp`);
      a.addVia(req, tcpOf(a));
      await assert.rejects(tcpOf(a).send(req, { address: '127.0.0.1', port }), (e: unknown) => e instanceof SipError && e.code === 'SIP_TRANSPORT' && /ECONNREFUSED/.test(e.message));
    });

    it('a response whose connection has gone is sent to received + sent-by port instead (RFC 3261 §18.2.2)', async () => {
      // A peer that asked over a connection now closed, listening on another port (its Via sent-by).
      const listener = createServer();
      const got: string[] = [];
      const accepted: Socket[] = [];
      listener.on('connection', (s) => {
        accepted.push(s);
        s.on('data', (d: Buffer) => got.push(d.toString('utf8')));
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      const listenPort = (listener.address() as { port: number }).port;
      const peer = await rawTcp(tcpOf(b).local.port);
      try {
        peer.socket.write(rawRequest(`SIP/2.0/TCP 127.0.0.1:${listenPort};branch=z9hG4bKgone`, 'gone@test'));
        const received = await inboxB.next(callIdIs('gone@test'));
        await eventually(() => /200 OK/.test(peer.text()), WAIT_MS, 'the automatic 200 on the original connection');
        const open = tcpOf(b).connectionCount;
        peer.socket.destroy();
        await eventually(() => tcpOf(b).connectionCount === open - 1, WAIT_MS, 'B saw the close');
        const late = createResponse(received.message as SipRequest, 486);
        await received.transport.send(late, b.responseDestination(received));
        await eventually(() => got.join('').includes('SIP/2.0 486 Busy Here'), WAIT_MS, 'the 486 at the sent-by port');
      } finally {
        peer.socket.destroy();
        for (const s of accepted) s.destroy();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
      }
    });
  });

  it('IPv6 loopback: Via host in brackets, received without (RFC 3261 §25.1, RFC 5118)', async () => {
    const c = await layer({ protocol: 'UDP', address: '::1', port: 0 });
    const d = await layer({ protocol: 'UDP', address: '::1', port: 0 });
    try {
      const inbox = new Inbox(d);
      const cUdp = c.transportFor('UDP', '::1');
      const req = options(`sip:d@[::1]:${d.transports[0]!.local.port}`, 'v6@test');
      const via = c.addVia(req, cUdp);
      assert.equal(via.host, '[::1]');
      await cUdp.send(req, d.transports[0]!.local);
      const atD = await inbox.next(callIdIs('v6@test'));
      assert.equal(topVia(atD.message).params.get('received'), '::1');
      assert.deepEqual(d.responseDestination(atD), { address: '::1', port: cUdp.local.port });
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('transportFor refuses a protocol that is not configured', async () => {
    const c = await layer({ protocol: 'UDP', address: '127.0.0.1', port: 0 });
    try {
      assert.throws(() => c.transportFor('TCP', '127.0.0.1'), (e: unknown) => e instanceof SipError && e.code === 'SIP_TRANSPORT' && /no TCP transport/.test(e.message));
    } finally {
      await c.close();
    }
  });

  it('binding a taken port fails with SIP_TRANSPORT and leaves nothing open', async () => {
    await assert.rejects(
      layer({ protocol: 'UDP', address: '127.0.0.1', port: 0 }, { protocol: 'TCP', address: '127.0.0.1', port: tcpOf(a).local.port }),
      (e: unknown) => e instanceof SipError && e.code === 'SIP_TRANSPORT' && /EADDRINUSE/.test(e.message),
    );
  });

  describe('with sipp as the peer', () => {
    for (const [transport, protocol] of [['u1', 'UDP'], ['t1', 'TCP']] as const) {
      it(`${protocol}: sipp's MESSAGE reaches us and our 200 reaches sipp; our MESSAGE reaches sipp and its 200 reaches us`, async () => {
        const c = await layer({ protocol, address: '127.0.0.1', port: 0 });
        try {
          const ours = c.transports[0]!;
          c.onMessage((r) => {
            if (r.message.kind === 'request' && r.message.method === 'MESSAGE') {
              void r.transport.send(createResponse(r.message, 200), c.responseDestination(r)).catch(() => undefined);
            }
          });
          const uac = await runSipp({
            scenarioFile: scenarioFile('uac-message'),
            mode: 'uac',
            transport,
            remote: { host: '127.0.0.1', port: ours.local.port },
            service: 'callhook',
            keys: { caller: 'sipp', domain: '127.0.0.1' },
            timeoutMs: 10_000,
          });
          const uacResult = await uac.done;
          assert.equal(uacResult.code, 0, `sipp uac failed:\n${uacResult.errors}\n${uacResult.stdout.slice(-2000)}`);

          const uas = await runSipp({ scenarioFile: scenarioFile('uas-message'), mode: 'uas', transport, timeoutMs: 10_000 });
          const inbox = new Inbox(c);
          const req = options(`sip:sipp@127.0.0.1:${uas.port}`, `to-sipp-${protocol}@test`, 'hi');
          req.method = 'MESSAGE';
          req.headers.set('CSeq', '1 MESSAGE');
          req.headers.append('Content-Type', 'text/plain');
          c.addVia(req, ours);
          await ours.send(req, { address: '127.0.0.1', port: uas.port });
          const res = await inbox.next(callIdIs(`to-sipp-${protocol}@test`), 5000);
          assert.equal((res.message as SipResponse).status, 200);
          const uasResult = await uas.done;
          assert.equal(uasResult.code, 0, `sipp uas failed:\n${uasResult.errors}`);
        } finally {
          await c.close();
        }
      });
    }
  });
});
