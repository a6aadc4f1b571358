// The real lane's cluster: the control plane started by control-plane.setup.ts, reached with its
// admin kubeconfig, and a raw JSON request for bodies the typed client would reshape.
import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';

export const realKubeconfig = (): string => inject('realKubeconfig');

export function realKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(realKubeconfig());
  return kc;
}

/**
 * Sends `body` as JSON exactly as given (client-node's typed APIs serialise through their models,
 * which rename or drop fields such as `x-kubernetes-preserve-unknown-fields`).
 */
export async function rawRequest(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const kc = realKubeConfig();
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: Parameters<typeof request>[1] = {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  return await new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => {
        let body: Record<string, unknown>;
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          body = { message: text };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
