/** A TCP proxy we can cut, to make PostgreSQL "briefly unavailable" for one test only. */
import net from 'node:net';

export interface CuttableProxy {
  port: number;
  /** Drops every connection and refuses new ones until restore(). */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        const pair = [client, upstream];
        for (const s of pair) {
          sockets.add(s);
          // One side gone, both gone, as on a direct connection: a killed client's reset (pipe() forwards only
          // a clean end) otherwise left its PostgreSQL session open, and the presence lock with it.
          s.on('close', () => {
            sockets.delete(s);
            for (const other of pair) other.destroy();
          });
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    restore: listen,
    close: stop,
  };
}
