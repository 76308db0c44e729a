/**
 * What the admin server is built from. Everything is injected (the style of ../store/types.ts): a test hands in
 * its own store, engine and sessions; `startServer` hands in the real ones.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { HookEngine } from '../hooks/types.ts';
import type { SessionControl, SessionsProvider } from '../gateway/info.ts';
import type { TimelineRecorder } from '../gateway/timeline.ts';
import type { CallControl, Recordings } from '../gateway/index.ts';
import type { ClusterView } from './cluster.ts';

export interface AdminDeps {
  config: Pick<Config, 'restRequestTimeoutMs' | 'userAgent' | 'localIp'> & Partial<Pick<Config, 'adminMaxEventStreams'>>;
  store: Store;
  /** The running engine: replays go through it so its worker delivers at once; its registry feeds /metrics. */
  hooks: Pick<HookEngine, 'replayEvents' | 'metrics'>;
  log: Logger;
  /** The admin token (./token.ts). */
  token: string;
  /** Live sessions and calls; none until the gateway attaches one. */
  sessions?: SessionsProvider;
  /** Nodes sharing a PostgreSQL store: lists are the cluster's, and a terminate goes to the holding node (./cluster.ts). */
  cluster?: ClusterView;
  /** Ending a live session or call (the console's Terminate); 404 without. */
  control?: SessionControl;
  /** The server's bound ports by name (ws, sip, admin), for the Overview. */
  ports?: () => Record<string, number>;
  /** The per-session timelines (docs/console.md); none without. */
  timeline?: TimelineRecorder;
  /** The REST API's view of the gateway (`/rest-api/`); undefined until the gateway runs. */
  calls?: () => CallControl | undefined;
  /** The recordings folder (`/api/recordings`). */
  recordings?: Recordings;
  /** True while the server drains or stops: /healthz answers 503, so a balancer sends new clients elsewhere. */
  draining?: () => boolean;
  /** Largest request body, bytes (default DEFAULT_BODY_LIMIT). */
  bodyLimitBytes?: number;
}
