/**
 * The simulated cluster: the in-process API server (Store, LogStore, HTTP) with its Job controller
 * and garbage collector, a kubeconfig pointing at it, the project's CRDs installed, and the
 * simulated world (scheduler, kubelets, Kaniko builds, Flux Operator) attached as an API client.
 * startSimControllers runs the same controllers on a bare Store, for their own tests.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { Behaviors, BehaviorsInput } from './behaviors.ts';
import { JobController } from './controllers/jobs.ts';
import { SimRegistry } from './controllers/registry.ts';
import { EventRecorder, type SimContext, SimTimers } from './controllers/runtime.ts';
import { writeSimKubeconfig } from './kubeconfig.ts';
import { LogStore } from './logs.ts';
import { type NodeSpec, type NodeSpecInput, nodeObject } from './nodes.ts';
import { startApiServer } from './server/index.ts';
import type { RequestCounts } from './server/requests.ts';
import { type KubeObject, Store } from './store.ts';
import { storeCluster } from './world/cluster.ts';
import {
  attachWorld,
  resolveBehaviors,
  resolveNodes,
  startWorldControllers,
  type World,
} from './world/index.ts';

export type { Behaviors, BehaviorsInput } from './behaviors.ts';
export { BehaviorsError, loadBehaviors, parseBehaviors } from './behaviors.ts';
export { SimRegistry } from './controllers/registry.ts';
export { waitFor } from './controllers/wait.ts';
export { simKubeconfig, writeSimKubeconfig } from './kubeconfig.ts';
export type { NodeSpec } from './nodes.ts';
export { type RequestCount, RequestCounts } from './server/requests.ts';

export interface SimOptions {
  /** Behaviours as data or a file path; default: the shipped behaviors/default.yaml. */
  behaviors?: BehaviorsInput | Behaviors | string;
  /** Nodes as data or a nodes YAML path; default: two 4-CPU, 16Gi amd64 nodes. */
  nodes?: NodeSpecInput[] | string;
  /** 0 or absent: a free port. */
  port?: number;
  /** Where to write the kubeconfig; default: a file in a fresh temporary directory. */
  kubeconfigPath?: string;
  /** Install crds/*.yaml and the MiniCluster CRD (default true). */
  installCrds?: boolean;
  /**
   * Default: the wall clock. Timestamps then stay in the past for kubectl's AGE columns, and the
   * durations between them shrink with `speed` (use scaledClock from controllers/runtime.ts to
   * stretch them back, at the price of timestamps ahead of the wall clock).
   */
  clock?: () => Date;
  /** Multiplies simulated durations (1 = real time; tests use small values such as 0.001). */
  speed?: number;
}

export interface SimControllersOptions {
  store: Store;
  logs: LogStore;
  behaviors?: BehaviorsInput | Behaviors | string;
  nodes?: NodeSpecInput[] | string;
  clock?: () => Date;
  speed?: number;
}

export interface SimControllers {
  registry: SimRegistry;
  behaviors: Behaviors;
  nodes: NodeSpec[];
  stop(): void;
}

export interface SimCluster {
  url: string;
  kubeconfigPath: string;
  store: Store;
  logs: LogStore;
  /** Images pushed by simulated builds. */
  registry: SimRegistry;
  behaviors: Behaviors;
  nodes: NodeSpec[];
  /** Every request the API server served, by client (User-Agent), verb, resource and code. */
  requests: RequestCounts;
  stop(): Promise<void>;
}

const wallClock = () => new Date();

/** The project's CRDs (crds/*.yaml), found from the source tree or the installed package. */
export function projectCrdPaths(): string[] {
  const directory = fileURLToPath(new URL('../../crds/', import.meta.url));
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => join(directory, file));
}

/** The Flux Operator's MiniCluster CRD, which the simulated cluster ships. */
export function miniClusterCrdPath(): string {
  const candidates = [
    new URL('./crds/minicluster-crd.yaml', import.meta.url),
    new URL('../../src/sim/crds/minicluster-crd.yaml', import.meta.url),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`MiniCluster CRD not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Creates every CustomResourceDefinition in the files (they are served at once). */
export function installCrdFiles(store: Store, paths: string[]): void {
  for (const path of paths) {
    for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const crd = document.toJS() as KubeObject | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      if (
        store.getRaw('apiextensions.k8s.io/v1/customresourcedefinitions', undefined, crd.metadata.name ?? '')
      )
        continue;
      store.create('apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    }
  }
}

/**
 * Registers the nodes and starts the controllers on a Store (no HTTP): the scheduler, one kubelet
 * for all nodes, the Job controller and the Flux Operator.
 */
export function startSimControllers(options: SimControllersOptions): SimControllers {
  const speed = options.speed ?? 1;
  const clock = options.clock ?? wallClock;
  const behaviors = resolveBehaviors(options.behaviors);
  const nodes = resolveNodes(options.nodes);
  const { store, logs } = options;
  const registry = new SimRegistry();
  const timers = new SimTimers(speed);
  const cluster = storeCluster(store);
  const ctx: SimContext = {
    store,
    cluster,
    logs,
    registry,
    behaviors,
    clock,
    timers,
    events: new EventRecorder(cluster, clock),
  };
  nodes.forEach((spec, index) => {
    const node = nodeObject(spec, index, clock()) as unknown as KubeObject;
    const existing = store.getRaw('v1/nodes', undefined, spec.name);
    const created = existing ? structuredClone(existing) : store.create('v1/nodes', node);
    created['status'] = node['status'];
    store.updateStatus('v1/nodes', created);
  });
  const world = startWorldControllers(
    ctx,
    nodes.map((node) => node.name),
  );
  const jobs = new JobController(ctx);
  jobs.start();
  return {
    registry,
    behaviors,
    nodes,
    stop() {
      timers.stop();
      world.stop();
      jobs.stop();
    },
  };
}

/**
 * Starts the API server with its own Job controller and garbage collector (the sim's
 * kube-controller-manager), writes the kubeconfig, installs the CRDs, and attaches the simulated
 * world (scheduler, kubelets, Kaniko, Flux Operator) as a client of the server over HTTP, exactly
 * as it attaches to a real kube-apiserver.
 */
export async function startSimCluster(options: SimOptions = {}): Promise<SimCluster> {
  const speed = options.speed ?? 1;
  const clock = options.clock ?? wallClock;
  const store = new Store({ clock });
  const logs = new LogStore();
  if (options.installCrds ?? true) installCrdFiles(store, [...projectCrdPaths(), miniClusterCrdPath()]);
  const server = await startApiServer({ store, logs, port: options.port ?? 0 });
  let temporary: string | undefined;
  let kubeconfigPath = options.kubeconfigPath;
  if (!kubeconfigPath) {
    temporary = mkdtempSync(join(tmpdir(), 'fractale-sim-'));
    kubeconfigPath = join(temporary, 'kubeconfig');
  }
  const cleanUp = async () => {
    await server.close();
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  };
  let world: World;
  let jobs: JobController;
  const timers = new SimTimers(speed);
  try {
    writeSimKubeconfig(kubeconfigPath, server.url);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    world = await attachWorld({
      kubeConfig,
      behaviors: options.behaviors,
      nodes: options.nodes,
      speed,
      clock,
      logs,
      // The sim's server reads the kubelets' logs in-process.
      kubeletApi: false,
      onError: (what, error) => {
        if (!timers.stopped) console.error(`fractale sim: the world could not ${what}: ${String(error)}`);
      },
    });
    const cluster = storeCluster(store);
    jobs = new JobController({
      store,
      cluster,
      logs,
      registry: world.registry,
      behaviors: world.behaviors,
      clock,
      timers,
      events: new EventRecorder(cluster, clock),
    });
    jobs.start();
  } catch (error) {
    await cleanUp();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    kubeconfigPath,
    store,
    logs,
    registry: world.registry,
    behaviors: world.behaviors,
    nodes: world.nodes,
    requests: server.requests,
    stop() {
      stopped ??= (async () => {
        timers.stop();
        jobs.stop();
        await world.stop();
        await cleanUp();
      })();
      return stopped;
    },
  };
}
