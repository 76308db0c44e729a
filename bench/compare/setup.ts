/**
 * The kit's setup measurement (issue 18): N calls set up, C at a time, by P load-client processes
 * (bench/compare/setup-client.ts, each with its share of the calls and of C), the same way for both servers. A call
 * is set up when it is answered (callhook: ESTABLISHED; Janus: `accepted`) and the browser's DTLS is up.
 *
 * Where each call's time goes, from the load clients' times and sipp's message trace (one clock: ms since the
 * epoch; the INVITE is matched to its call by the From user, caller<index>):
 *   session  WebSocket, `connection` (callhook) or `create`/`attach`/guest `register` (Janus), and the offer
 *   toInvite `call` sent → the INVITE at sipp: the server's own work before SIP (hook, SDP, peer connection)
 *   callHook the `call` REST hook's round trip (callhook's hook log; Janus has no hooks), within toInvite
 *   sipp     INVITE → 200 OK at sipp: the far end's answer time
 *   after200 200 OK sent by sipp → answered at the browser: the server's work after SIP (ACK, events)
 *   own      `call` → answered, less sipp's answer time: what the issue's p99 target (≤ 100 ms) is about
 *   dtls     answered → DTLS up (ICE checks and the handshake, both ends)
 * With the rate go the CPU of the server and of the load clients over the same span, and what limited the figure.
 */
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { parseMessageTrace, type SippProcess } from '../../test/support/sipp.ts';
import { percentile } from '../hooks-common.ts';
import type { BrowserName, CallTimes } from './callers.ts';
import { allReported, epochMs, forkLoadClient, hangUpClients, killClients } from './load.ts';
import { machineBusySeconds, procSample, threadCpu, threadShares, type ServerUnderTest } from './servers.ts';
import type { SetupClientPlan, SetupClientReport } from './setup-client.ts';

export interface SetupPlan {
  calls: number;
  /**
   * Calls set up and hung up before the measured ones (the same way, spread over the same load clients): a server
   * that has been running is measured, not one compiling its code at its first calls.
   */
  warmUp: number;
  concurrency: number;
  processes: number;
  browser: BrowserName;
}

/** A process at or above this share of one core was what limited the rate. */
const BUSY = 0.9;
/** sipp's clock and ours are the same; this only allows for the trace's microsecond rounding. */
const CLOCK_SLACK_MS = 1;

/** The INVITE and its 200 OK at sipp, per caller<index>, from the trace since `since`. */
function sippAnswers(sipp: SippProcess, since: number): Map<number, { invite: number; ok: number }> {
  const invites = new Map<string, { index: number; invite: number }>();
  const answers = new Map<number, { invite: number; ok: number }>();
  for (const m of parseMessageTrace(sipp.messages())) {
    if (m.at < since) continue;
    const callId = /^Call-ID:\s*(\S+)/im.exec(m.text)?.[1];
    if (callId === undefined) continue;
    if (m.direction === 'received' && m.firstLine.startsWith('INVITE ')) {
      const index = /^From:[^\r\n]*sip:caller(\d+)@/im.exec(m.text)?.[1];
      if (index !== undefined && !invites.has(callId)) invites.set(callId, { index: Number(index), invite: m.at });
    } else if (m.direction === 'sent' && m.firstLine.startsWith('SIP/2.0 200') && /^CSeq:\s*\d+ INVITE/im.test(m.text)) {
      const i = invites.get(callId);
      if (i !== undefined && !answers.has(i.index)) answers.set(i.index, { invite: i.invite, ok: m.at });
    }
  }
  return answers;
}

function forkClient(plan: SetupClientPlan): ChildProcess {
  return forkLoadClient('./setup-client.ts', plan);
}

const allSent = (children: ChildProcess[], type: SetupClientReport['type'], other?: (r: SetupClientReport) => void) =>
  allReported<SetupClientReport>(children, type, other);

const ms = (xs: number[], p: number) => (xs.length === 0 ? NaN : Number(percentile(xs, p).toFixed(1)));

/** Sets up `plan.calls` calls through `server`; returns the measurement's fields. */
export async function measureSetup(server: ServerUnderTest, sipp: SippProcess, plan: SetupPlan): Promise<Record<string, number | string>> {
  const processes = Math.max(1, Math.min(plan.processes, plan.concurrency, plan.calls));
  const children = Array.from({ length: processes }, (_, p) => forkClient({
    target: { server: server.name, wsUrl: server.wsUrl, sippPort: sipp.port, browser: plan.browser },
    indexes: Array.from({ length: plan.calls }, (_, i) => i).filter((i) => i % processes === p),
    // Numbered after the measured calls: sipp's trace of them is before the measured span, and not matched anyway.
    warmIndexes: Array.from({ length: plan.warmUp }, (_, i) => plan.calls + i).filter((i) => i % processes === p),
    // C spread as evenly as it goes: the first C mod P processes take one more.
    concurrency: Math.floor(plan.concurrency / processes) + (p < plan.concurrency % processes ? 1 : 0),
  }));
  try {
    await allSent(children, 'ready');
    const warm = allSent(children, 'warm');
    for (const c of children) c.send('warm');
    await warm;
    const calls = new Map<number, CallTimes>();
    const failed: string[] = [];
    const server0 = procSample(server.pid);
    const threads0 = threadCpu(server.pid);
    const clients0 = children.map((c) => procSample(c.pid!));
    const machine0 = machineBusySeconds();
    const started = epochMs();
    const up = allSent(children, 'up', (r) => {
      if (r.type === 'call') calls.set(r.index, r.times);
      else if (r.type === 'failed') failed.push(r.message);
    });
    for (const c of children) c.send('go');
    await up;
    const seconds = (epochMs() - started) / 1000;
    const server1 = procSample(server.pid);
    const threads1 = threadCpu(server.pid);
    const clientsCpu = children.map((c, i) => (procSample(c.pid!).cpuSeconds - clients0[i]!.cpuSeconds) / seconds);
    const serverCpu = (server1.cpuSeconds - server0.cpuSeconds) / seconds;
    // Everything on the machine, the other work on it included: the kit's processes may be short of CPU while
    // none of them is busy.
    const machineCpu = (machineBusySeconds() - machine0) / seconds;
    const byThread = threadShares(threads0, threads1, server1.cpuSeconds - server0.cpuSeconds, calls.size);
    if (failed.length > 0) console.log(`  ${failed.length} calls failed; first: ${failed[0]}`);

    const answers = sippAnswers(sipp, started - CLOCK_SLACK_MS);
    const steps = { session: [] as number[], toInvite: [] as number[], sipp: [] as number[], after200: [] as number[], own: [] as number[], setup: [] as number[], dtls: [] as number[] };
    for (const [index, t] of calls) {
      steps.session.push(t.sent - t.started);
      steps.setup.push(t.answered - t.sent);
      steps.dtls.push(t.connected - t.answered);
      const s = answers.get(index);
      if (s === undefined) continue;
      steps.toInvite.push(s.invite - t.sent);
      steps.sipp.push(s.ok - s.invite);
      steps.after200.push(t.answered - s.ok);
      steps.own.push(t.answered - t.sent - (s.ok - s.invite));
    }
    // NaN for a server without hooks: the step is not there.
    const callHook = (await server.hookLatencies?.('call', started - CLOCK_SLACK_MS)) ?? [];
    const clientsTotal = clientsCpu.reduce((a, b) => a + b, 0);
    const busiestClient = Math.max(...clientsCpu);
    const limitedBy =
      machineCpu >= BUSY * cpus().length ? `the machine's CPU (${serverCpu + clientsTotal >= BUSY * cpus().length ? 'server and load clients' : 'other work on it too'})`
        : serverCpu >= BUSY ? 'the server\'s CPU'
          : busiestClient >= BUSY ? 'a load client\'s CPU'
            : `latency: ${plan.concurrency} calls in flight, each waiting on its steps`;
    const fields: Record<string, number | string> = {
      calls: plan.calls, browser: plan.browser, warmUp: plan.warmUp, concurrency: plan.concurrency, processes, failed: failed.length, seconds, perSecond: calls.size / seconds,
      ...Object.fromEntries(Object.entries(steps).flatMap(([name, xs]) => [[`${name}P50Ms`, ms(xs, 50)], [`${name}P99Ms`, ms(xs, 99)]])),
      callHookP50Ms: ms(callHook, 50), callHookP99Ms: ms(callHook, 99),
      matchedAtSipp: steps.sipp.length,
      // What the rate would be if the server alone had one core: the figure the load client cannot cap.
      serverCpuMsPerCall: (serverCpu * seconds * 1000) / Math.max(1, calls.size),
      // Where it went: the main thread (JavaScript, and libdatachannel's calls from it), Node's other threads (V8's
      // compiler and GC helpers, the SQLite checkpointer), libdatachannel's (ICE, DTLS, SCTP timers).
      serverCpuMsPerCallByThread: byThread,
      serverCpuPercent: serverCpu * 100, clientCpuPercent: clientsTotal * 100, busiestClientCpuPercent: busiestClient * 100,
      machineCpuPercent: machineCpu * 100, limitedBy,
    };
    await hangUpClients(children);
    return fields;
  } finally {
    killClients(children);
  }
}
