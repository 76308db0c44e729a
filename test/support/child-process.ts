/**
 * A test peer (Kamailio, baresip) run as its own process group in a scratch directory: detached, so that stopping
 * the group also stops the children it forks; its output kept as a log for error messages; and killed, its
 * directory removed, should the test process exit before stopping it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const LOG_LIMIT = 1 << 20;

export class ProcessGroup {
  /** Resolves once the process has exited or could not be run; never rejects. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private logText = '';
  private statusText: string | undefined;
  private gone = false;
  /** A test that crashes before stop() must not leave the peer running, nor its directory behind. */
  private readonly killOnExit = () => {
    this.signal('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  };

  /** `env` replaces the test process's environment for the child (default: inherited). */
  constructor(command: string, args: string[], private readonly dir: string, env?: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(env && { env }) });
    const append = (chunk: Buffer) => {
      this.logText = (this.logText + chunk.toString('utf8')).slice(-LOG_LIMIT);
    };
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    this.exited = new Promise<void>((resolve) => {
      this.child.once('error', (err) => {
        this.statusText = `could not be run (${err.message})`;
        resolve();
      });
      this.child.once('close', (code, signal) => {
        this.statusText ??= signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
    }).then(() => {
      this.gone = true;
      process.off('exit', this.killOnExit);
    });
    process.on('exit', this.killOnExit);
  }

  /** Undefined while running; then why not: `stopped`, `exited with code …`, `killed by …`, `could not be run (…)`. */
  get status(): string | undefined {
    return this.statusText;
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.gone ? undefined : this.child.pid;
  }

  /** Everything the process wrote to stdout and stderr (its last MiB). */
  get log(): string {
    return this.logText;
  }

  /** The last `lines` lines of the log. */
  tail(lines: number): string {
    return this.logText.split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM to the group, SIGKILL if it lingers past `graceMs`. Does nothing once stopped or exited. */
  async stop(graceMs: number): Promise<void> {
    if (this.statusText !== undefined) return;
    this.statusText = 'stopped';
    this.signal('SIGTERM');
    // The grace timer is cancelled once the process is gone, or it would keep the test process alive.
    const grace = new AbortController();
    const timer = sleep(graceMs, 'timeout' as const, { signal: grace.signal }).catch(() => 'cancelled' as const);
    const outcome = await Promise.race([this.exited, timer]);
    grace.abort();
    if (outcome === 'timeout') {
      this.signal('SIGKILL');
      await this.exited;
    }
  }

  /** Sends `signal` to the group (SIGKILL: a crash) and resolves, once it has exited, with `status`. */
  async kill(signal: NodeJS.Signals): Promise<string | undefined> {
    this.signal(signal);
    await this.exited;
    return this.statusText;
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.gone) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is already gone
    }
  }
}
