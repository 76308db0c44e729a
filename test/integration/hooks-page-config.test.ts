/**
 * A page must not switch off the backend's call policy (issue 10, item 2), against the real server process, a
 * real HTTP backend and a SIP next hop that records what reaches it. The attack: with a backend that mirrors
 * `connect` (docs/hooks.md recommends it) and an app whose `call` hook refuses with restOnError FAIL, a page sends
 * `"restClientConfig":{"call":{"restPolicy":"DISABLE"}}` in `connection` to skip the hook and have its INVITE sent.
 * The other way round, a backend that disables `call` itself is obeyed.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { TestBackend } from '../support/backend.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { LOOPBACK } from '../support/ports.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually } from '../support/ws-client.ts';

const REFUSAL = 'Calls from this page are not allowed';

describe('restClientConfig a page sends cannot loosen the hook policy (real server process)', { timeout: 120_000 }, () => {
  let dataDir: string;
  let backend: TestBackend;
  let server: CallhookProcess;
  /** The SIP next hop of every session: records the requests that reach it and never answers. */
  let nextHop: Socket;
  const received: string[] = [];
  const clients: WebRtcClient[] = [];

  before(async () => {
    backend = await TestBackend.start({
      responder: (r) => {
        if (r.path.startsWith('/mirror/')) {
          return r.hook === 'call' ? { kind: 'json', status: 403, body: { status: 403, reason: REFUSAL } } : { kind: 'echo' };
        }
        // /disabling: the backend's own decision, whatever the page sent
        if (r.hook === 'connect') return { kind: 'json', body: { ...r.json, restClientConfig: { call: { restPolicy: 'DISABLE' } } } };
        return { kind: 'echo' };
      },
    });
    nextHop = createSocket('udp4');
    nextHop.on('message', (m) => received.push(m.toString('utf8')));
    await new Promise<void>((resolve) => nextHop.bind(0, LOOPBACK, resolve));
    dataDir = await mkdtemp(join(tmpdir(), 'callhook-page-config-'));
    const store = openStore({ dataDir, adminPort: 0 });
    for (const name of ['mirror', 'disabling']) {
      await store.apps.add({ name, appKey: name, url: backend.url(`/${name}`), restClientConfig: { call: { restOnError: 'FAIL' } } });
      await store.apps.enableMethod(name, '*');
    }
    store.close();
    server = await startCallhookProcess({ dataDir });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  after(async () => {
    await server?.kill('SIGTERM');
    nextHop?.close();
    await backend?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function connect(appKey: string, extra: Record<string, unknown> = {}): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(server.wsUrl, {
      appKey, sipLogin: 'alice', sipDomain: LOOPBACK, sipPort: nextHop.address().port, sipRegisterRequired: false, ...extra,
    });
    clients.push(client);
    return client;
  }

  it('mirroring backend, page sends call DISABLE + LOG: the call hook is still asked, its refusal stands, no INVITE', async () => {
    const client = await connect('mirror', { restClientConfig: { call: { restPolicy: 'DISABLE', restOnError: 'LOG' } } });
    const connectHook = backend.requests.find((r) => r.hook === 'connect' && r.json?.['sessionId'] === client.sessionId);
    assert.deepEqual(connectHook?.json?.['restClientConfig'], { call: { restPolicy: 'DISABLE', restOnError: 'LOG' } }, 'the backend saw the page\'s config and mirrored it');
    const call = await client.call('bob');
    const invites = (): string[] => received.filter((m) => m.startsWith('INVITE '));
    await eventually(() => call.statuses().length > 0 || invites().length > 0, 10_000, 'a status of the call or its INVITE');
    assert.deepEqual(invites(), [], 'no INVITE reached the SIP side');
    assert.ok(backend.requests.some((r) => r.hook === 'call' && r.json?.['callId'] === call.callId), 'the call hook was asked');
    const end = await call.waitEnd();
    assert.deepEqual([end['status'], end['info']], ['FAILED', REFUSAL]);
  });

  it('a backend that disables the call hook itself is obeyed: no call hook, the INVITE goes out', async () => {
    const client = await connect('disabling');
    const call = await client.call('bob');
    await eventually(() => received.some((m) => m.startsWith('INVITE sip:bob@')), 10_000, 'the INVITE at the next hop');
    assert.equal(backend.requests.some((r) => r.hook === 'call' && r.json?.['callId'] === call.callId), false, 'no call hook');
  });
});
