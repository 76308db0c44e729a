/**
 * examples/click-to-call against a real callhook and sipp callees: the page's call (the werift test client stands in
 * for the browser and its SDK) goes to the fixed target whatever callee it names, without registration and without
 * SIP credentials on the page; a callback started from the backend plays the message and hangs up.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startClickToCall } from '../../examples/click-to-call/click-to-call.ts';
import { restApiClient } from '../../examples/rest-api-client.ts';
import { freePort } from '../support/ports.ts';
import { restApi } from '../support/rest-api.ts';
import { assertSippOk, parseMessageTrace, runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { pcmWav, testSignal } from '../support/wav.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

describe('examples/click-to-call: a fixed-number call from the page, a callback from the server', { timeout: 90_000 }, () => {
  let ts: TestServer;
  let dir: string;
  let sipp: SippProcess;
  let backend: http.Server;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-click-'));
    await writeFile(join(dir, 'message.wav'), pcmWav(testSignal(0.6, 8000), 8000));
    ts = await startTestServer();
    // One sipp plays both callees: the fixed target and the visitor called back.
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', calls: 2, extraArgs: ['-rtp_echo'], timeoutMs: 60_000 });
    const port = await freePort('tcp');
    ts.server.store.apps.add({ name: 'click', appKey: 'click', url: `http://127.0.0.1:${port}/rest` });
    ts.server.store.apps.enableMethod('click', '*');
    backend = await startClickToCall({
      api: restApiClient(ts.server.adminUrl, ts.server.adminToken),
      sip: { sipLogin: 'web', sipDomain: '127.0.0.1', sipPort: sipp.port },
      appKey: 'click', target: 'sales', message: join(dir, 'message.wav'), wsUrl: ts.wsUrl, port,
    });
  });

  after(async () => {
    await new Promise((resolve) => backend?.close(resolve));
    await sipp?.kill();
    await ts?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the page calls the target without credentials; a callback plays the message and hangs up', async () => {
    const port = (backend.address() as { port: number }).port;
    const invites = () => parseMessageTrace(sipp.messages()).filter((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE '));
    // The page: no SIP fields, no registration; it names some callee, the call hook puts the target in its place.
    const client = await WebRtcClient.connect(ts.wsUrl, { appKey: 'click' });
    try {
      const call = await client.call('somebody-else');
      await call.waitStatus('ESTABLISHED');
      assert.match(invites()[0]!.firstLine, /^INVITE sip:sales@127\.0\.0\.1/);
      call.hangup();
      await call.waitEnd();
    } finally {
      await client.close();
    }
    // The callback: refused for a bad number, else a server call that ends by itself once the message has played.
    const bad = await fetch(`http://127.0.0.1:${port}/callback`, { method: 'POST', body: JSON.stringify({ number: '<script>' }) });
    assert.equal(bad.status, 400);
    const r = await fetch(`http://127.0.0.1:${port}/callback`, { method: 'POST', body: JSON.stringify({ number: '030 1234-56' }) });
    assert.equal(r.status, 200);
    const { callId } = (await r.json()) as { callId: string };
    const result = await sipp.done;
    assertSippOk(result);
    const all = parseMessageTrace(result.messages).filter((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE '));
    assert.match(all[1]!.firstLine, /^INVITE sip:0301234/);
    const api = restApi(ts.server);
    await eventually(async () => (await api('/api/cdr')).json.some((c: { callId: string; endedAt: string | null }) => c.callId === callId && c.endedAt !== null), 5000, 'the callback record');
    const record = (await api('/api/cdr')).json.find((c: { callId: string }) => c.callId === callId);
    assert.equal(record.info, 'Sound played');
  });
});
