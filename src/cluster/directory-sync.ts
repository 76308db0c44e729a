/**
 * Keeps this node's rows of the cluster's directory of live sessions and calls (src/store LiveDirectory) in step
 * with its gateway, so the admin API of any node lists and finds them (docs/scaling.md "Sessions and calls of the
 * whole cluster").
 *
 * The gateway is read, not instrumented: every `intervalMs` the node's sessions and calls are compared with what it
 * last published, and only the difference is written (one transaction). A row thus trails the live state by up to
 * one interval; that is enough for a view and for finding the holder of an item, and it keeps the gateway, which
 * knows nothing of clusters, as it is. The holder's own answer decides every terminate (forwarded to it).
 */
import type { SessionsProvider } from '../gateway/info.ts';
import type { LiveDirectory, LiveItem, LiveItemKind } from '../store/index.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';

const DIRECTORY_SYNC_MS = 500;

export interface DirectorySyncOptions {
  directory: LiveDirectory;
  gateway: SessionsProvider;
  /** This node's name (config nodeName), as the directory's rows carry it. */
  node: string;
  log: Logger;
  intervalMs?: number;
  clock?: Clock;
}

export class DirectorySync {
  /** What the directory holds of this node: `kind id` → the info's JSON. */
  private published = new Map<string, string>();
  private timer: TimerHandle | undefined;
  private syncing: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly clock: Clock;

  constructor(private readonly o: DirectorySyncOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** Removes what a previous run under this name left (a crash), then publishes at once and every interval. */
  async start(): Promise<void> {
    await this.o.directory.clear();
    await this.sync();
    this.schedule();
  }

  /** The directory lost this node's rows (a survivor took it over): the next sync writes them all again. */
  republish(): void {
    this.published = new Map();
  }

  /** No more syncs; this node's rows are removed (its sessions have ended by now). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.syncing;
    await this.o.directory.clear();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.syncing = this.sync().finally(() => {
        this.syncing = undefined;
        this.schedule();
      });
    }, this.o.intervalMs ?? DIRECTORY_SYNC_MS);
  }

  /** Never rejects: a store that does not answer is logged once, and the next sync writes the whole difference. */
  private async sync(): Promise<void> {
    const now = new Map<string, LiveItem>();
    const add = (kind: LiveItemKind, id: string, info: object): void => {
      now.set(`${kind} ${id}`, { kind, id, node: this.o.node, info: info as Record<string, unknown> });
    };
    for (const s of this.o.gateway.sessions()) add('session', s.sessionId, s);
    for (const c of this.o.gateway.calls()) add('call', c.callId, c);
    const json = new Map([...now].map(([key, item]) => [key, JSON.stringify(item.info)]));
    const put = [...now].filter(([key]) => this.published.get(key) !== json.get(key)).map(([, item]) => item);
    const gone = [...this.published.keys()].filter((key) => !now.has(key)).map((key) => {
      const space = key.indexOf(' ');
      return { kind: key.slice(0, space) as LiveItemKind, id: key.slice(space + 1) };
    });
    try {
      await this.o.directory.publish(put, gone);
      this.published = json;
      if (this.failing) this.o.log.info('the directory of live sessions and calls is written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.log.error({ err }, 'writing this node\'s live sessions and calls to the directory failed (PostgreSQL); trying again');
      this.failing = true;
    }
  }
}
