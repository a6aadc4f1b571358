// The operator's HTTP endpoints: /healthz (the process is alive), /readyz (informers synced and the
// controllers running, or standing by as a non-leader), and /metrics (Prometheus).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface Probes {
  healthy: () => boolean;
  ready: () => boolean;
}

export interface Endpoints {
  healthPort: number;
  metricsPort: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function serveEndpoints(options: {
  healthPort: number;
  metricsPort: number;
  probes: Probes;
  metrics: Metrics;
}): Promise<Endpoints> {
  const { probes, metrics } = options;
  const handler = async (path: string): Promise<[number, string, string]> => {
    if (path === '/healthz')
      return probes.healthy() ? [200, 'text/plain', 'ok'] : [500, 'text/plain', 'unhealthy'];
    if (path === '/readyz')
      return probes.ready() ? [200, 'text/plain', 'ok'] : [503, 'text/plain', 'not ready'];
    if (path === '/metrics') return [200, metrics.registry.contentType, await metrics.registry.metrics()];
    return [404, 'text/plain', 'not found'];
  };
  const make = () =>
    createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      handler(path).then(
        ([code, type, body]) => {
          res.writeHead(code, { 'Content-Type': type });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  const health = make();
  const healthPort = await listen(health, options.healthPort);
  // One server when both ports are the same (a single port is simpler behind some proxies).
  const metricsServer =
    options.metricsPort === options.healthPort && options.healthPort !== 0 ? undefined : make();
  const metricsPort = metricsServer ? await listen(metricsServer, options.metricsPort) : healthPort;
  const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    healthPort,
    metricsPort,
    close: async () => {
      health.closeAllConnections();
      metricsServer?.closeAllConnections();
      await Promise.all([close(health), ...(metricsServer ? [close(metricsServer)] : [])]);
    },
  };
}
