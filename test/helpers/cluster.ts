// The cluster an end-to-end suite runs against, by lane (docs/testing.md): the simulated cluster in
// the sim lane; in the real lane, the run's real control plane (kube-apiserver, etcd, the real Job
// controller and garbage collector) with the simulated world attached, and the test namespace
// emptied first so each test starts as on a fresh cluster.

import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { inject, it } from 'vitest';
import { parse } from 'yaml';
import { ApiError, KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES, type Resource } from '../../src/kube/resources.ts';
import { Informer, type InformerEvent } from '../../src/runtime/informer.ts';
import type { Behaviors } from '../../src/sim/behaviors.ts';
import type { SimRegistry } from '../../src/sim/controllers/registry.ts';
import {
  miniClusterCrdPath,
  projectCrdPaths,
  type SimOptions,
  startSimCluster,
} from '../../src/sim/index.ts';
import type { NodeSpec } from '../../src/sim/nodes.ts';
import type { Store } from '../../src/sim/store.ts';
import { attachWorld } from '../../src/sim/world/index.ts';

export type Lane = 'sim' | 'real';
export const LANE: Lane = process.env['FRACTALE_TEST_LANE'] === 'real' ? 'real' : 'sim';

/** A test that reads the sim's own Store (its internals): run in the sim lane only. */
export const simOnly = (name: string, fn: () => Promise<void> | void, timeout?: number) =>
  it.skipIf(LANE === 'real')(`${name} [sim only]`, fn, timeout);

export interface TestCluster {
  lane: Lane;
  kubeconfigPath: string;
  /** Images the world's Kaniko builds pushed. */
  registry: SimRegistry;
  /** The behaviours in force (a test may change them). */
  behaviors: Behaviors;
  nodes: NodeSpec[];
  /** The sim's Store, in the sim lane only. */
  store?: Store;
  /** Watches a resource through the API server (either lane); returns what stops it. */
  watch(resource: Resource, listener: (event: InformerEvent, object: KubeObject) => void): () => void;
  stop(): Promise<void>;
}

function apiWatcher(kubeconfigPath: string) {
  return (resource: Resource, listener: (event: InformerEvent, object: KubeObject) => void) => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const informer = new Informer<KubeObject>(kubeConfig, { resource });
    informer.on((event, object) => listener(event, object));
    void informer.start();
    return () => informer.stop();
  };
}

const NAMESPACED = [
  '/apis/fractale.dev/v1alpha1/namespaces/default/agentexperiments',
  '/apis/fractale.dev/v1alpha1/namespaces/default/agentplans',
  '/apis/fractale.dev/v1alpha1/namespaces/default/agentsteps',
  '/apis/batch/v1/namespaces/default/jobs',
  '/apis/flux-framework.org/v1alpha2/namespaces/default/miniclusters',
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/services',
  '/api/v1/namespaces/default/events',
  '/apis/coordination.k8s.io/v1/namespaces/default/leases',
];

/** Empties the default namespace of what the suites make, and waits until it is gone. */
async function emptyDefaultNamespace(client: KubeClient): Promise<void> {
  const remove = async (path: string, query: Record<string, string>) => {
    try {
      await client.request('DELETE', path, { query: { propagationPolicy: 'Background', ...query } });
    } catch {
      // A kind that is not served (no MiniCluster CRD) has nothing to remove.
    }
  };
  for (const path of NAMESPACED)
    await remove(path, path.endsWith('/pods') ? { gracePeriodSeconds: '0' } : {});
  // Every ConfigMap and Secret the suites made; the namespace's own stay.
  await remove('/api/v1/namespaces/default/configmaps', { fieldSelector: 'metadata.name!=kube-root-ca.crt' });
  await remove('/api/v1/namespaces/default/secrets', {});
  const deadline = Date.now() + 60_000;
  for (const path of [...NAMESPACED.slice(0, 5), '/api/v1/namespaces/default/configmaps']) {
    for (;;) {
      let left: { metadata: { name?: string } }[] = [];
      try {
        left = (await client.request<{ items: { metadata: { name?: string } }[] }>('GET', path)).items.filter(
          (o) => o.metadata.name !== 'kube-root-ca.crt',
        );
      } catch {
        break;
      }
      if (left.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(`${path} still holds ${left.map((o) => o.metadata.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The CRDs the sim installs by default (the project's and the Flux Operator's), once Established. */
async function installCrds(client: KubeClient): Promise<void> {
  const paths = [...projectCrdPaths(), miniClusterCrdPath()];
  const names: string[] = [];
  for (const path of paths) {
    const crd = parse(readFileSync(path, 'utf8'));
    names.push(crd.metadata.name);
    try {
      await client.create(RESOURCES.crds, crd);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const crd = await client.find<
        KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
      >(RESOURCES.crds, undefined, name);
      if (crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not Established in 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A cluster without the project's CRDs (or the Flux Operator's), as the sim's installCrds: false. */
async function removeCrds(client: KubeClient): Promise<void> {
  const names = [...projectCrdPaths(), miniClusterCrdPath()].map(
    (p) => parse(readFileSync(p, 'utf8')).metadata.name,
  );
  for (const name of names) {
    try {
      await client.delete(RESOURCES.crds, undefined, name);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    while (await client.find(RESOURCES.crds, undefined, name)) {
      if (Date.now() > deadline) throw new Error(`CRD ${name} was not removed in 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Whether an AgentStep exists, read through the API server (either lane). */
export async function stepExists(
  cluster: TestCluster,
  name: string,
  namespace = 'default',
): Promise<boolean> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  return (await new KubeClient(kubeConfig).find(RESOURCES.agentSteps, namespace, name)) !== undefined;
}

export async function startTestCluster(options: SimOptions = {}): Promise<TestCluster> {
  if (LANE === 'sim') {
    const sim = await startSimCluster(options);
    return { lane: 'sim', ...sim, watch: apiWatcher(sim.kubeconfigPath), stop: () => sim.stop() };
  }
  const kubeconfigPath = inject('realKubeconfig');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const client = new KubeClient(kubeConfig);
  await emptyDefaultNamespace(client);
  if (options.installCrds ?? true) await installCrds(client);
  else await removeCrds(client);
  const world = await attachWorld({
    kubeConfig,
    ...(options.behaviors !== undefined ? { behaviors: options.behaviors } : {}),
    ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
    speed: options.speed ?? 1,
  });
  return {
    lane: 'real',
    kubeconfigPath,
    registry: world.registry,
    behaviors: world.behaviors,
    nodes: world.nodes,
    watch: apiWatcher(kubeconfigPath),
    stop: () => world.stop(),
  };
}
