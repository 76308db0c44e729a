/**
 * examples/ivr against a real callhook and a sipp callee: the example starts the call through the REST API, plays
 * its main menu when the callee answers, and on the callee's `0` (SIP INFO, so OnDtmfEvent) says goodbye and hangs
 * up with call/terminate. sipp must see our BYE; the call's record shows the prompts went out and how it ended.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { restApiClient } from '../../examples/rest-api-client.ts';
import { startIvr } from '../../examples/ivr/ivr.ts';
import { freePort } from '../support/ports.ts';
import { restApi } from '../support/rest-api.ts';
import { assertSippOk, runSipp, scenarioFile } from '../support/sipp.ts';
import { pcmWav, testSignal } from '../support/wav.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

describe('examples/ivr: a two-level menu on the REST API and OnDtmfEvent', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let ivr: http.Server;
  let dir: string;
  let port: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-ivr-'));
    await mkdir(join(dir, 'prompts'));
    for (const name of ['main', 'hours', 'goodbye']) await writeFile(join(dir, 'prompts', `${name}.wav`), pcmWav(testSignal(1, 8000), 8000));
    ts = await startTestServer();
    port = await freePort('tcp');
    ts.server.store.apps.add({ name: 'ivr', appKey: 'ivr', url: `http://127.0.0.1:${port}/rest` });
    ts.server.store.apps.enableMethod('ivr', '*');
  });

  after(async () => {
    await new Promise((resolve) => ivr?.close(resolve));
    await ts?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('plays the main menu, and 0 says goodbye and hangs up', async () => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer-send-info'), mode: 'uas', transport: 'u1', keys: { digit: '0' }, timeoutMs: 30_000 });
    ivr = await startIvr({
      api: restApiClient(ts.server.adminUrl, ts.server.adminToken),
      sip: { sipLogin: 'ivr', sipDomain: '127.0.0.1', sipPort: sipp.port },
      appKey: 'ivr', prompts: join(dir, 'prompts'), operator: 'operator', port, goodbyeMs: 500,
    });
    const started = await fetch(`http://127.0.0.1:${port}/start`, { method: 'POST', body: JSON.stringify({ number: 'bob' }) });
    assert.equal(started.status, 200);
    const { callId } = (await started.json()) as { callId: string };
    assertSippOk(await sipp.done);
    const api = restApi(ts.server);
    await eventually(async () => (await api('/api/cdr')).json.some((r: { callId: string; endedAt: string | null }) => r.callId === callId && r.endedAt !== null), 5000, 'the call record');
    const record = (await api('/api/cdr')).json.find((r: { callId: string }) => r.callId === callId);
    assert.equal(record.status, 'FINISH');
    assert.equal(record.info, 'Terminated by API');
    // The main menu played from the answer until the 0 (half a second), then the goodbye.
    assert.ok(record.packetsToSip >= 25, `${record.packetsToSip} packets of prompts`);
  });
});
