/**
 * Composition of the running server, in dependency order:
 *   configuration → logger → call media (WebRTC engine, port ranges) → store → hook engine → admin server
 *   (EchoApp, API) → SIP user agent → gateway → client WebSocket server.
 * `startServer` is what `callhook start` and `npm start` run; tests and benchmarks start it in-process with
 * overrides (port 0 everywhere, a temp dataDir). `close()` stops in the reverse order, within shutdownDrainMs
 * (docs/deploy.md "Stopping"): new work is refused (a WebSocket upgrade and a new SIP request get 503 with
 * Retry-After) and the clients are closed, their sessions end (calls get BYE or CANCEL, registrations are removed),
 * the hook outbox is flushed while EchoApp still answers, the client port and the SIP stack close, then the admin
 * server, the hook engine and the store.
 *
 * The server that owns its process (`callhook start`) also handles stop signals and process-level faults: the net
 * under the containment of calls and sessions (onProcessFault below, docs/security.md "Failure containment").
 */
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { createLogger, type Logger } from './log.ts';
import { listenAdmin } from './admin/server.ts';
import { buildAdminApp } from './admin/app.ts';
import { InProcessEchoApp } from './admin/routes/echo.ts';
import type { SessionControl, SessionsProvider } from './gateway/info.ts';
import { loadOrCreateAdminToken } from './admin/token.ts';
import { ClientApiServer } from './client-api/index.ts';
import {
  closeCallRecordsLeftOpen, createCallMetrics, Gateway, GatewayCallControl, newNodeId, Recordings, TimelineRecorder,
} from './gateway/index.ts';
import { createEventLoopMetrics } from './admin/event-loop-metrics.ts';
import { createHookEngine, type HookEngine } from './hooks/index.ts';
import { ClusterMembership } from './cluster/membership.ts';
import { DirectorySync } from './cluster/directory-sync.ts';
import { DEFAULT_APP_KEY, openPostgresStore, openStore, redactedUrl, type Store } from './store/index.ts';
import { createCallMedia, portMetrics, type CallMedia } from './media/index.ts';
import { UserAgent } from './sip/ua/index.ts';
import { readTlsCredentials, TlsTransport, type TlsCredentials } from './sip/transport/index.ts';

export interface StartOptions {
  configFile?: string;
  /** Settings that win over file and environment (tests, embedding). */
  overrides?: Record<string, unknown>;
  logger?: Logger;
  /**
   * The server owns the process (default true: what `callhook start` needs): it closes on SIGINT / SIGTERM, and
   * handles unhandled rejections and uncaught exceptions (onProcessFault). The handlers are removed again by
   * `close()`, so an embedding process (tests) keeps its own behaviour.
   */
  handleSignals?: boolean;
}

export interface RunningServer {
  readonly config: Config;
  readonly sip: UserAgent;
  readonly gateway: Gateway;
  readonly hooks: HookEngine;
  readonly store: Store;
  /** The calls' media engine and port allocators (`inUse` shows ports held by live calls). */
  readonly media: CallMedia;
  /** `<random>@<server ip>`, in every hook body. */
  readonly nodeId: string;
  /** Bound ports (the OS's choice where the configuration said 0). */
  readonly wsPort: number;
  readonly wssPort: number | undefined;
  readonly adminPort: number;
  readonly sipPort: number;
  /** The SIP TLS listener's port; undefined without sipTlsCert and sipTlsKey (TLS then only connects out). */
  readonly sipTlsPort: number | undefined;
  /** `http://host:port` of the admin API (and EchoApp). */
  readonly adminUrl: string;
  /** The admin API's bearer token. */
  readonly adminToken: string;
  /** Stops everything; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Of shutdownDrainMs, what the steps after the drain (closing sockets, the hook engine, the store) are left: the
 * drain ends this much before the process must be gone.
 */
const AFTER_DRAIN_RESERVE_MS = 500;

type Closer = () => unknown;

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig({ ...(opts.configFile !== undefined && { file: opts.configFile }), ...(opts.overrides && { overrides: opts.overrides }) });
  const logger = opts.logger ?? createLogger(config.logLevel);
  /** What has been started, to stop in reverse order (also when a later step fails). */
  const closers: Closer[] = [];
  /** The time by which the draining steps of a stop give up (set when close() starts). */
  let drainDeadline = Number.POSITIVE_INFINITY;
  const drainLeft = (): number => Math.max(0, drainDeadline - Date.now());
  const stopAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
  };

  try {
    // First, before any port is bound: loading the WebRTC engine's native module is what may fail on a platform
    // without it, and once SIP answers, the server must be ready for a stop signal.
    const media = await createCallMedia(config, logger);
    closers.push(() => media.engine.close());
    const store = await openConfiguredStore(config, logger);
    closers.push(() => store.close());

    let gateway: Gateway | undefined;
    /** What the console's Overview shows as the ports, once each is bound (0 in the config lets the OS choose). */
    let boundPorts: Record<string, number> = {};
    const timeline = new TimelineRecorder({ keepEnded: config.timelineKeepEnded, maxSteps: config.timelineMaxSteps, maxBytes: config.timelineMaxBytes });
    // The admin server's EchoApp answers its hooks in-process once the admin server listens (routes/echo.ts).
    const echoApp = new InProcessEchoApp();
    const hooks = createHookEngine({
      store,
      config,
      log: logger.child({ component: 'hooks' }),
      localBackend: echoApp,
      onEventDeliveryFailure: (failure) => gateway?.eventDeliveryFailed(failure),
      ...(timeline.enabled && { onAttempt: (attempt) => timeline.hookAttempt(attempt) }),
    });
    await hooks.start();
    closers.push(() => hooks.stop());

    // The gateway arrives after the admin server (which hosts EchoApp, needed before any client connects).
    /** From the first moment of a stop: /healthz fails, so a balancer sends new clients elsewhere. */
    let draining = false;
    const sessions: SessionsProvider & SessionControl = {
      sessions: () => gateway?.sessions() ?? [],
      calls: () => gateway?.calls() ?? [],
      terminateSession: (id) => gateway?.terminateSession(id) ?? false,
      terminateCall: (id) => gateway?.terminateCall(id) ?? false,
    };
    let callControl: GatewayCallControl | undefined;
    const recordings = new Recordings(join(config.dataDir, 'recordings'), logger.child({ component: 'recordings' }));
    recordings.startRetention(config.recordingMaxAgeDays);
    closers.push(() => recordings.stop());
    const adminToken = loadOrCreateAdminToken(config.dataDir);
    // /metrics serves the registry the admin is handed: the hook engine's, joined by the calls', the media port
    // ranges' and the event loop's (docs/admin.md "Metrics").
    const callMetrics = createCallMetrics();
    const eventLoop = createEventLoopMetrics();
    closers.push(() => eventLoop.stop());
    const metrics = Registry.merge([
      hooks.metrics, callMetrics.registry, portMetrics({ rtp: media.rtpPorts, ...(media.webrtcPort === undefined && { webrtc: media.webrtcPorts }) }), eventLoop.registry,
    ]);
    const adminLog = logger.child({ component: 'admin' });
    const admin = await listenAdmin(
      buildAdminApp({
        config, store, hooks: { replayEvents: (q) => hooks.replayEvents(q), metrics }, log: adminLog, token: adminToken, sessions,
        control: sessions, timeline, ports: () => boundPorts, calls: () => callControl, recordings, draining: () => draining,
        ...(store.directory !== undefined && { cluster: { node: config.nodeName, directory: store.directory } }),
      }),
      config,
      adminLog,
    );
    echoApp.serve(admin.address);
    closers.push(() => {
      echoApp.stop();
      return admin.close();
    });
    if (config.adminPort === 0) await pointDefaultAppAtEchoApp(store, admin.address.port);

    const sip = await UserAgent.start({
      listen: [
        { protocol: 'UDP', address: config.localIp, port: config.sipPort, advertise: config.publicIp },
        { protocol: 'TCP', address: config.localIp, port: config.sipPort, advertise: config.publicIp },
        { protocol: 'TLS', address: config.localIp, port: config.sipTlsPort, advertise: config.publicIp },
      ],
      maxMessageBytes: config.sipMaxMessageBytes,
      userAgent: config.userAgent,
      logger,
      timers: { t1: config.sipT1Ms, t2: config.sipT2Ms, t4: config.sipT4Ms },
      tcp: { idleTimeoutMs: config.sipTcpIdleTimeoutMs, messageTimeoutMs: config.sipTcpMessageTimeoutMs, maxConnections: config.sipTcpMaxConnections },
      tls: { credentials: sipTlsCredentials(config), handshakeTimeoutMs: config.sipTlsHandshakeTimeoutMs },
      trustedSources: config.sipTrustedSources,
      sessionTimer: { sessionExpiresS: config.sipSessionExpires, minSeS: config.sipMinSe },
    });
    closers.push(() => sip.close());
    // Runs after the drain below: until then a client that reconnects is answered 503, not refused by TCP.
    let clientApi: ClientApiServer | undefined;
    closers.push(() => clientApi?.close());
    // Before the admin server goes: the default app's events go to its EchoApp.
    closers.push(async () => {
      if (!(await hooks.drain(drainLeft()))) logger.warn({ outbox: await store.outbox.depth() }, 'stopping with hook events undelivered (sent at the next start)');
    });

    const nodeId = newNodeId(config.localIp);
    // Before any call: the records of calls a crash left up are closed and pushed like the wills' events.
    closeCallRecordsLeftOpen(store.callRecords, hooks, nodeId, logger);
    const gw = new Gateway({
      ua: sip, hooks, log: logger, nodeId, media, callRecords: store.callRecords, callMetrics, config, timeline,
      recordingsDir: recordings.dir, apps: store.apps,
    });
    if (store.nodes !== undefined) {
      // After the hook engine and the store, before the gateway: stopped once the gateway has let its sessions go.
      const clusterLog = logger.child({ component: 'cluster' });
      const directory = store.directory && new DirectorySync({ directory: store.directory, gateway: gw, node: config.nodeName, log: clusterLog });
      const membership = new ClusterMembership({
        registry: store.nodes, hooks, nodeId, leaseMs: config.nodeLeaseMs, adminUrl: reachableAdminUrl(admin.address, config.localIp), log: clusterLog,
        ...(directory && { onTakenOver: () => directory.republish() }),
      });
      await membership.start();
      closers.push(() => membership.stop());
      if (directory !== undefined) {
        await directory.start();
        closers.push(() => directory.stop());
      }
    }
    gateway = gw;
    callControl = new GatewayCallControl(gw);
    closers.push(() => gw.close(drainLeft()));

    clientApi = await ClientApiServer.start({ gateway: gw, config, log: logger });
    // The first step of a stop: new work is refused with 503, retried once this process should be gone.
    const retryAfterSeconds = config.shutdownDrainMs / 1000;
    closers.push(() => {
      sip.refuseNewRequests(retryAfterSeconds);
      return clientApi?.drain(retryAfterSeconds);
    });

    const sipPort = sip.transports.transports[0]?.local.port ?? config.sipPort;
    const tls = sip.transports.transports.find((t) => t instanceof TlsTransport);
    const reloadSipTls = (): void => sip.transports.setTlsCredentials(sipTlsCredentials(config));
    boundPorts = { ws: clientApi.wsPort, ...(clientApi.wssPort !== undefined && { wss: clientApi.wssPort }), sip: sipPort, admin: admin.address.port };
    let closing: Promise<void> | undefined;
    const ownsProcess = opts.handleSignals !== false;
    const stopProcess = onceStopping(logger, config.stopCallsWaitMs + config.shutdownDrainMs, () => running.close());
    const removeSignalHandlers = ownsProcess ? onStopSignal(logger, stopProcess) : () => undefined;
    const removeReloadHandler = ownsProcess ? onReloadSignal(logger, reloadSipTls) : () => undefined;
    // Removed only once stopped: a fault while stopping is still logged rather than ending the process mid-way.
    const removeFaultHandlers = ownsProcess ? onProcessFault(logger, stopProcess) : () => undefined;
    const running: RunningServer = {
      config,
      sip,
      gateway: gw,
      hooks,
      store,
      media,
      nodeId,
      wsPort: clientApi.wsPort,
      wssPort: clientApi.wssPort,
      adminPort: admin.address.port,
      sipPort,
      sipTlsPort: tls?.listening === true ? tls.local.port : undefined,
      adminUrl: admin.url,
      adminToken,
      close: () => {
        closing ??= (async () => {
          draining = true;
          await drainCalls(gw, clientApi!, config, logger);
          const started = Date.now();
          drainDeadline = started + Math.max(0, config.shutdownDrainMs - AFTER_DRAIN_RESERVE_MS);
          removeSignalHandlers();
          removeReloadHandler();
          await stopAll();
          logger.info({ stopMs: Date.now() - started }, 'callhook stopped');
          removeFaultHandlers();
        })();
        return closing;
      },
    };
    logger.info(
      { wsPort: running.wsPort, wssPort: running.wssPort, adminUrl: admin.url, sipPort, sipTlsPort: running.sipTlsPort, localIp: config.localIp, publicIp: config.publicIp, nodeId },
      'callhook started',
    );
    return running;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The store the configuration names: SQLite in dataDir, or the PostgreSQL the nodes of a cluster share. */
async function openConfiguredStore(config: Config, logger: Logger): Promise<Store> {
  const cdrRetention = { maxAgeMs: config.cdrMaxAgeDays * 86_400_000, maxCount: config.cdrMaxCount };
  if (config.store === 'sqlite') return openStore({ dataDir: config.dataDir, adminPort: config.adminPort, cdrRetention });
  const url = config.postgresUrl!;
  logger.info({ postgres: redactedUrl(url), nodeName: config.nodeName }, 'opening the PostgreSQL store');
  return openPostgresStore({
    url, node: config.nodeName, adminPort: config.adminPort, cdrRetention, poolSize: config.postgresPoolSize,
    log: logger.child({ component: 'store' }),
  });
}

/**
 * The store seeds defaultApp with the admin port it was given; with adminPort 0 (tests, several instances) the
 * real port is only known once bound, so a defaultApp still pointing at an EchoApp on 127.0.0.1 is re-pointed to it.
 * A defaultApp the user pointed elsewhere is left alone.
 */
async function pointDefaultAppAtEchoApp(store: Store, port: number): Promise<void> {
  const app = store.apps.getByKey(DEFAULT_APP_KEY);
  if (app === undefined || !/^http:\/\/127\.0\.0\.1:\d+\/apps\/EchoApp$/.test(app.url)) return;
  await store.apps.update(app.name, { url: `http://127.0.0.1:${port}/apps/EchoApp` });
}

/**
 * A rolling restart's drain (config stopCallsWaitMs): new WebSockets are refused and /healthz fails while the live
 * calls finish, for at most stopCallsWaitMs; the clients stay connected until the stop proper closes them (they
 * then reconnect through the balancer to another node).
 */
async function drainCalls(gateway: Gateway, clientApi: ClientApiServer, config: Config, logger: Logger): Promise<void> {
  if (config.stopCallsWaitMs === 0) return;
  clientApi.refuseNew((config.stopCallsWaitMs + config.shutdownDrainMs) / 1000);
  const until = Date.now() + config.stopCallsWaitMs;
  logger.info({ calls: gateway.calls().length, stopCallsWaitMs: config.stopCallsWaitMs }, 'draining: no new clients; waiting for the live calls to finish');
  while (gateway.calls().length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, until - Date.now())));
  }
  logger.info({ calls: gateway.calls().length }, 'drained: stopping');
}

const DRAIN_POLL_MS = 200;

/** Where other nodes reach this node's admin API: its bound address, or localIp when it is bound to every interface. */
function reachableAdminUrl(address: AddressInfo, localIp: string): string {
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? localIp : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Closes the server once, whoever asks first (a signal, a fault); a stop still going after `drainMs` is cut short. */
function onceStopping(logger: Logger, drainMs: number, close: () => Promise<void>): () => void {
  let stopping = false;
  return () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      logger.error({ shutdownDrainMs: drainMs }, 'did not stop within shutdownDrainMs; exiting');
      process.exit(1);
    }, drainMs).unref();
    close().catch((err: unknown) => {
      logger.error({ err }, 'stopping failed');
      process.exitCode = 1;
    });
  };
}

/** The TLS files of the configuration, read now (at start, and again on SIGHUP). */
function sipTlsCredentials(config: Config): TlsCredentials {
  return readTlsCredentials({
    ...(config.sipTlsCert !== undefined && { cert: config.sipTlsCert }),
    ...(config.sipTlsKey !== undefined && { key: config.sipTlsKey }),
    ...(config.sipTlsCaFile !== undefined && { caFile: config.sipTlsCaFile }),
  });
}

/**
 * SIGHUP re-reads the SIP TLS certificate, key and CA file (a renewed certificate without a restart): new
 * connections use them, open ones keep theirs. Files that cannot be read or do not fit leave the old ones in use.
 */
function onReloadSignal(logger: Logger, reload: () => void): () => void {
  const handler = (): void => {
    try {
      reload();
      logger.info('SIP TLS certificate, key and CA file reloaded');
    } catch (err) {
      logger.error({ err }, 'SIP TLS reload failed: the previous certificate, key and CAs stay in use');
    }
  };
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}

/** SIGINT / SIGTERM close the server once; a second signal gets Node's default (immediate exit). */
function onStopSignal(logger: Logger, stop: () => void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    remove();
    logger.info({ signal }, 'stopping');
    stop();
  };
  const remove = (): void => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return remove;
}

/**
 * Process-level faults: what the containment of calls and sessions did not catch (docs/security.md).
 *
 * - An unhandled rejection is logged with its stack, and the server goes on. The async chain that rejected has
 *   unwound the way a caught error unwinds, so it leaves nothing half-done that a caught error would not; Node makes
 *   it fatal by default only to surface the bug, which the log does (and the lint keeps such promises out of src/).
 * - An uncaught exception is logged with its stack, then the server stops as on SIGTERM (clients closed, sessions
 *   DISCONNECTED, registrations removed) and the process exits 1, for its supervisor to start it again. Every call
 *   and session contains its own bugs, so a throw that gets here came from outside all of them (a library's event
 *   handler, the composition), and Node documents the process as in an undefined state after it.
 */
function onProcessFault(logger: Logger, stop: () => void): () => void {
  const rejection = (reason: unknown): void => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug): logged, the server goes on');
  };
  const exception = (err: Error): void => {
    logger.fatal({ err }, 'uncaught exception (a bug outside any call or session): stopping');
    process.exitCode = 1;
    stop();
  };
  process.on('unhandledRejection', rejection);
  process.on('uncaughtException', exception);
  return () => {
    process.off('unhandledRejection', rejection);
    process.off('uncaughtException', exception);
  };
}
