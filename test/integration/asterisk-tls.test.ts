/**
 * SIP over TLS against a real Asterisk 22 (PJSIP TLS transport; test/support/asterisk.ts) with callhook as its own
 * process, both with certificates the test makes (test/support/certs.ts): a session registers over TLS, sends a
 * MESSAGE and gets Asterisk's reply, and takes a call Asterisk originates (the other scenarios over TLS are in
 * asterisk-register and asterisk-calls.test.ts) — the reply and the INVITE addressed to its Contact come over the
 * connection the REGISTER opened (Asterisk's rewrite_contact keeps that flow, RFC 5626), never a new one to
 * callhook's listener. SIGHUP makes callhook's listener serve a renewed certificate.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { startAsteriskBench, type AsteriskBench } from '../support/asterisk-bench.ts';
import { servedCertificateSerial, type TestCertificates } from '../support/certs.ts';
import { eventually } from '../support/eventually.ts';
import type { WebRtcClient } from '../support/webrtc-client.ts';

const STEP_MS = 10_000;

describe('SIP over TLS against Asterisk (PJSIP TLS transport)', { timeout: 240_000 }, () => {
  let certs: TestCertificates;
  let bench: AsteriskBench;
  let callhookTlsPort: number;

  const connectAlice = (): Promise<WebRtcClient> => bench.connect('alice', { sipTransport: 'tls' });

  /** The source port of alice's last REGISTER at Asterisk: callhook's end of the registration's connection. */
  function registrationPort(): number {
    const ports = [...bench.asterisk.logs().matchAll(/Received SIP request \(\d+ bytes\) from TLS:127\.0\.0\.1:(\d+) --->\nREGISTER /g)];
    assert.ok(ports.length > 0, 'Asterisk logged a REGISTER over TLS');
    return Number(ports.at(-1)![1]);
  }

  /** Where Asterisk sent its last request of `method`, as its SIP log shows. */
  function sentTo(method: string): string | undefined {
    const sends = [...bench.asterisk.logs().matchAll(new RegExp(`Transmitting SIP request \\(\\d+ bytes\\) to (\\w+:[\\d.]+:\\d+) --->\\n${method} `, 'g'))];
    return sends.at(-1)?.[1];
  }

  before(async () => {
    bench = await startAsteriskBench({
      endpoints: [{ username: 'alice', password: 'alice-pw', endpoint: { transport: 'transport-tls' } }],
      tls: true,
      settings: { sipTransport: 'tls' },
    });
    certs = bench.certs!;
    callhookTlsPort = bench.callhookTlsPort!;
  });

  afterEach(() => bench.settle());

  after(() => bench?.stop());
  it('registers over TLS (a transport=tls Contact); MESSAGE both ways, the reply over the registration\'s connection', async () => {
    const alice = await connectAlice();
    const [contact] = await bench.asterisk.waitFor(() => bench.asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
    assert.match(contact!.uri, /^sip:[0-9a-f]{16}@127\.0\.0\.1:\d+;transport=tls/i);
    alice.send('sendMessage', { id: 'm-1', to: 'echo', body: 'over tls', contentType: 'text/plain' });
    const accepted = await alice.ws.expect('notifyMessage', STEP_MS).then(() => alice.ws.expect('notifyMessage', STEP_MS));
    assert.equal(accepted['status'], 'ACCEPTED');
    assert.equal(await bench.asterisk.dbGet('callhook', 'message'), 'over tls');
    const received = await alice.ws.expect('notifyMessage', STEP_MS);
    assert.deepEqual([received['status'], received['body']], ['RECEIVED', 'over tls']);
    assert.match(String(received['sipMessageRaw']), /^MESSAGE sip:[0-9a-f]{16}@[^ ]+ SIP\/2\.0\r\nVia: SIP\/2\.0\/TLS /);
    assert.equal(sentTo('MESSAGE'), `TLS:127.0.0.1:${registrationPort()}`);
  });

  it('an incoming call Asterisk originates comes over the registration\'s connection: caller ID, callee alice; answered, audio both ways', async () => {
    const alice = await connectAlice();
    await bench.asterisk.waitFor(() => bench.asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
    await bench.asterisk.originate('alice', { callerIdNumber: '5551234', callerIdName: 'Bob Caller' });
    const call = await alice.nextIncoming(STEP_MS);
    const notify = call.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>;
    assert.deepEqual([notify['caller'], notify['visibleName'], notify['callee']], ['5551234', 'Bob Caller', 'alice']);
    assert.equal(sentTo('INVITE'), `TLS:127.0.0.1:${registrationPort()}`);
    assert.notEqual(registrationPort(), callhookTlsPort);
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    assert.ok((await call.exchangeAudio(50, 40)) >= 40, 'Echo() after the answer sends our audio back');
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
  });

  it('SIGHUP: the listener serves the renewed certificate to new connections (logged), the process goes on', async () => {
    const served = () => servedCertificateSerial(callhookTlsPort, certs.ca);
    const before = await served();
    await copyFile(certs.renewed.cert, certs.server.cert);
    await copyFile(certs.renewed.key, certs.server.key);
    process.kill(bench.callhook.process.pid!, 'SIGHUP');
    await eventually(() => bench.callhook.logLines(/SIP TLS certificate, key and CA file reloaded/).length === 1, STEP_MS, 'the reload to be logged');
    assert.notEqual(await served(), before);
    assert.equal(bench.callhook.status, undefined, 'still running');
  });
});
