/**
 * Another "process" binding UDP ports over and over, as any bind(0) on the machine may: a worker thread, so that it
 * runs while the code under test holds the main thread. For each port it records the transitions it saw between
 * free (it could bind it, and closed it again at once) and held.
 */
import { Worker } from 'node:worker_threads';

const WATCHER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const seen = new Map(workerData.ports.map((p) => [p, []]));
let stopped = false;
parentPort.once('message', () => { stopped = true; });
const canBind = (port) => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  s.once('error', () => { s.close(); resolve(false); });
  s.bind(port, workerData.address, () => s.close(() => resolve(true)));
});
(async () => {
  let ready = false;
  while (!stopped) {
    for (const [port, history] of seen) {
      const free = await canBind(port);
      if (history.at(-1) !== free) history.push(free);
    }
    if (!ready) parentPort.postMessage('ready');
    ready = true;
    // A failed bind is reported without a turn of the event loop: without this, the stop message would never be read.
    await new Promise((r) => setImmediate(r));
  }
  parentPort.postMessage([...seen]);
})();
`;

export interface PortWatch {
  /** Stops watching; each port's transitions, `true` for free and `false` for held. */
  stop(): Promise<Map<number, boolean[]>>;
}

/** Resolves once each port has been tried once. */
export async function watchPorts(address: string, ports: readonly number[]): Promise<PortWatch> {
  const worker = new Worker(WATCHER, { eval: true, workerData: { address, ports } });
  const messages = (async function* () {
    for (;;) yield await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  })();
  await messages.next(); // 'ready'
  const result = messages.next().then(({ value }) => new Map(value as [number, boolean[]][]));
  return {
    async stop() {
      worker.postMessage('stop');
      const seen = await result;
      await worker.terminate();
      return seen;
    },
  };
}
