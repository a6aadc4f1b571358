// The resources the operator reads and writes, and their REST paths.
import { GROUP, VERSION } from '../api/names.ts';

export interface Resource {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const apiVersionOf = (r: Resource) => (r.group ? `${r.group}/${r.version}` : r.version);

/** The REST path of a collection (name absent) or of one object, optionally a subresource. */
export function resourcePath(r: Resource, namespace?: string, name?: string, subresource?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  let path =
    r.namespaced && namespace
      ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`
      : `${base}/${r.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (name && subresource) path += `/${subresource}`;
  return path;
}

export const RESOURCES = {
  agentPlans: { group: GROUP, version: VERSION, plural: 'agentplans', kind: 'AgentPlan', namespaced: true },
  agentSteps: { group: GROUP, version: VERSION, plural: 'agentsteps', kind: 'AgentStep', namespaced: true },
  agentExperiments: {
    group: GROUP,
    version: VERSION,
    plural: 'agentexperiments',
    kind: 'AgentExperiment',
    namespaced: true,
  },
  jobs: { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true },
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  configMaps: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  nodes: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  miniClusters: {
    group: 'flux-framework.org',
    version: 'v1alpha2',
    plural: 'miniclusters',
    kind: 'MiniCluster',
    namespaced: true,
  },
  crds: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
  },
} as const satisfies Record<string, Resource>;
