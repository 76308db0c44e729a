/**
 * sipp (Debian package sip-tester) as a scripted SIP peer on loopback: the scenarios in test/support/sipp/ play a
 * registrar that drops requests, answers 423 or 407, never answers, or sends and receives MESSAGE. Each run gets
 * its own temp directory for sipp's traces and its own free port, and is bounded by a timeout.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LOOPBACK, freePort, waitUntilBound } from './ports.ts';

const SCENARIO_DIR = fileURLToPath(new URL('./sipp/', import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 2_000;
const BIND_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
/** sipp's exit status for "Fatal error binding a socket" (-2). */
const EXIT_BIND_FAILED = 254;

/** sipp transport modes: one UDP socket, or one TCP connection. */
export type SippTransport = 'u1' | 't1';

export interface SippOptions {
  /** Path of the scenario; scenarioFile('uas-423') names one of test/support/sipp/. */
  scenarioFile: string;
  /** 'uac' starts by sending (needs `remote`); 'uas' waits for requests. */
  mode: 'uac' | 'uas';
  transport: SippTransport;
  /** Where a uac sends (e.g. a KamailioInstance); a uas answers whoever sent. */
  remote?: { host: string; port: number };
  /** The SIP port to bind on 127.0.0.1; default a free one. */
  localPort?: number;
  /** -s: the user part of the request URI ([service] in scenarios). */
  service?: string;
  /** -au/-ap: credentials for [authentication]. */
  auth?: { username: string; password: string };
  /** -key name value: [name] in scenarios (e.g. domain, expires, caller). */
  keys?: Readonly<Record<string, string>>;
  /** -m: calls to complete before sipp exits; default 1. */
  calls?: number;
  /** Any other sipp options, e.g. ['-nr'] for uas-drop-first.xml, ['-auth_uri', 'sip:callhook.test']. */
  extraArgs?: readonly string[];
  /** sipp is killed after this long; `done` then reports timedOut. */
  timeoutMs: number;
}

export interface SippResult {
  /**
   * sipp's exit status: 0 every call succeeded, 1 at least one failed, 255 a fatal error (including an <error>
   * action of a scenario, whose message is on stderr), 254 its port could not be bound. sipp also exits by itself
   * on SIGTERM, so after kill() see `killed`; null when it died of a signal.
   */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Stopped by kill() or by the timeout rather than having finished its calls. */
  killed: boolean;
  /** Stopped because it outlived `timeoutMs`. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** The -trace_msg log: every message sent and received, each headed by its timestamp (parseMessageTrace). */
  messages: string;
  /** The -trace_err log: unexpected messages, failed checks. */
  errors: string;
}

export interface SippProcess {
  /** The local SIP port (UDP for u1, TCP for t1) on 127.0.0.1. */
  readonly port: number;
  /** Resolves when sipp exits (by itself, by kill(), or at the timeout); never rejects. */
  readonly done: Promise<SippResult>;
  /** The -trace_msg log so far, while sipp runs. */
  messages(): string;
  /** Stops sipp (SIGTERM, then SIGKILL) and returns its result. */
  kill(): Promise<SippResult>;
}

/** The absolute path of a scenario of test/support/sipp/, by name with or without ".xml". */
export function scenarioFile(name: string): string {
  const path = join(SCENARIO_DIR, name.endsWith('.xml') ? name : `${name}.xml`);
  if (!existsSync(path)) throw new Error(`no sipp scenario ${name} in ${SCENARIO_DIR}`);
  return path;
}

/**
 * Starts sipp and resolves once it has bound its SIP port (so a uas is ready for requests), or once it has already
 * finished. A port lost to another process between freePort() and sipp's bind is retried with a new one.
 */
export async function runSipp(opts: SippOptions): Promise<SippProcess> {
  if (opts.mode === 'uac' && opts.remote === undefined) throw new Error('runSipp: a uac scenario needs `remote`');
  if (!existsSync(opts.scenarioFile)) throw new Error(`runSipp: no scenario file ${opts.scenarioFile}`);
  for (let attempt = 1; ; attempt++) {
    const port = opts.localPort ?? (await freePort('both'));
    const run = new SippRun(opts, port, await mkdtemp(join(tmpdir(), 'callhook-sipp-')));
    const started = await run.started();
    if (started === 'exited' && opts.localPort === undefined && attempt < START_ATTEMPTS) {
      const result = await run.done;
      if (result.code === EXIT_BIND_FAILED) continue;
    }
    return run;
  }
}

class SippRun implements SippProcess {
  readonly done: Promise<SippResult>;
  private readonly child: ChildProcess;
  private readonly messageFile: string;
  private stdout = '';
  private stderr = '';
  private timedOut = false;
  private killed = false;
  private exited = false;
  private readonly timer: NodeJS.Timeout;
  /** A test that crashes while sipp runs must not leave it running, nor its directory behind. */
  private readonly killOnExit = () => {
    this.signal('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(
    private readonly opts: SippOptions,
    readonly port: number,
    private readonly dir: string,
  ) {
    this.messageFile = join(dir, 'messages.log');
    const errorFile = join(dir, 'errors.log');
    const args = [
      ...(opts.remote ? [`${opts.remote.host}:${opts.remote.port}`] : []),
      ...['-sf', opts.scenarioFile],
      ...['-t', opts.transport],
      ...['-i', LOOPBACK, '-p', String(port)],
      ...['-ci', LOOPBACK], // sipp's remote-control UDP socket: loopback too, not 0.0.0.0
      ...['-m', String(opts.calls ?? 1)],
      '-nostdin', // no terminal: keys are not read, the screen goes to stdout
      ...['-trace_msg', '-message_file', this.messageFile],
      ...['-trace_err', '-error_file', errorFile],
      ...(opts.service !== undefined ? ['-s', opts.service] : []),
      ...(opts.auth ? ['-au', opts.auth.username, '-ap', opts.auth.password] : []),
      ...Object.entries(opts.keys ?? {}).flatMap(([name, value]) => ['-key', name, value]),
      ...(opts.extraArgs ?? []),
    ];
    // TZ=UTC: the trace timestamps are local time without a zone; parseMessageTrace reads them as UTC.
    this.child = spawn('sipp', args, {
      cwd: dir,
      detached: true,
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout = (this.stdout + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    });
    process.on('exit', this.killOnExit);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      void this.kill();
    }, opts.timeoutMs);
    this.done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      this.child.once('error', (err) => {
        this.stderr += `could not run sipp: ${err.message}\n`;
        resolve({ code: null, signal: null });
      });
      this.child.once('close', (code, signal) => resolve({ code, signal }));
    }).then(async ({ code, signal }) => {
      this.exited = true;
      clearTimeout(this.timer);
      process.off('exit', this.killOnExit);
      const result: SippResult = {
        code,
        signal,
        killed: this.killed,
        timedOut: this.timedOut,
        stdout: this.stdout,
        stderr: this.stderr,
        messages: readIfExists(this.messageFile),
        errors: readIfExists(errorFile),
      };
      await rm(this.dir, { recursive: true, force: true });
      return result;
    });
  }

  /** 'bound' once the SIP port is bound by sipp, 'exited' if sipp ended first. */
  async started(): Promise<'bound' | 'exited'> {
    const proto = this.opts.transport === 'u1' ? 'udp' : 'tcp';
    try {
      await waitUntilBound(proto, this.port, { timeoutMs: BIND_TIMEOUT_MS, stillRunning: () => !this.exited });
      return 'bound';
    } catch (err) {
      if (this.exited) return 'exited';
      await this.kill();
      throw err;
    }
  }

  messages(): string {
    return readIfExists(this.messageFile);
  }

  async kill(): Promise<SippResult> {
    if (!this.exited) {
      this.killed = true;
      this.signal('SIGTERM');
      const timeout = sleep(KILL_GRACE_MS, 'timeout' as const);
      if ((await Promise.race([this.done, timeout])) === 'timeout') this.signal('SIGKILL');
    }
    return this.done;
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.exited) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The head of a -trace_msg entry after its dashes: " 2026-11-26 09:36:15.651640\nUDP message sent (354 bytes):\n\n". */
const TRACE_HEAD = /^ (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})\n(\w+) message (sent|received)[^\n]*\n\n/;

export interface TracedMessage {
  /** When sipp sent or received it, in ms since the epoch (sipp's clock, microsecond resolution). */
  at: number;
  direction: 'sent' | 'received';
  /** 'UDP' or 'TCP'. */
  transport: string;
  /** The request or status line, e.g. "REGISTER sip:callhook.test SIP/2.0" or "SIP/2.0 200 OK". */
  firstLine: string;
  /** The whole message as sipp logged it (CRLF line ends), trailing blank lines removed. */
  text: string;
}

/**
 * The messages of a -trace_msg log, in order. Each entry there is a line of dashes with a timestamp
 * ("----- 2026-11-26 09:36:15.651640"), a line "UDP message sent (354 bytes):" or "UDP message received [438]
 * bytes :", a blank line and the message. Entries without a timestamp (sipp's "Unexpected ... message received"
 * notes, which repeat a message already logged) are skipped. Received retransmissions are logged too, even when
 * sipp absorbs them, so Timer A/E intervals can be measured from the `at` of consecutive `received` entries.
 */
export function parseMessageTrace(log: string): TracedMessage[] {
  const entries = log.split(/^-{20,}/m).slice(1);
  const traced: TracedMessage[] = [];
  for (const entry of entries) {
    const match = TRACE_HEAD.exec(entry);
    if (match === null) continue;
    const [head, year, month, day, hour, minute, second, micros, transport, direction] = match;
    const at =
      Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) +
      Number(micros) / 1000;
    const text = entry.slice(head.length).trimEnd();
    traced.push({
      at,
      direction: direction as 'sent' | 'received',
      transport: transport ?? '',
      firstLine: text.split(/\r?\n/, 1)[0] ?? '',
      text,
    });
  }
  return traced;
}

/**
 * A -trace_msg log in one line per message ("09:36:15.651 received INVITE sip:bob@… SIP/2.0"), for a failure's message:
 * what sipp saw and sent tells which side of a SIP exchange stopped.
 */
export function messageFlow(log: string): string {
  const flow = parseMessageTrace(log).map((m) => `${new Date(m.at).toISOString().slice(11, 23)} ${m.direction} ${m.firstLine}`);
  return flow.length === 0 ? '(no message)' : flow.join('\n');
}

/** sipp finished its scenario by itself and every call of it succeeded (it checks what it received). */
export function assertSippOk(result: SippResult): void {
  assert.equal(result.timedOut, false, `sipp did not finish its scenario: ${result.errors}`);
  assert.equal(result.code, 0, `sipp failed (code ${result.code}): ${result.stderr}\n${result.errors}`);
}
