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

describe('KubeClient connections', () => {
  it('reuses one kept-alive connection for its requests', async () => {
    const sockets = new Set<unknown>();
    const server = createServer((req, res) => {
      sockets.add(req.socket);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    const address = server.address();
    const kc = config(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, {
      token: 't',
    });
    // Two clients on one KubeConfig share its pool.
    for (const client of [new KubeClient(kc), new KubeClient(kc)])
      for (let i = 0; i < 3; i++) await client.list(RESOURCES.configMaps, 'default');
    expect(sockets.size).toBe(1);
    server.closeAllConnections();
  });

  it('gives up on a request with no answer, naming it, so the reconcile fails and is retried', async () => {
    const server = createServer(() => {
      // Never answers (a connection that died without a word).
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => {
      server.closeAllConnections();
      server.close();
    };
    const address = server.address();
    const kc = config(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, {
      token: 't',
    });
    const client = new KubeClient(kc, { requestTimeoutMs: 200 });
    await expect(client.get(RESOURCES.configMaps, 'default', 'x')).rejects.toThrow(
      'GET /api/v1/namespaces/default/configmaps/x: no answer from the API server within 0.2 s',
    );
  });
});
