import { createServer, type IncomingHttpHeaders } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from './client.ts';
import { RESOURCES } from './resources.ts';

let close: (() => void) | undefined;
afterEach(() => close?.());

/** A server that records the headers of each request and answers an empty list. */
async function recordingServer(): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => server.close();
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, seen };
}

function config(url: string, user: { token?: string; username?: string; password?: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('KubeClient credentials', () => {
  // A real API server answers a request without them as system:anonymous, which RBAC forbids.
  it('sends the kubeconfig bearer token', async () => {
    const { url, seen } = await recordingServer();
    await new KubeClient(config(url, { token: 'secret-token' })).list(RESOURCES.configMaps, 'default');
    expect(seen[0]?.authorization).toBe('Bearer secret-token');
    expect(seen[0]?.accept).toBe('application/json');
  });

  it('sends basic credentials', async () => {
    const { url, seen } = await recordingServer();
    await new KubeClient(config(url, { username: 'admin', password: 'pw' })).list(
      RESOURCES.configMaps,
      'default',
    );
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('admin:pw').toString('base64')}`);
  });
});
