import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** A TCP proxy that a test can cut, as a database restart or a network fault would, and restore. */
export interface CuttableProxy {
  /** The loopback port it listens on; it keeps this port across a cut. */
  readonly port: number;
  /** Drops every proxied connection and refuses new ones until `restore`. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Proxies a free port on 127.0.0.1 to `target`. */
export async function cuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = async () => {
    if (server) return;
    const s = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const end of [client, upstream]) {
        sockets.add(end);
        end.on('close', () => sockets.delete(end));
        end.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    // Listening again on the same port, so clients that reconnect find it (nothing else takes a
    // loopback port freed for a few seconds in a test run).
    await new Promise<void>((ready, fail) => s.once('error', fail).listen(port, '127.0.0.1', () => ready()));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    // With the server closed, a new connection is refused (ECONNREFUSED), as by a stopped database.
    if (s) await new Promise<void>((done) => s.close(() => done()));
  };
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
