/**
 * What the comparison kit's load clients share: running a task over items a few at a time, one clock, and the
 * load-client processes (bench/compare/setup-client.ts, calls-client.ts) with their reports.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs `task` on `items`, `concurrency` at a time; resolves with the results and the failures' messages. */
export async function pool<T, R>(items: T[], concurrency: number, task: (item: T) => Promise<R>): Promise<{ done: R[]; failed: string[] }> {
  const done: R[] = [];
  const failed: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item).then((r) => done.push(r), (e: Error) => failed.push(e.message));
    }
  }));
  return { done, failed };
}

/**
 * Now, in ms since the epoch, to the microsecond: one scale for every process of the kit and for sipp's trace, so
 * a call's steps seen by a load client line up with the INVITE and 200 sipp logged.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A load-client process: `script` (a file next to this one) through tsx, with the JSON of `arg` as argv[2]. */
export function forkLoadClient(script: string, arg: unknown): ChildProcess {
  return fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(arg)], { execArgv: ['--import', 'tsx'] });
}

/** Resolves when every child has sent a report of `type`, passing each report until then (that one too) to `each`. */
export function allReported<R extends { type: string }>(children: ChildProcess[], type: R['type'], each: (r: R) => void = () => {}): Promise<void> {
  return Promise.all(children.map((child) => new Promise<void>((resolve, reject) => {
    const on = (r: R) => {
      each(r);
      if (r.type !== type) return;
      child.off('message', on);
      resolve();
    };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`a load client exited (${code}) before '${type}'`)));
  }))).then(() => {});
}

/** Ends the load clients: each is sent `hangup`, and waited for until it reported `down` and exited. */
export async function hangUpClients(children: ChildProcess[]): Promise<void> {
  const down = allReported(children, 'down');
  const exited = children.map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of children) c.send('hangup');
  await down;
  await Promise.all(exited);
}

/** Kills what is left of the load clients (after a failure). */
export function killClients(children: ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
}
