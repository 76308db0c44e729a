/**
 * The SQLite store's group commit (src/store/group-commit.ts): CPU per emitted event (its outbox row and its will,
 * as `emit` writes them) when each event is committed alone (a `write` per turn of the event loop, as a lone
 * session's event is) against `perTurn` events handed over in one turn (many sessions' events joined into one
 * transaction). Prints µs of this process's CPU per event, and how much of it the kernel's.
 *
 *   node --import tsx bench/store-commits.ts [events=5000] [perTurn=50]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreWrite } from '../src/hooks/storage.ts';
import { openStore } from '../src/store/index.ts';

const events = Number(process.argv[2] ?? 5000);
const perTurn = Number(process.argv[3] ?? 50);
const body = { nodeId: 'n@127.0.0.1', appKey: 'defaultApp', sessionId: 's', sipLogin: 'user1', sipDomain: 'example.com', status: 'ESTABLISHED', info: 'Connected' };

/** What `emit` hands the store for a session's ESTABLISHED: the event and the will it carries. */
function emitted(i: number, round: string): StoreWrite[] {
  const sessionId = `${round}-${i}`;
  return [
    { kind: 'appendEvent', event: { eventId: `e-${sessionId}`, appKey: 'defaultApp', sessionId, method: 'ConnectionStatusEvent', body, failNotify: false, createdAt: Date.now() } },
    { kind: 'putWill', will: { sessionId, subject: 'connection', appKey: 'defaultApp', method: 'ConnectionStatusEvent', body, failNotify: false } },
  ];
}

const dataDir = await mkdtemp(join(tmpdir(), 'callhook-bench-commits-'));
const store = openStore({ dataDir, adminPort: 8081 });
try {
  for (const [name, size] of [['one event per commit', 1], [`${perTurn} events per turn`, perTurn]] as const) {
    for (let round = 1; round <= 2; round++) {
      const start = process.cpuUsage();
      for (let i = 0; i < events; i += size) {
        const turn: Array<Promise<unknown>> = [];
        for (let j = i; j < Math.min(i + size, events); j++) turn.push(store.write(emitted(j, `${name}-${round}`)));
        await Promise.all(turn);
      }
      const used = process.cpuUsage(start);
      console.log(
        `${name} (round ${round}): ${((used.user + used.system) / events).toFixed(1)} µs of CPU per event, ` +
          `${(used.system / events).toFixed(1)} µs of it in the kernel (load average ${loadavg()[0]!.toFixed(2)})`,
      );
    }
  }
} finally {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
