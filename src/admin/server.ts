/**
 * Listening for the admin app (./app.ts), kept apart from building it. `listenAdmin` resolves once the port is
 * bound (port 0 lets the OS choose, for tests) and `close()` ends it, including idle keep-alive connections,
 * so a stopping server or a finishing test is not held open.
 *
 * The port is reachable by every local process and, through simple CORS requests, by every page in a local
 * browser, so no client may hold a connection for free: each must send its headers and its whole request within
 * a bound, an idle kept-alive connection is closed, and past a cap new connections are closed at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import { RepeatedWarnings, type Logger } from '../log.ts';
import type { AdminApp } from './app.ts';

export type AdminListenConfig = Pick<
  Config,
  'adminHost' | 'adminPort' | 'adminHeadersTimeoutMs' | 'adminRequestTimeoutMs' | 'adminIdleTimeoutMs' | 'adminMaxConnections'
>;

export interface AdminServer {
  server: Server;
  /** The bound address, e.g. `{ address: '127.0.0.1', port: 8081 }`. */
  address: AddressInfo;
  /** `http://host:port` of the bound socket (IPv6 in brackets). */
  url: string;
  close(): Promise<void>;
}

/** How often, at most, Node looks for connections past their headers or request timeout. */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export function listenAdmin(app: AdminApp, config: AdminListenConfig, log: Logger): Promise<AdminServer> {
  const server = createServer(
    {
      // Node checks both timeouts only this often (30 s by default, which let a silent connection live 40 s).
      connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, config.adminHeadersTimeoutMs),
      headersTimeout: config.adminHeadersTimeoutMs,
      requestTimeout: config.adminRequestTimeoutMs,
      keepAliveTimeout: config.adminIdleTimeoutMs,
    },
    (req, res) => {
      // app.handle answers every failure itself; this is the net under it, so nothing can reject unhandled.
      app.handle(req, res).catch((err: unknown) => {
        log.error({ err, method: req.method, url: req.url }, 'admin request failed while answering');
        res.destroy();
      });
    },
  );
  server.maxConnections = config.adminMaxConnections;
  const refused = new RepeatedWarnings(log);
  server.on('drop', (peer) => {
    refused.warn(
      'maxConnections',
      { remoteAddress: peer?.remoteAddress, adminMaxConnections: config.adminMaxConnections },
      'admin connection closed: adminMaxConnections reached',
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.adminPort, config.adminHost, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        address,
        url: `http://${h}:${address.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            refused.flush();
            app.close();
            server.close((e) => (e ? fail(e) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
