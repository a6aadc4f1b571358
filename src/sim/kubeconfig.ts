import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export const simContextName = 'fractale-sim';

/**
 * A kubeconfig for the simulated API server. client-node refuses plain `http://` unless the cluster
 * says `insecure-skip-tls-verify: true`; kubectl accepts it and sends no credentials over http.
 */
export function simKubeconfig(url: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: simContextName, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: simContextName, user: { token: 'fractale-sim' } }],
    contexts: [
      { name: simContextName, context: { cluster: simContextName, user: simContextName, namespace } },
    ],
    'current-context': simContextName,
    preferences: {},
  });
}

export function writeSimKubeconfig(path: string, url: string, namespace = 'default'): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, simKubeconfig(url, namespace), { mode: 0o600 });
}
