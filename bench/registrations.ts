/**
 * Registrations benchmark (issue 2): N users registered with digest against a local Kamailio over UDP, all at
 * once through one callhook UserAgent (one socket). Prints the time to register all, challenged REGISTER
 * transactions per second, and memory per live registration.
 *
 *   node --import tsx bench/registrations.ts [users=1000]
 */
import { cpus } from 'node:os';
import { createLogger } from '../src/log.ts';
import type { SipUri } from '../src/sip/message/types.ts';
import { parseUri } from '../src/sip/message/uri.ts';
import { Registerer, RegistrationState, UserAgent } from '../src/sip/ua/index.ts';
import { startKamailio } from '../test/support/kamailio.ts';
import { freePort } from '../test/support/ports.ts';

const count = Number(process.argv[2] ?? 1000);
const users = Array.from({ length: count }, (_, i) => ({ username: `user${i}`, password: `pw-${i}` }));
const kamailio = await startKamailio({ users });
const port = await freePort('both');
const ua = await UserAgent.start({
  listen: [{ protocol: 'UDP', address: '127.0.0.1', port }],
  maxMessageBytes: 65535,
  userAgent: 'callhook-bench',
  logger: createLogger('silent'),
});

try {
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const registerers = users.map(
    (u) =>
      new Registerer(ua, {
        account: {
          aor: parseUri(`sip:${u.username}@${kamailio.domain}`) as SipUri,
          credentials: u,
          nextHop: { host: kamailio.host, port: kamailio.port, transport: 'UDP' },
        },
        expires: 3600,
      }),
  );
  const started = process.hrtime.bigint();
  const results = await Promise.all(registerers.map((r) => r.register()));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const failed = results.filter((r) => r.state !== RegistrationState.Registered);
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const bindings = await kamailio.contactCount();

  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, node ${process.version}`);
  console.log(`users: ${count}, registered: ${count - failed.length}, failed: ${failed.length}${failed[0] ? ` (first: ${failed[0].info})` : ''}`);
  console.log(`Kamailio contacts: ${bindings}`);
  console.log(`time to register all: ${seconds.toFixed(2)} s`);
  console.log(`challenged REGISTER transactions/s: ${Math.round(count / seconds)} (each: REGISTER → 401 → REGISTER → 200)`);
  console.log(`memory per live registration: ${((heapAfter - heapBefore) / count / 1024).toFixed(1)} KiB of JS heap${global.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`);
  for (const r of registerers) r.dispose();
} finally {
  await ua.close();
  await kamailio.stop();
}
