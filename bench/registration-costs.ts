/**
 * Costs every registration pays, measured alone (issue 18): drawing its random tokens (two branches, a tag, a
 * Call-ID, a cnonce, a Contact user and an auth token: seven), redacting the hook bodies it logs (the connect
 * request, with `sipPassword`, and two events: three), and checking the nesting of each JSON text that crosses a
 * port before parsing it (client frames, each hook's body at EchoApp and its answer: about eight). Prints µs of this process's CPU per token or body, each way
 * three times; run it on two commits to compare them.
 *
 *   node --import tsx bench/registration-costs.ts [iterations=100000]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { jsonDepthExceeds } from '../src/json/limited-parse.ts';
import { redactJsonText } from '../src/log.ts';
import { randomHex } from '../src/random-hex.ts';

const iterations = Number(process.argv[2] ?? 100_000);
/** A connect hook's body as a registering SDK 2.0 client makes it. */
const connectBody = JSON.stringify({
  nodeId: 'H4gfHeULtX6ddGGUWwZxhUNyqZHUFH8j@127.0.0.1', appKey: 'defaultApp', sessionId: '/127.0.0.1:50000/127.0.0.1:8080',
  sipLogin: 'user1', sipPassword: 'pw-1', sipDomain: '127.0.0.1', sipOutboundProxy: '127.0.0.1', sipPort: '5060',
  sipRegisterRequired: true, clientVersion: '2.0', mediaProviders: ['WebRTC'], restClientConfig: {},
});

function measure(name: string, work: () => unknown): void {
  for (let round = 1; round <= 3; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) work();
    const used = process.cpuUsage(start);
    console.log(`${name} (round ${round}): ${((used.user + used.system) / iterations).toFixed(2)} µs of CPU each (load average ${loadavg()[0]!.toFixed(2)})`);
  }
}

measure('crypto.randomBytes(16) as hex', () => randomBytes(16).toString('hex'));
measure('randomHex(16)', () => randomHex(16));
measure('redactJsonText(connect body)', () => redactJsonText(connectBody));
measure('jsonDepthExceeds(connect body, 32)', () => jsonDepthExceeds(connectBody, 32));
