/**
 * Runs the sample backend (README.md in this folder):
 *
 *   CALLHOOK_SECRET=<the app's restSecret> node --import tsx examples/backend/server.ts \
 *     [--port 3000] [--host 127.0.0.1] [--users examples/backend/users.example.json] [--events events.jsonl]
 *
 * The secret comes from the environment only, so it does not show in `ps`.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBackend } from './backend.ts';
import { ConfigError, loadBackendData } from './config.ts';
import { EventStore } from './event-store.ts';

function fail(message: string): never {
  console.error(`backend: ${message}`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      users: { type: 'string', default: fileURLToPath(new URL('./users.example.json', import.meta.url)) },
      events: { type: 'string', default: 'events.jsonl' },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
const secret = process.env['CALLHOOK_SECRET'];
if (secret === undefined || secret === '') {
  fail('set CALLHOOK_SECRET to the app\'s restSecret (callhook update app -s SECRET NAME): every hook is verified with it');
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got ${JSON.stringify(args.port)}`);

try {
  const data = loadBackendData(args.users);
  const events = await EventStore.open(args.events);
  const backend = createBackend({ secret, data, events });
  const address = await backend.listen(port, args.host);
  console.log(`backend: hooks at http://${address.address}:${address.port}/rest, history at /history (${data.users.length} users, events in ${args.events})`);
  const stop = () => void backend.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}
