// The registry a cluster advertises for local development: the ConfigMap kube-public/
// local-registry-hosting of KEP-1755 (kind's local-registry guide creates it, and so does
// `fractale sim`). `fractale operator` without --registry pushes builds there.
import { parse, stringify } from 'yaml';
import type { KubeClient, KubeObject } from './client.ts';
import { RESOURCES } from './resources.ts';

export const REGISTRY_HOSTING = {
  namespace: 'kube-public',
  name: 'local-registry-hosting',
  key: 'localRegistryHosting.v1',
} as const;

type ConfigMap = KubeObject & { apiVersion: string; kind: string; data?: Record<string, string> };

/** The ConfigMap advertising `host` to pods (Kaniko pushes there) and to nodes (they pull from it). */
export function registryHostingConfigMap(host: string, help: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: REGISTRY_HOSTING.name, namespace: REGISTRY_HOSTING.namespace },
    data: {
      [REGISTRY_HOSTING.key]: stringify({
        host,
        hostFromContainerRuntime: host,
        hostFromClusterNetwork: host,
        help,
      }),
    },
  };
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._/-]+)?$/;

/**
 * The registry pods push to, as the cluster advertises it (hostFromClusterNetwork, else host), or
 * undefined when there is no such ConfigMap, it cannot be read, or it holds no usable host.
 */
export async function advertisedRegistry(client: KubeClient): Promise<string | undefined> {
  let configMap: ConfigMap | undefined;
  try {
    configMap = await client.find<ConfigMap>(
      RESOURCES.configMaps,
      REGISTRY_HOSTING.namespace,
      REGISTRY_HOSTING.name,
    );
  } catch {
    // Forbidden or unreachable: no advertisement, as on most clusters.
    return undefined;
  }
  const text = configMap?.data?.[REGISTRY_HOSTING.key];
  if (!text) return undefined;
  let hosting: unknown;
  try {
    hosting = parse(text);
  } catch {
    return undefined;
  }
  if (!hosting || typeof hosting !== 'object') return undefined;
  const { hostFromClusterNetwork, host } = hosting as Record<string, unknown>;
  const chosen = typeof hostFromClusterNetwork === 'string' ? hostFromClusterNetwork : host;
  return typeof chosen === 'string' && HOST.test(chosen) ? chosen : undefined;
}
