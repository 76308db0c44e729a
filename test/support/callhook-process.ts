/**
 * `callhook start` in a child process, the way a user runs it, for tests that attack the real server: a scratch
 * directory as its working directory, settings in the `callhook.config.json` found there, every port 0 (the bound
 * ones are read from the "callhook started" log line), and the process killed should the test process exit first.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProcessGroup } from './child-process.ts';
import { eventually } from './ws-client.ts';

const BIN = resolve(import.meta.dirname, '../../bin/callhook.js');
/** tsx compiles the sources at start; on a loaded machine that takes seconds. */
const START_TIMEOUT_MS = 30_000;

export interface CallhookProcess {
  readonly process: ProcessGroup;
  /** `http://127.0.0.1:<port>` of the admin port. */
  readonly adminUrl: string;
  readonly adminPort: number;
  readonly wsPort: number;
  /** The scratch directory (working directory, config file, `data/`). */
  readonly dir: string;
}

export async function startCallhookProcess(settings: Record<string, unknown> = {}): Promise<CallhookProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-process-'));
  const config = { adminPort: 0, wsPort: 0, sipPort: 0, localIp: '127.0.0.1', dataDir: join(dir, 'data'), logLevel: 'info', ...settings };
  await writeFile(join(dir, 'callhook.config.json'), JSON.stringify(config));
  const child = new ProcessGroup(process.execPath, [BIN, 'start'], dir);
  await eventually(() => child.status !== undefined || startLine(child.log) !== undefined, START_TIMEOUT_MS, 'callhook to log its start');
  const started = startLine(child.log);
  if (started === undefined) throw new Error(`callhook did not start (${child.status}):\n${child.tail(30)}`);
  const adminPort = Number(new URL(started.adminUrl).port);
  return { process: child, adminUrl: started.adminUrl, adminPort, wsPort: started.wsPort, dir };
}

function startLine(log: string): { adminUrl: string; wsPort: number } | undefined {
  // Complete lines only: the last one may still be arriving.
  const line = log.split('\n').slice(0, -1).find((l) => l.includes('"msg":"callhook started"'));
  return line === undefined ? undefined : (JSON.parse(line) as { adminUrl: string; wsPort: number });
}
