/**
 * The SIP stack against sipp as the far end (test/support/sipp/): retransmissions when requests are lost
 * (RFC 3261 §17.1.2.2 Timer E), 423 Interval Too Brief (§10.2.8), a 407 proxy challenge (§22.3) and a server that
 * never answers (Timer F for MESSAGE, Timer B for INVITE: §17.1.2.2, §17.1.1.2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { SipError } from '../../src/sip/errors.ts';
import { newCallId } from '../../src/sip/message/builders.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import {
  Registerer, RegistrationState, UserAgent, createRequest, sendMessage, type SipAccount,
} from '../../src/sip/ua/index.ts';
import { freePort } from '../support/ports.ts';
import { parseMessageTrace, runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';

async function startUa(t1: number): Promise<UserAgent> {
  const port = await freePort('both');
  return UserAgent.start({
    listen: [
      { protocol: 'UDP', address: '127.0.0.1', port },
      { protocol: 'TCP', address: '127.0.0.1', port },
    ],
    maxMessageBytes: 65535,
    userAgent: 'callhook-test',
    logger: createLogger('silent'),
    timers: { t1, t2: 8 * t1 },
  });
}

function account(sipp: SippProcess, credentials?: { username: string; password: string }): SipAccount {
  return {
    aor: parseUri('sip:alice@callhook.test') as SipUri,
    ...(credentials && { credentials }),
    nextHop: { host: '127.0.0.1', port: sipp.port, transport: 'UDP' },
  };
}

describe('SIP against sipp', () => {
  let ua: UserAgent;
  let fastUa: UserAgent;
  before(async () => {
    ua = await startUa(500);
    fastUa = await startUa(50);
  });
  after(async () => {
    await ua?.close();
    await fastUa?.close();
  });

  it('retransmits a lost REGISTER after T1 then 2*T1 over UDP (RFC 3261 §17.1.2.2 Timer E)', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-drop-first'), mode: 'uas', transport: 'u1', extraArgs: ['-nr'], timeoutMs: 20_000 });
    const r = new Registerer(ua, { account: account(sipp), expires: 300 });
    const result = await r.register();
    assert.equal(result.state, RegistrationState.Registered, result.info);
    assert.equal(result.expires, 3600, 'expiry taken from the Contact parameter of the 200');
    const trace = parseMessageTrace((await sipp.done).messages).filter((m) => m.direction === 'received');
    assert.equal(trace.length, 3, 'three transmissions reached sipp');
    const gaps = [trace[1]!.at - trace[0]!.at, trace[2]!.at - trace[1]!.at];
    // Timer E fires at T1 = 500 ms, then 2*T1 = 1000 ms; the event loop adds a few ms at most.
    assert.ok(Math.abs(gaps[0]! - 500) < 100, `first retransmission after ${gaps[0]} ms`);
    assert.ok(Math.abs(gaps[1]! - 1000) < 100, `second retransmission after ${gaps[1]} ms`);
    r.dispose();
  });

  it('retries a REGISTER answered 423 with the Min-Expires value (RFC 3261 §10.2.8)', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-423'), mode: 'uas', transport: 'u1', timeoutMs: 20_000 });
    const r = new Registerer(ua, { account: account(sipp), expires: 60 });
    const result = await r.register();
    assert.equal(result.state, RegistrationState.Registered, result.info);
    assert.equal(result.expires, 1800);
    const done = await sipp.done;
    assert.equal(done.code, 0, `sipp checks of the retry: ${done.stderr}${done.errors}`);
    r.dispose();
  });

  it('answers a 407 proxy challenge to a MESSAGE with Proxy-Authorization and CSeq+1 (RFC 3261 §22.3)', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-407'), mode: 'uas', transport: 'u1', timeoutMs: 20_000 });
    const response = await sendMessage(ua, account(sipp, { username: 'alice', password: 'secret' }), {
      to: parseUri(`sip:bob@127.0.0.1:${sipp.port}`), contentType: 'text/plain', body: Buffer.from('hi'),
    });
    assert.equal(response.status, 200);
    const done = await sipp.done;
    assert.equal(done.code, 0, `sipp checks of the retry: ${done.stderr}${done.errors}`);
  });

  it('ends a MESSAGE nobody answers with Timer F = 64*T1 (RFC 3261 §17.1.2.2)', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-silent'), mode: 'uas', transport: 'u1', timeoutMs: 20_000 });
    try {
      const started = Date.now();
      await assert.rejects(
        sendMessage(fastUa, account(sipp), { to: parseUri(`sip:bob@127.0.0.1:${sipp.port}`), contentType: 'text/plain', body: Buffer.from('x') }),
        { name: 'SipError', code: 'SIP_TIMEOUT' },
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 64 * 50 - 20 && elapsed < 64 * 50 + 500, `Timer F fired after ${elapsed} ms`);
      // E doubles from T1 = 50 ms up to T2 = 400 ms: 50,100,200,400,400,... → 11 transmissions within 3.2 s.
      const received = parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'received');
      assert.ok(received.length >= 10 && received.length <= 12, `${received.length} transmissions`);
    } finally {
      await sipp.kill();
    }
  });

  it('ends an INVITE nobody answers with Timer B = 64*T1 (RFC 3261 §17.1.1.2)', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-silent'), mode: 'uas', transport: 'u1', timeoutMs: 20_000 });
    try {
      const destination = await fastUa.destination({ host: '127.0.0.1', port: sipp.port, transport: 'UDP' });
      const invite = createRequest({
        method: 'INVITE',
        requestUri: parseUri(`sip:bob@127.0.0.1:${sipp.port}`),
        from: { uri: parseUri('sip:alice@callhook.test') },
        to: { uri: parseUri('sip:bob@callhook.test') },
        callId: newCallId('callhook.test'),
        cseq: 1,
        contact: fastUa.bindContact(() => undefined).contactUri(destination.transport),
      });
      const started = Date.now();
      await assert.rejects(fastUa.send(invite, destination), { name: 'SipError', code: 'SIP_TIMEOUT' });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 64 * 50 - 20 && elapsed < 64 * 50 + 500, `Timer B fired after ${elapsed} ms`);
      // A doubles without a cap: 0, 50, 150, 350, 750, 1550, 3150 ms → 7 transmissions before B at 3200 ms.
      const received = parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'received');
      assert.equal(received.length, 7);
    } finally {
      await sipp.kill();
    }
  });
});
