/**
 * `callhook start` in a child process, the way a user runs it, for tests that attack the real server: a scratch
 * directory as its working directory, settings in the `callhook.config.json` found there, the WebSocket and admin
 * ports 0 (the bound ones are read from the "callhook started" log line), a free SIP port that UDP and TCP share,
 * and the process killed should the test process exit first. `dataDir` may be given to restart on the same store.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProcessGroup } from './child-process.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { eventually } from './ws-client.ts';

const BIN = resolve(import.meta.dirname, '../../bin/callhook.js');
/** tsx compiles the sources at start; on a loaded machine that takes seconds. */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface CallhookProcess {
  readonly process: ProcessGroup;
  /** `http://127.0.0.1:<port>` of the admin port. */
  readonly adminUrl: string;
  readonly adminPort: number;
  readonly wsPort: number;
  readonly wsUrl: string;
  readonly sipPort: number;
  /** The scratch directory (working directory, config file, `data/`). */
  readonly dir: string;
  /** The JSON log lines so far whose `msg` matches. */
  logLines(msg: RegExp): Record<string, unknown>[];
  /** SIGTERM (SIGKILL after a grace period), then the scratch directory is removed. */
  stop(): Promise<void>;
  /** Sends `signal` (SIGKILL: a crash), then removes the scratch directory; resolves with how the process ended. */
  kill(signal: NodeJS.Signals): Promise<string | undefined>;
}

/** Starts callhook with `settings` (configuration keys) over loopback defaults; resolves once it logged its start. */
export async function startCallhookProcess(settings: Record<string, unknown> = {}): Promise<CallhookProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-process-'));
  const sipPort = typeof settings['sipPort'] === 'number' ? settings['sipPort'] : await freePort('both');
  const config = {
    adminPort: 0, wsPort: 0, wsHost: LOOPBACK, sipPort, localIp: LOOPBACK, dataDir: join(dir, 'data'), logLevel: 'info', ...settings,
  };
  await writeFile(join(dir, 'callhook.config.json'), JSON.stringify(config));
  const child = new ProcessGroup(process.execPath, [BIN, 'start'], dir);
  await eventually(() => child.status !== undefined || startLine(child.log) !== undefined, START_TIMEOUT_MS, 'callhook to log its start');
  const started = startLine(child.log);
  if (started === undefined) throw new Error(`callhook did not start (${child.status}):\n${child.tail(30)}`);
  const adminPort = Number(new URL(started.adminUrl).port);
  return {
    process: child,
    adminUrl: started.adminUrl,
    adminPort,
    wsPort: started.wsPort,
    wsUrl: `ws://${LOOPBACK}:${started.wsPort}`,
    sipPort,
    dir,
    logLines: (msg) => jsonLines(child.log).filter((l) => msg.test(String(l['msg']))),
    stop: async () => {
      await child.stop(STOP_GRACE_MS);
      await removeScratch(dir);
    },
    kill: async (signal) => {
      const status = await child.kill(signal);
      await removeScratch(dir);
      return status;
    },
  };
}

async function removeScratch(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** Complete JSON lines only: the last one may still be arriving. */
function jsonLines(log: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function startLine(log: string): { adminUrl: string; wsPort: number } | undefined {
  const line = jsonLines(log).find((l) => l['msg'] === 'callhook started');
  return line === undefined ? undefined : { adminUrl: String(line['adminUrl']), wsPort: Number(line['wsPort']) };
}
