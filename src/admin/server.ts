/**
 * Listening for the admin app (./app.ts), kept apart from building it. `listenAdmin` resolves once the port is
 * bound (port 0 lets the OS choose, for tests) and `close()` ends it, including idle keep-alive connections,
 * so a stopping server or a finishing test is not held open.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminApp } from './app.ts';

export interface AdminServer {
  server: Server;
  /** The bound address, e.g. `{ address: '127.0.0.1', port: 8081 }`. */
  address: AddressInfo;
  /** `http://host:port` of the bound socket (IPv6 in brackets). */
  url: string;
  close(): Promise<void>;
}

export function listenAdmin(app: AdminApp, host: string, port: number): Promise<AdminServer> {
  const server = createServer((req, res) => {
    void app.handle(req, res);
  });
  // Slow or stuck clients must not pin sockets: bound the time to send headers and the whole request.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        address,
        url: `http://${h}:${address.port}`,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((e) => (e ? fail(e) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
