// A TCP proxy in front of the API server whose connections a test can cut, to see how clients
// survive a watch the network (or the server) drops.

import type { AddressInfo } from 'node:net';
import { createServer, type Server, Socket } from 'node:net';

export interface CuttableProxy {
  url: string;
  /** Destroys every open connection; new ones are accepted. */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    // The proxy passes TLS through: it speaks the target's scheme.
    url: `${new URL(target).protocol}//127.0.0.1:${address.port}`,
    cutAll: () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
