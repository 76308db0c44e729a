/**
 * callhook as a user runs it, `bin/callhook.js start`, in a child process configured through `CALLHOOK_*`
 * environment variables: for the tests that need the real process (an attack that could end it, `kill -9` and a
 * restart on the same dataDir). The WebSocket and admin ports are the OS's choice, read from the start line the
 * server logs; the SIP port is found free first, because SIP binds it for UDP and TCP at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, LOOPBACK } from './ports.ts';

const BIN = fileURLToPath(new URL('../../bin/callhook.js', import.meta.url));
/** tsx compiles the sources at start: generous on a loaded machine. */
const START_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 4 << 20;

export interface CallhookProcessOptions {
  dataDir: string;
  /** Settings by name (`{ sipT1Ms: 100 }`), passed as CALLHOOK_* variables. */
  settings?: Record<string, string | number | boolean>;
}

export class CallhookProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  wsUrl = '';
  adminUrl = '';
  sipPort = 0;
  private out = '';
  private readonly killOnExit = (): void => {
    this.child.kill('SIGKILL');
  };

  private constructor(private readonly child: ChildProcess) {
    const append = (d: Buffer): void => {
      this.out = (this.out + d.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        process.off('exit', this.killOnExit);
        resolve({ code, signal });
      });
    });
    process.on('exit', this.killOnExit);
  }

  /** Starts callhook and resolves once it has logged its start (every port bound, ready for clients). */
  static async start(opts: CallhookProcessOptions): Promise<CallhookProcess> {
    const settings: Record<string, string | number | boolean> = {
      dataDir: opts.dataDir,
      localIp: LOOPBACK,
      wsHost: LOOPBACK,
      wsPort: 0,
      adminPort: 0,
      sipPort: await freePort('both'),
      logLevel: 'info',
      ...opts.settings,
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(settings)) env[`CALLHOOK_${k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`] = String(v);
    const child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new CallhookProcess(child);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let gone = false;
    void server.exited.then(() => (gone = true));
    for (;;) {
      const line = server.out.split('\n').find((l) => l.includes('"msg":"callhook started"'));
      if (line !== undefined) {
        const started = JSON.parse(line) as { wsPort: number; adminUrl: string; sipPort: number };
        server.wsUrl = `ws://${LOOPBACK}:${started.wsPort}/`;
        server.adminUrl = started.adminUrl;
        server.sipPort = started.sipPort;
        return server;
      }
      if (gone || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`callhook did not start within ${START_TIMEOUT_MS} ms (${gone ? 'it exited' : 'still running'}):\n${server.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Everything the process wrote (its log lines), the last 4 MiB. */
  output(): string {
    return this.out;
  }

  /** Sends `signal` (SIGKILL: a crash; SIGTERM: a clean stop) and resolves once the process has exited. */
  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return this.exited;
  }
}
