/**
 * A TCP relay in front of a real server (Temporal, PostgreSQL) that a test can cut and restore: `cut()`
 * drops every open connection and refuses new ones, as an outage or a restart does for the clients on the
 * other side; `restore()` accepts again on the same port.
 */
import net from 'node:net';
import { freePort } from './free-port';

export interface TcpProxy {
  /** `127.0.0.1:<port>` of the relay. */
  address: string;
  port: number;
  /** Bytes the clients have sent through the relay so far: whether they called the server at all. */
  bytesFromClients(): number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let bytesFromClients = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let server: net.Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server) return resolve(); // restoring a relay that is up changes nothing
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        track(client);
        track(upstream);
        client.on('data', (chunk: Buffer) => (bytesFromClients += chunk.length));
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const cut = async () => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  return { address: `127.0.0.1:${port}`, port, bytesFromClients: () => bytesFromClients, cut, restore: listen, close: cut };
}
