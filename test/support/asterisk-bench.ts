/**
 * What each Asterisk test file stands on: one Asterisk (test/support/asterisk.ts), callhook as its own process
 * with an app whose hooks go to a recording backend, and the werift clients (sessions registered on Asterisk) the
 * tests connect. `settle()` after each test leaves no client, channel or registration for the next one.
 *
 * With `tls`, Asterisk listens on a PJSIP TLS transport as well as UDP and TCP, and callhook trusts its certificate
 * (test/support/certs.ts): one Asterisk then serves a file's scenarios over all three transports, each client
 * choosing its own with `sipTransport` (ASTERISK_TRANSPORTS).
 */
import { startAsterisk, type AsteriskEndpoint, type AsteriskInstance } from './asterisk.ts';
import { TestBackend } from './backend.ts';
import { startCallhookProcess, type CallhookProcess } from './callhook-process.ts';
import { makeTestCertificates, type TestCertificates } from './certs.ts';
import { eventually } from './eventually.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { WebRtcClient } from './webrtc-client.ts';

export const BENCH_APP = 'asteriskApp';
const SETTLE_MS = 10_000;

/** The SIP transports a file's scenarios run over, one describe each, against one Asterisk (`tls: true`). */
export const ASTERISK_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type AsteriskTransport = (typeof ASTERISK_TRANSPORTS)[number];

export interface AsteriskBench {
  readonly asterisk: AsteriskInstance;
  readonly callhook: CallhookProcess;
  readonly backend: TestBackend;
  /** The certificates both ends serve (with `tls`): `server` at both, trusted through `ca`. */
  readonly certs: TestCertificates | undefined;
  /** Asterisk's TLS transport port (with `tls`); UDP and TCP are on `asterisk.port`. */
  readonly tlsPort: number | undefined;
  /** The listener port of callhook's own TLS transport (with `tls`). */
  readonly callhookTlsPort: number | undefined;
  /** A session of `username` (one of the endpoints) registered on Asterisk; `extra` adds connection fields; with `sipTransport: 'tls'` the session goes to Asterisk's TLS port. */
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
  /** More Asterisk modules to load (AsteriskOptions.modules), e.g. 'res_srtp.so'. */
  modules?: readonly string[];
  /** A PJSIP TLS transport at Asterisk and a TLS listener at callhook, both with certificates made for the run. */
  tls?: boolean;
}): Promise<AsteriskBench> {
  let certs: TestCertificates | undefined;
  let tlsPort: number | undefined;
  let callhookTlsPort: number | undefined;
  let pjsipExtra = opts.pjsipExtra;
  let settings = opts.settings;
  if (opts.tls === true) {
    certs = await makeTestCertificates();
    tlsPort = await freePort('tcp');
    callhookTlsPort = await freePort('tcp');
    pjsipExtra = [
      '[transport-tls]', 'type = transport', 'protocol = tls', `bind = ${LOOPBACK}:${tlsPort}`,
      `cert_file = ${certs.server.cert}`, `priv_key_file = ${certs.server.key}`, 'method = tlsv1_2', 'verify_client = no', '',
      pjsipExtra ?? '',
    ].join('\n');
    settings = { sipTlsPort: callhookTlsPort, sipTlsCert: certs.server.cert, sipTlsKey: certs.server.key, sipTlsCaFile: certs.ca, ...settings };
  }
  const asterisk = await startAsterisk({
    endpoints: opts.endpoints, ...(pjsipExtra !== undefined && { pjsipExtra }), ...(opts.modules !== undefined && { modules: opts.modules }),
  });
  const backend = await TestBackend.start();
  const callhook = await startCallhookProcess(settings);
  await callhook.addApp(BENCH_APP, backend.url());
  const clients: WebRtcClient[] = [];
  return {
    asterisk,
    callhook,
    backend,
    certs,
    tlsPort,
    callhookTlsPort,
    async connect(username, extra = {}) {
      const endpoint = opts.endpoints.find((e) => e.username === username);
      if (endpoint === undefined) throw new Error(`no Asterisk endpoint ${username}`);
      const client = await WebRtcClient.connect(callhook.wsUrl, {
        appKey: BENCH_APP, sipLogin: username, sipPassword: endpoint.password, sipDomain: asterisk.host,
        sipOutboundProxy: asterisk.host, sipPort: extra['sipTransport'] === 'tls' ? tlsPort : asterisk.port, sipRegisterRequired: true, ...extra,
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
      await certs?.remove();
    },
  };
}
