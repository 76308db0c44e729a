/**
 * Composition of the running server: configuration → logger → SIP user agent (→ store, hooks, admin, client API as
 * they land). `startServer` is what `callhook start` and `npm start` run; tests start it in-process.
 */
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { createLogger, type Logger } from './log.ts';
import { UserAgent } from './sip/ua/index.ts';

export interface StartOptions {
  configFile?: string;
  /** Settings that win over file and environment (tests, embedding). */
  overrides?: Record<string, unknown>;
  logger?: Logger;
}

export interface RunningServer {
  readonly config: Config;
  readonly sip: UserAgent;
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig({ ...(opts.configFile !== undefined && { file: opts.configFile }), ...(opts.overrides && { overrides: opts.overrides }) });
  const logger = opts.logger ?? createLogger(config.logLevel);
  const sip = await UserAgent.start({
    listen: [
      { protocol: 'UDP', address: config.localIp, port: config.sipPort, advertise: config.publicIp },
      { protocol: 'TCP', address: config.localIp, port: config.sipPort, advertise: config.publicIp },
    ],
    maxMessageBytes: config.sipMaxMessageBytes,
    userAgent: config.userAgent,
    logger,
    timers: { t1: config.sipT1Ms, t2: config.sipT2Ms, t4: config.sipT4Ms },
  });
  logger.info({ sipPort: config.sipPort, localIp: config.localIp, publicIp: config.publicIp }, 'callhook started');
  return {
    config,
    sip,
    close: async () => {
      await sip.close();
    },
  };
}
