/**
 * What each Asterisk test file stands on: one Asterisk (test/support/asterisk.ts), callhook as its own process
 * with an app whose hooks go to a recording backend, and the werift clients (sessions registered on Asterisk) the
 * tests connect. `settle()` after each test leaves no client, channel or registration for the next one.
 */
import { startAsterisk, type AsteriskEndpoint, type AsteriskInstance } from './asterisk.ts';
import { TestBackend } from './backend.ts';
import { startCallhookProcess, type CallhookProcess } from './callhook-process.ts';
import { eventually } from './eventually.ts';
import { WebRtcClient } from './webrtc-client.ts';

export const BENCH_APP = 'asteriskApp';
const SETTLE_MS = 10_000;

export interface AsteriskBench {
  readonly asterisk: AsteriskInstance;
  readonly callhook: CallhookProcess;
  readonly backend: TestBackend;
  /** A session of `username` (one of the endpoints) registered on Asterisk; `extra` adds connection fields. */
  connect(username: string, extra?: Record<string, unknown>): Promise<WebRtcClient>;
  /** After a test: clients closed, no channel and no registration left at Asterisk, the backend's record emptied. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAsteriskBench(opts: {
  endpoints: readonly AsteriskEndpoint[];
  /** callhook settings over callhook-process.ts's loopback defaults. */
  settings?: Record<string, unknown>;
  /** Appended to Asterisk's pjsip.conf (AsteriskOptions.pjsipExtra), e.g. a TLS transport. */
  pjsipExtra?: string;
}): Promise<AsteriskBench> {
  const asterisk = await startAsterisk({ endpoints: opts.endpoints, ...(opts.pjsipExtra !== undefined && { pjsipExtra: opts.pjsipExtra }) });
  const backend = await TestBackend.start();
  const callhook = await startCallhookProcess(opts.settings);
  await callhook.addApp(BENCH_APP, backend.url());
  const clients: WebRtcClient[] = [];
  return {
    asterisk,
    callhook,
    backend,
    async connect(username, extra = {}) {
      const endpoint = opts.endpoints.find((e) => e.username === username);
      if (endpoint === undefined) throw new Error(`no Asterisk endpoint ${username}`);
      const client = await WebRtcClient.connect(callhook.wsUrl, {
        appKey: BENCH_APP, sipLogin: username, sipPassword: endpoint.password, sipDomain: asterisk.host,
        sipOutboundProxy: asterisk.host, sipPort: asterisk.port, sipRegisterRequired: true, ...extra,
      });
      clients.push(client);
      return client;
    },
    async settle() {
      for (const c of clients.splice(0)) await c.close();
      await eventually(async () => (await asterisk.channels()).length === 0, SETTLE_MS, 'Asterisk to have no channel left');
      await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 0, SETTLE_MS, 'every session to be unregistered');
      backend.requests.length = 0;
      backend.responder = () => ({ kind: 'echo' });
    },
    async stop() {
      for (const c of clients.splice(0)) await c.close();
      await callhook.stop();
      await backend.stop();
      await asterisk.stop();
    },
  };
}
