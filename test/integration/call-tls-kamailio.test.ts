/**
 * callhook sessions over SIP TLS (issue 13): two client sessions (the werift test client as their browsers) register
 * on Kamailio's TLS port with `sipTransport: "tls"`, call each other with media both ways and exchange a MESSAGE.
 * The callee's INVITE and MESSAGE come over the connection the registrations opened (RFC 5923 alias): callhook's
 * TLS listener never gets a connection. A server certificate that fails verification reaches the client as the
 * registration failure's info.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { TlsTransport } from '../../src/sip/transport/index.ts';
import { makeTestCertificates, type TestCertificates } from '../support/certs.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];
const STEP_MS = 10_000;

describe('callhook sessions over SIP TLS through Kamailio', { timeout: 120_000 }, () => {
  let certs: TestCertificates;
  let kamailio: KamailioInstance;
  let ts: TestServer;
  const clients: WebRtcClient[] = [];

  const sipFields = (user: string, k: KamailioInstance = kamailio) => ({
    sipLogin: user, sipPassword: `${user}-pw`, sipDomain: k.domain, sipOutboundProxy: k.host, sipPort: k.tlsPort,
    sipTransport: 'tls', sipRegisterRequired: true,
  });
  const tls = (): TlsTransport => ts.server.sip.transports.transports.find((t) => t instanceof TlsTransport)!;

  async function connect(user: string): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(ts.wsUrl, sipFields(user));
    clients.push(client);
    return client;
  }

  before(async () => {
    certs = await makeTestCertificates();
    kamailio = await startKamailio({ users: USERS, tls: certs.server });
    ts = await startTestServer({
      sipTlsPort: 0, sipTlsCert: certs.server.cert, sipTlsKey: certs.server.key, sipTlsCaFile: certs.ca,
      rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999,
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await eventually(() => ts.server.gateway.sessionCount === 0 && ts.server.gateway.calls().length === 0, STEP_MS, 'sessions and calls to end');
  });

  after(async () => {
    for (const c of clients) await c.close();
    await ts?.stop();
    await kamailio?.stop();
    await certs?.remove();
  });

  it('alice calls bob: both registered over TLS, bob gets the INVITE over the registrations\' connection; media both ways', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const bindings = await kamailio.waitForLocations((b) => b.length === 2, 5000);
    for (const b of bindings) {
      assert.match(b.contact, new RegExp(`;transport=tls`));
      assert.match(b.socket, /^tls:/);
    }
    const connections = tls().connectionCount;
    const outgoing = await alice.call('bob');
    const incoming = await bob.nextIncoming(STEP_MS);
    // Kamailio opened no connection to callhook's listener: the INVITE came over one callhook had opened.
    assert.equal(tls().connectionCount, connections);
    assert.equal((incoming.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>)['caller'], 'alice');
    await incoming.answer();
    await outgoing.waitStatus('ESTABLISHED', STEP_MS);
    await incoming.waitStatus('ESTABLISHED', STEP_MS);
    // Audio sent before both browsers' own connections are up is lost on the way, not by the relay.
    await Promise.all([outgoing.connected(), incoming.connected()]);
    await Promise.all([outgoing.sendAudio(100), incoming.sendAudio(100)]);
    await eventually(() => incoming.receivedAudio() >= 80 && outgoing.receivedAudio() >= 80, STEP_MS,
      () => `audio both ways (alice got ${outgoing.receivedAudio()}, bob ${incoming.receivedAudio()})`);
    outgoing.hangup();
    assert.equal((await incoming.waitEnd(STEP_MS))['status'], 'FINISH');
    assert.equal((await outgoing.waitEnd(STEP_MS))['status'], 'FINISH');
  });

  it('a MESSAGE from alice to bob over TLS: accepted, and received by bob', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const connections = tls().connectionCount;
    alice.send('sendMessage', { id: 'tls-1', to: 'bob', body: 'over TLS', contentType: 'text/plain' });
    await eventually(() => alice.ws.frames.some((f) => f.message === 'notifyMessage' && (f.data[0] as Record<string, unknown>)['status'] === 'ACCEPTED'), STEP_MS, 'ACCEPTED at alice');
    await eventually(() => bob.ws.frames.find((f) => f.message === 'notifyMessage'), STEP_MS, 'the MESSAGE at bob');
    const received = bob.ws.frames.find((f) => f.message === 'notifyMessage')!.data[0] as Record<string, unknown>;
    assert.equal(received['body'], 'over TLS');
    assert.equal(received['status'], 'RECEIVED');
    assert.match(String(received['sipMessageRaw']), /^MESSAGE sip:[0-9a-f]{16}@127\.0\.0\.1:\d+;transport=tls SIP\/2\.0\r\nVia: SIP\/2\.0\/TLS/);
    assert.equal(tls().connectionCount, connections, 'the MESSAGE came over a connection callhook had opened');
  });

  it('a server certificate that has expired: the registration fails with that reason at the client', async () => {
    const expired = await startKamailio({ users: USERS, tls: certs.expired });
    try {
      const c = await TestClient.open(ts.wsUrl);
      try {
        c.send('connection', { appKey: 'defaultApp', mediaProviders: ['WebRTC'], clientVersion: '2.0', ...sipFields('alice', expired) });
        await c.expect('getUserData');
        const fail = await c.expect('fail', STEP_MS);
        assert.equal(fail['apiMethod'], 'RegistrationStatusEvent');
        assert.match(String(fail['info']), /^TLS connect to 127\.0\.0\.1:\d+ failed: certificate has expired$/);
      } finally {
        await c.close();
      }
    } finally {
      await expired.stop();
    }
  });
});
