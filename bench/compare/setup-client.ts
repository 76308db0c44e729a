/**
 * One load-client process of the kit's setup measurement (bench/compare/setup.ts), started with fork(): argv[2] is
 * the JSON of {target, indexes, concurrency}. Spread over several of these, the load client's browsers (werift's ICE
 * and DTLS in JavaScript, or libdatachannel's on its threads) are no longer one event loop that sets the pace for
 * both servers.
 *
 * IPC: 'ready' once warm (modules loaded, the browser's certificate made: werift and libdatachannel make one per
 * process, at its first peer connection); on 'warm' it places its warm-up calls (`warmIndexes`) and hangs them up, then reports 'warm'; on 'go' it places its calls `concurrency` at a time and reports each as {type:'call', index, times}
 * or {type:'failed', message}, then 'up'; on 'hangup' it hangs them all up, reports 'down' and exits.
 */
import { newBrowser, placeCall, type CallTarget, type EchoCall } from './callers.ts';
import { pool } from './load.ts';

export interface SetupClientPlan {
  target: CallTarget;
  indexes: number[];
  /** Calls set up and hung up before the measured ones, so the server's code is compiled and its caches full. */
  warmIndexes: number[];
  concurrency: number;
}

export type SetupClientReport =
  | { type: 'ready' | 'warm' | 'up' | 'down' }
  | { type: 'call'; index: number; times: EchoCall['times'] }
  | { type: 'failed'; message: string };

const HANGUP_CONCURRENCY = 50;

const plan = JSON.parse(process.argv[2]!) as SetupClientPlan;
const report = (r: SetupClientReport) => process.send!(r);

const warm = newBrowser(plan.target.browser);
await warm.createOffer();
await warm.close();

let calls: EchoCall[] = [];
process.on('message', (m: unknown) => {
  if (m === 'warm') {
    void pool(plan.warmIndexes, plan.concurrency, (index) => placeCall(plan.target, index))
      .then(({ done }) => pool(done, HANGUP_CONCURRENCY, (c) => c.hangup()))
      .then(() => report({ type: 'warm' }));
  } else if (m === 'go') {
    void pool(plan.indexes, plan.concurrency, async (index) => {
      const call = await placeCall(plan.target, index);
      report({ type: 'call', index, times: call.times });
      return call;
    }).then(({ done, failed }) => {
      calls = done;
      for (const message of failed) report({ type: 'failed', message });
      report({ type: 'up' });
    });
  } else if (m === 'hangup') {
    void pool(calls, HANGUP_CONCURRENCY, (c) => c.hangup()).then(() => {
      // Exit once the parent has it: a werift peer's timers may outlive its close.
      process.send!({ type: 'down' } satisfies SetupClientReport, undefined, {}, () => process.exit(0));
    });
  }
});
report({ type: 'ready' });
