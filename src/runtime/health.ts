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

/** An endpoint's port is taken (or not ours to take): start-up stops with what to change. */
export class EndpointPortError extends Error {
  override name = 'EndpointPortError';
  readonly endpoint: 'health' | 'metrics';
  readonly port: number;
  constructor(endpoint: 'health' | 'metrics', port: number, code: string | undefined) {
    const why =
      code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'is not allowed' : 'cannot be opened';
    super(`port ${port} for the ${endpoint} endpoint ${why} (${code ?? 'error'})`);
    this.endpoint = endpoint;
    this.port = port;
  }
}

function listen(server: Server, port: number, endpoint: 'health' | 'metrics'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new EndpointPortError(endpoint, port, error.code)),
    );
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
  const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
  const healthPort = await listen(health, options.healthPort, 'health');
  // One server when both ports are the same (a single port is simpler behind some proxies).
  const metricsServer =
    options.metricsPort === options.healthPort && options.healthPort !== 0 ? undefined : make();
  let metricsPort = healthPort;
  if (metricsServer) {
    try {
      metricsPort = await listen(metricsServer, options.metricsPort, 'metrics');
    } catch (error) {
      await close(health);
      throw error;
    }
  }
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
