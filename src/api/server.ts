import http from 'node:http';
import type Koa from 'koa';

export interface RunningServer {
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (up to a grace period), then resolves. */
  close(): Promise<void>;
}

export async function listen(app: Koa, options: { host: string; port: number }): Promise<RunningServer> {
  const server = http.createServer(app.callback());
  // Slowloris protection: a client gets a bounded time to send its headers and body.
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
