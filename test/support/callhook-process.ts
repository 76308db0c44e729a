/**
 * callhook as a user runs it (`node bin/callhook.js start`) in a child process, configured through `CALLHOOK_*`
 * environment variables only, on loopback with a temp dataDir: for tests that attack the real server process. The
 * WebSocket and admin ports are 0 (chosen by the OS) and read back from the "callhook started" log line; the SIP
 * port is a free one (UDP and TCP share it). Its JSON log lines are kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, LOOPBACK } from './ports.ts';

const BIN = fileURLToPath(new URL('../../bin/callhook.js', import.meta.url));
/** tsx compiles the sources at start: generous on a loaded machine. */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface CallhookProcess {
  readonly child: ChildProcess;
  readonly sipPort: number;
  readonly wsPort: number;
  readonly wsUrl: string;
  readonly adminUrl: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far whose `msg` matches. */
  logLines(msg: RegExp): Record<string, unknown>[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after a grace period), then the dataDir is removed. */
  stop(): Promise<void>;
}

/** Starts callhook with `env` (CALLHOOK_* names) over the loopback defaults; resolves once it logged its start. */
export async function startCallhookProcess(env: Record<string, string> = {}): Promise<CallhookProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-process-'));
  const sipPort = await freePort('both');
  // Only the settings given here: a CALLHOOK_* of the test runner's environment must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CALLHOOK_')));
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...inherited,
      CALLHOOK_SIP_PORT: String(sipPort),
      CALLHOOK_WS_PORT: '0',
      CALLHOOK_WS_HOST: LOOPBACK,
      CALLHOOK_ADMIN_PORT: '0',
      CALLHOOK_LOCAL_IP: LOOPBACK,
      CALLHOOK_DATA_DIR: dataDir,
      CALLHOOK_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let wake: (() => void) | undefined;
  const append = (d: Buffer): void => {
    out += d.toString('utf8');
    wake?.();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logLines = (msg: RegExp): Record<string, unknown>[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => msg.test(String(l['msg'])));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
    wake?.();
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const started = logLines(/^callhook started$/)[0];
    if (started !== undefined) {
      const wsPort = Number(started['wsPort']);
      return {
        child, sipPort, wsPort, wsUrl: `ws://${LOOPBACK}:${wsPort}`, adminUrl: String(started['adminUrl']), output: () => out, logLines, exited, stop,
      };
    }
    if (exitCode !== undefined || Date.now() > deadline) {
      await stop();
      throw new Error(`callhook did not start (${exitCode !== undefined ? `exit code ${exitCode}` : `not within ${START_TIMEOUT_MS} ms`}):\n${out}`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 100);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
