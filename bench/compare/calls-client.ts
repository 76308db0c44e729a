/**
 * One load-client process of the kit's calls measurement (bench/compare/calls.ts), started with fork(): argv[2] is
 * the JSON of the CallTarget. Its callers' audio (50 pps each way per call; with werift's browsers, SRTP in
 * JavaScript) is one event loop's work; spread over several of these processes, 250 callers do not make the load client the limit.
 *
 * IPC: 'ready' once warm; {type:'place', indexes, concurrency} places those calls and starts their audio, then
 * reports {type:'placed', done, failed}; 'open' opens a measuring window, 'close' ends it and reports
 * {type:'window', sent, echoed} once its echoes had DRAIN_MS to come back; 'hangup' hangs every call up, reports
 * 'down' and exits.
 */
import { newBrowser, placeCall, type CallTarget } from './callers.ts';
import { EchoMeter } from './echo-meter.ts';
import { pool } from './load.ts';

export type CallsClientCommand = { type: 'place'; indexes: number[]; concurrency: number } | 'open' | 'close' | 'hangup';

export type CallsClientReport =
  | { type: 'ready' | 'down' }
  | { type: 'placed'; done: number; failed: string[] }
  | { type: 'window'; sent: number; echoed: number };

/** Echoes of a window's last packets are waited for this long; any later one counts as lost. */
export const DRAIN_MS = 1_000;

const target = JSON.parse(process.argv[2]!) as CallTarget;
const report = (r: CallsClientReport) => process.send!(r);

const warm = newBrowser(target.browser);
await warm.createOffer();
await warm.close();

const meter = new EchoMeter();
process.on('message', (m: CallsClientCommand) => {
  if (m === 'open') meter.openWindow();
  else if (m === 'close') {
    void meter.closeWindow(DRAIN_MS).then((w) => report({ type: 'window', sent: w.sent, echoed: w.echoed }));
  } else if (m === 'hangup') {
    void meter.hangUpAll().then(() => {
      // Exit once the parent has it: a werift peer's timers may outlive its close.
      process.send!({ type: 'down' } satisfies CallsClientReport, undefined, {}, () => process.exit(0));
    });
  } else if (m.type === 'place') {
    void pool(m.indexes, m.concurrency, (i) => placeCall(target, i)).then(({ done, failed }) => {
      for (const c of done) meter.add(c);
      meter.start();
      report({ type: 'placed', done: done.length, failed });
    });
  }
});
report({ type: 'ready' });
