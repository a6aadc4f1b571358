/**
 * The simulated world as a client of any API server (a real kube-apiserver in the real test lane):
 * it registers simulated Nodes whose kubelet endpoint is this process, runs the scheduler, the
 * kubelet (with Kaniko builds and the Flux Operator's brokers) and the Flux Operator against that
 * server, and serves the kubelet's read API, so `kubectl logs` and the operator's log reads go
 * through kube-apiserver's `pods/log` proxy exactly as on a cluster. It runs no Job controller or
 * garbage collector: the real kube-controller-manager does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  type Behaviors,
  type BehaviorsInput,
  loadBehaviors,
  loadDefaultBehaviors,
  behaviors as validateBehaviors,
} from '../behaviors.ts';
import { FluxOperator, fluxResolver } from '../controllers/flux.ts';
import { Kubelet } from '../controllers/kubelet.ts';
import { kanikoResolver } from '../controllers/programs.ts';
import { SimRegistry } from '../controllers/registry.ts';
import { EventRecorder, SimTimers, type WorldContext } from '../controllers/runtime.ts';
import { Scheduler } from '../controllers/scheduler.ts';
import { containerState, LogStore, logUnavailable, streamLog } from '../logs.ts';
import {
  defaultNodes,
  loadNodes,
  type NodeSpec,
  type NodeSpecInput,
  nodeObject,
  nodeSpecSchema,
} from '../nodes.ts';
import type { KubeObject } from '../store.ts';
import { type RemoteCluster, remoteCluster } from './remote.ts';

export interface WorldOptions {
  kubeConfig: KubeConfig;
  behaviors?: BehaviorsInput | Behaviors | string;
  nodes?: NodeSpecInput[] | string;
  /** Multiplies simulated durations (1 = real time). */
  speed?: number;
  /** Default: the wall clock. */
  clock?: () => Date;
  /**
   * Where the kubelets write container logs; default: a new LogStore. The sim's API server shares
   * its own, so it reads the logs in-process where kube-apiserver proxies to the kubelet.
   */
  logs?: LogStore;
  /**
   * Serve the kubelet's read API over HTTPS and advertise it on the Nodes (default true): what
   * kube-apiserver's `pods/log` proxy needs. The sim's server reads `logs` itself instead.
   */
  kubeletApi?: boolean;
  onError?: (what: string, error: unknown) => void;
}

export interface World {
  registry: SimRegistry;
  behaviors: Behaviors;
  nodes: NodeSpec[];
  logs: LogStore;
  /** The kubelet read API's port on 127.0.0.1 (the Nodes' kubeletEndpoint), when served. */
  kubeletPort: number | undefined;
  stop(): Promise<void>;
}

/** Behaviours as data or a file path; default: the shipped behaviors/default.yaml. */
export function resolveBehaviors(option: BehaviorsInput | Behaviors | string | undefined): Behaviors {
  if (option === undefined) return loadDefaultBehaviors();
  if (typeof option === 'string') return loadBehaviors(option);
  return validateBehaviors(option);
}

/** Nodes as data or a nodes YAML path; default: two 4-CPU, 16Gi amd64 nodes. */
export function resolveNodes(option: NodeSpecInput[] | string | undefined): NodeSpec[] {
  if (option === undefined) return defaultNodes();
  if (typeof option === 'string') return loadNodes(option);
  return option.map((node) => nodeSpecSchema.parse(node));
}

/** The world's controllers on a context: the scheduler, one kubelet for the nodes, the Flux Operator. */
export function startWorldControllers(ctx: WorldContext, nodes: string[]): { stop(): void } {
  const controllers = [
    new Scheduler(ctx),
    new Kubelet(ctx, { nodes, resolvers: [kanikoResolver(ctx), fluxResolver(ctx)] }),
    new FluxOperator(ctx),
  ];
  for (const controller of controllers) controller.start();
  return {
    stop() {
      for (const controller of controllers) controller.stop();
    },
  };
}

/** A self-signed serving certificate for 127.0.0.1 (kube-apiserver does not verify kubelets unless told to). */
function servingCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'fractale-kubelet-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '30',
        '-subj',
        '/CN=fractale-sim-kubelet',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kubelet's read API (`GET /containerLogs/{namespace}/{pod}/{container}`) on 127.0.0.1. */
async function serveKubeletApi(
  cluster: RemoteCluster,
  logs: LogStore,
): Promise<{ port: number; close(): Promise<void> }> {
  const closers = new Set<() => void>();
  const server = createServer(servingCertificate(), (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const pod = match ? cluster.getRaw('v1/pods', match[1], match[2]!) : undefined;
    if (!match || !pod || req.method !== 'GET') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const [, namespace, name, container] = match as unknown as [string, string, string, string];
    const state = containerState(pod, container);
    const problem = logUnavailable(
      logs,
      { namespace, pod: name, container },
      state,
      url.searchParams.get('previous') === 'true',
    );
    if (problem) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(problem);
      return;
    }
    streamLog(
      res,
      logs,
      { namespace, pod: name, container, terminated: state?.['terminated'] !== undefined },
      url.searchParams,
      closers,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const close of [...closers]) close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // kube-apiserver keeps its proxied log connections alive (idle for up to 90 s): close() alone
      // waits for them, and stopping the world then took a minute after many log reads.
      server.closeAllConnections();
      await closed;
    },
  };
}

export async function attachWorld(options: WorldOptions): Promise<World> {
  const behaviors = resolveBehaviors(options.behaviors);
  const nodes = resolveNodes(options.nodes);
  const cluster = remoteCluster(options.kubeConfig, options.onError ? { onError: options.onError } : {});
  await cluster.synced();
  const logs = options.logs ?? new LogStore();
  const clock = options.clock ?? (() => new Date());
  const kubelet = (options.kubeletApi ?? true) ? await serveKubeletApi(cluster, logs) : undefined;

  // Nodes whose kubelet is this process, reached on loopback.
  for (const [index, spec] of nodes.entries()) {
    const node = nodeObject(spec, index, clock()) as unknown as KubeObject;
    const status = node['status'] as Record<string, unknown>;
    status['addresses'] = [{ type: 'InternalIP', address: '127.0.0.1' }];
    if (kubelet) status['daemonEndpoints'] = { kubeletEndpoint: { Port: kubelet.port } };
    cluster.create('v1/nodes', node);
    cluster.updateStatus('v1/nodes', node);
  }

  await cluster.settled();
  // kube-apiserver taints a new Node not-ready; the node lifecycle controller (which this lane does
  // not run: it would expect heartbeats) lifts the taint once the Node reports Ready, as here.
  for (const spec of nodes) {
    const deadline = Date.now() + 30_000;
    let node = cluster.get('v1/nodes', undefined, spec.name);
    while (!node && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      node = cluster.get('v1/nodes', undefined, spec.name);
    }
    if (!node) throw new Error(`Node ${spec.name} did not appear in the API server`);
    const nodeSpec = (node['spec'] ?? {}) as { taints?: { key: string }[] };
    const taints = (nodeSpec.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready');
    if (taints.length !== (nodeSpec.taints ?? []).length) {
      node['spec'] = { ...nodeSpec, taints };
      cluster.update('v1/nodes', node);
    }
  }
  await cluster.settled();

  const registry = new SimRegistry();
  const timers = new SimTimers(options.speed ?? 1);
  const ctx: WorldContext = {
    cluster,
    logs,
    registry,
    behaviors,
    clock,
    timers,
    events: new EventRecorder(cluster, clock),
  };
  const controllers = startWorldControllers(
    ctx,
    nodes.map((n) => n.name),
  );
  return {
    registry,
    behaviors,
    nodes,
    logs,
    kubeletPort: kubelet?.port,
    async stop() {
      timers.stop();
      controllers.stop();
      await cluster.settled();
      cluster.stop();
      await kubelet?.close();
    },
  };
}
