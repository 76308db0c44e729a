/**
 * Composition of the running server, in dependency order:
 *   configuration → logger → call media (WebRTC engine, port ranges) → store → hook engine → admin server
 *   (EchoApp, API) → SIP user agent → gateway → client WebSocket server.
 * `startServer` is what `callhook start` and `npm start` run; tests and benchmarks start it in-process with
 * overrides (port 0 everywhere, a temp dataDir). `close()` stops in the reverse order: clients first (their
 * sessions unregister), the SIP stack, then the admin server, the hook engine and the store.
 */
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { createLogger, type Logger } from './log.ts';
import { listenAdmin } from './admin/server.ts';
import { buildAdminApp } from './admin/app.ts';
import type { SessionsProvider } from './admin/sessions.ts';
import { loadOrCreateAdminToken } from './admin/token.ts';
import { ClientApiServer } from './client-api/index.ts';
import { createCallMedia, Gateway, newNodeId, type CallMedia } from './gateway/index.ts';
import { createHookEngine, type HookEngine } from './hooks/index.ts';
import { DEFAULT_APP_KEY, openStore, type Store } from './store/index.ts';
import { UserAgent } from './sip/ua/index.ts';

export interface StartOptions {
  configFile?: string;
  /** Settings that win over file and environment (tests, embedding). */
  overrides?: Record<string, unknown>;
  logger?: Logger;
  /**
   * Close the server on SIGINT / SIGTERM (default true: what `callhook start` needs). The handlers are removed
   * again by `close()`, so an embedding process keeps its own signal behaviour once the server is gone.
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
  /** `http://host:port` of the admin API (and EchoApp). */
  readonly adminUrl: string;
  /** The admin API's bearer token. */
  readonly adminToken: string;
  /** Stops everything; safe to call twice. */
  close(): Promise<void>;
}

/** A stuck shutdown must not keep a signalled process alive forever. */
const FORCED_EXIT_MS = 15_000;

type Closer = () => unknown;

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig({ ...(opts.configFile !== undefined && { file: opts.configFile }), ...(opts.overrides && { overrides: opts.overrides }) });
  const logger = opts.logger ?? createLogger(config.logLevel);
  /** What has been started, to stop in reverse order (also when a later step fails). */
  const closers: Closer[] = [];
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
    const store = openStore({ dataDir: config.dataDir, adminPort: config.adminPort });
    closers.push(() => store.close());

    let gateway: Gateway | undefined;
    const hooks = createHookEngine({
      store,
      config,
      log: logger.child({ component: 'hooks' }),
      onEventDeliveryFailure: (failure) => gateway?.eventDeliveryFailed(failure),
    });
    hooks.start();
    closers.push(() => hooks.stop());

    // The gateway arrives after the admin server (which hosts EchoApp, needed before any client connects).
    const sessions: SessionsProvider = { sessions: () => gateway?.sessions() ?? [], calls: () => gateway?.calls() ?? [] };
    const adminToken = loadOrCreateAdminToken(config.dataDir);
    const adminLog = logger.child({ component: 'admin' });
    const admin = await listenAdmin(buildAdminApp({ config, store, hooks, log: adminLog, token: adminToken, sessions }), config, adminLog);
    closers.push(() => admin.close());
    if (config.adminPort === 0) pointDefaultAppAtEchoApp(store, admin.address.port);

    const sip = await UserAgent.start({
      listen: [
        { protocol: 'UDP', address: config.localIp, port: config.sipPort, advertise: config.publicIp },
        { protocol: 'TCP', address: config.localIp, port: config.sipPort, advertise: config.publicIp },
      ],
      maxMessageBytes: config.sipMaxMessageBytes,
      userAgent: config.userAgent,
      logger,
      timers: { t1: config.sipT1Ms, t2: config.sipT2Ms, t4: config.sipT4Ms },
      tcp: { idleTimeoutMs: config.sipTcpIdleTimeoutMs, messageTimeoutMs: config.sipTcpMessageTimeoutMs, maxConnections: config.sipTcpMaxConnections },
      trustedSources: config.sipTrustedSources,
    });
    closers.push(() => sip.close());

    const nodeId = newNodeId(config.localIp);
    const gw = new Gateway({ ua: sip, hooks, log: logger, nodeId, media, config });
    gateway = gw;
    closers.push(() => gw.close());

    const clientApi = await ClientApiServer.start({ gateway: gw, config, log: logger });
    closers.push(() => clientApi.close());

    const sipPort = sip.transports.transports[0]?.local.port ?? config.sipPort;
    let closing: Promise<void> | undefined;
    const removeSignalHandlers = opts.handleSignals === false ? () => undefined : onStopSignal(logger, () => running.close());
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
      adminUrl: admin.url,
      adminToken,
      close: () => {
        closing ??= (async () => {
          removeSignalHandlers();
          await stopAll();
          logger.info('callhook stopped');
        })();
        return closing;
      },
    };
    logger.info(
      { wsPort: running.wsPort, wssPort: running.wssPort, adminUrl: admin.url, sipPort, localIp: config.localIp, publicIp: config.publicIp, nodeId },
      'callhook started',
    );
    return running;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * The store seeds defaultApp with the admin port it was given; with adminPort 0 (tests, several instances) the
 * real port is only known once bound, so a defaultApp still pointing at an EchoApp on 127.0.0.1 is re-pointed to it.
 * A defaultApp the user pointed elsewhere is left alone.
 */
function pointDefaultAppAtEchoApp(store: Store, port: number): void {
  const app = store.apps.getByKey(DEFAULT_APP_KEY);
  if (app === undefined || !/^http:\/\/127\.0\.0\.1:\d+\/apps\/EchoApp$/.test(app.url)) return;
  store.apps.update(app.name, { url: `http://127.0.0.1:${port}/apps/EchoApp` });
}

/** SIGINT / SIGTERM close the server once; a second signal gets Node's default (immediate exit). */
function onStopSignal(logger: Logger, close: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    remove();
    logger.info({ signal }, 'stopping');
    setTimeout(() => {
      logger.error('did not stop in time; exiting');
      process.exit(1);
    }, FORCED_EXIT_MS).unref();
    close().catch((err: unknown) => {
      logger.error({ err }, 'stopping failed');
      process.exitCode = 1;
    });
  };
  const remove = (): void => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return remove;
}
