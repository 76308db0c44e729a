/**
 * This node's membership of a cluster sharing one PostgreSQL store (docs/scaling.md "A node is lost").
 *
 * It heart-beats every third of `nodeLeaseMs`. On each beat it also looks for nodes silent for a whole lease and
 * takes each over (src/store/postgres-nodes.ts: one survivor per lost node): their undelivered events become this
 * node's to deliver, in their sessions' order and with their ids; what their sessions still owed their backends (the
 * wills) is emitted with info `Node lost`; their open calls' records are closed `Node lost` and pushed as
 * CallDetailRecord events. The lost node's clients meanwhile reconnect through the balancer to a live node.
 *
 * A clean stop needs nothing more: the node's sessions and calls have ended (their wills are settled), and events it
 * could not deliver before stopping are taken over by a survivor one lease later, or by the node itself if it is back
 * under the same nodeName sooner.
 */
import type { HookEngine } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { NodeRegistry } from '../store/index.ts';
import { callRecordEvent } from '../gateway/call-record.ts';
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';

export const NODE_LOST = 'Node lost';

export interface MembershipOptions {
  registry: NodeRegistry;
  hooks: Pick<HookEngine, 'emit' | 'emitOwed' | 'adoptEvents'>;
  /** The node id hooks carry (HookContext.nodeId). */
  nodeId: string;
  leaseMs: number;
  /** Where this node's admin API answers other nodes (a terminate of one of its sessions is forwarded there). */
  adminUrl?: string;
  /** Called when a survivor took this node over while it ran: its rows are gone and must be written again. */
  onTakenOver?: () => void;
  log: Logger;
  clock?: Clock;
  now?: () => number;
}

export class ClusterMembership {
  private timer: TimerHandle | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;
  private readonly clock: Clock;
  private readonly now: () => number;

  constructor(private readonly o: MembershipOptions) {
    this.clock = o.clock ?? systemClock;
    this.now = o.now ?? Date.now;
  }

  /** The first beat (registers the node), then one every third of the lease. */
  async start(): Promise<void> {
    await this.beat(true);
    this.schedule();
  }

  /** No more beats; waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.beating;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.beating = this.beat(false).finally(() => {
        this.beating = undefined;
        this.schedule();
      });
    }, Math.max(1, Math.floor(this.o.leaseMs / 3)));
  }

  /** Never rejects: a store that does not answer is logged, and the next beat tries again. */
  private async beat(first: boolean): Promise<void> {
    try {
      const known = await this.o.registry.heartbeat(this.now(), this.o.adminUrl);
      if (!known && !first) {
        this.o.log.error(
          { leaseMs: this.o.leaseMs },
          'this node was taken over by another (silent for a lease: overloaded, or cut off from PostgreSQL): sessions it still holds are no longer its own in the store',
        );
        this.o.onTakenOver?.();
      }
      for (;;) {
        const lost = await this.o.registry.takeOver(this.o.leaseMs, NODE_LOST, this.now());
        if (lost === undefined) break;
        const owed = await this.o.hooks.emitOwed(lost.wills, NODE_LOST);
        for (const r of lost.callRecords) {
          this.o.hooks.emit('CallDetailRecord', callRecordEvent(r), { appKey: r.appKey, sessionId: r.sessionId, nodeId: this.o.nodeId });
        }
        await this.o.hooks.adoptEvents();
        this.o.log.warn(
          { lostNode: lost.node, events: lost.events, owedEvents: owed, callRecords: lost.callRecords.length },
          `took over a lost node: its events are delivered from here, its sessions and calls closed "${NODE_LOST}"`,
        );
      }
    } catch (err) {
      this.o.log.error({ err }, 'node heartbeat or takeover failed (PostgreSQL); trying again at the next beat');
    }
  }
}
