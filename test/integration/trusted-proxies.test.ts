/**
 * Per-IP limits behind a reverse proxy (docs/deploy.md): `callhook start` trusting 127.0.0.1 as a proxy counts the
 * sessions of its connections by the client address at the end of `X-Forwarded-For`, so two clients behind the
 * proxy are not one; the same header from a peer that is not a trusted proxy (127.0.0.2) is ignored, so a client
 * cannot escape its limit by writing the header itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { TestClient } from '../support/ws-client.ts';

describe('trustedProxies: X-Forwarded-For names the client only from a trusted proxy', { timeout: 60_000 }, () => {
  let server: CallhookProcess;
  const clients: TestClient[] = [];

  before(async () => {
    server = await startCallhookProcess({ trustedProxies: '127.0.0.1', wsSessionsPerIp: 1 });
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await server?.stop();
  });

  /** A `connection` with `forwardedFor` as the header, from `localAddress`; resolves with the first frame. */
  async function connect(forwardedFor: string, localAddress = '127.0.0.1'): Promise<{ message: string; data: unknown }> {
    const client = await TestClient.open(server.wsUrl, { headers: { 'X-Forwarded-For': forwardedFor }, localAddress });
    clients.push(client);
    client.send('connection', {});
    return client.next();
  }

  it('counts sessions by the forwarded client address, and by the peer when it is no trusted proxy', async () => {
    assert.equal((await connect('203.0.113.1')).message, 'getUserData');
    assert.equal((await connect('203.0.113.2')).message, 'getUserData', 'another client behind the same proxy');
    // What the client wrote (left) is not what the proxy appended (right): the nearest untrusted hop counts.
    const again = await connect('198.51.100.9, 203.0.113.1');
    assert.deepEqual([again.message, again.data], ['fail', [{ status: 'FAILED', info: 'too many sessions from 203.0.113.1 (the limit is 1)', apiMethod: 'ConnectionStatusEvent' }]]);

    assert.equal((await connect('203.0.113.3', '127.0.0.2')).message, 'getUserData');
    const spoofed = await connect('203.0.113.4', '127.0.0.2');
    assert.deepEqual([spoofed.message, spoofed.data], ['fail', [{ status: 'FAILED', info: 'too many sessions from 127.0.0.2 (the limit is 1)', apiMethod: 'ConnectionStatusEvent' }]]);
  });
});
