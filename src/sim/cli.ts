/**
 * `fractale sim`: runs the simulated cluster in the foreground until SIGINT or SIGTERM, with the
 * project's CRDs and the MiniCluster CRD installed, and says how to point kubectl at it.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGISTRY_HOSTING, registryHostingConfigMap } from '../kube/registry-hosting.ts';
import { type SimCluster, startSimCluster } from './index.ts';

/**
 * The registry the sim's Kaniko pushes to and its nodes pull from (any name works in the sim; this
 * is the one the demo's scripted answers name). The sim advertises it as kube-public/
 * local-registry-hosting, so `fractale operator` without --registry builds there.
 */
export const SIM_REGISTRY = 'registry.fractale.demo:5000';

const fromPackage = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
/** In a checkout (sources run directly) the command is `npx fractale`; installed, `fractale`. */
export const FRACTALE = import.meta.url.endsWith('.ts') ? 'npx fractale' : 'fractale';

export interface SimCommandOptions {
  behaviors?: string;
  kubeconfigOut?: string;
  port?: number;
  nodes?: string;
  /** Multiplies simulated durations (default 1: a pull takes its `pullSeconds`, a run its `runSeconds`). */
  speed?: number;
  /** Where to print (default: stdout). */
  print?: (line: string) => void;
  /** Resolves to stop the cluster (default: the first SIGINT or SIGTERM). */
  until?: Promise<unknown>;
}

function untilSignal(): Promise<string> {
  return new Promise((done) => {
    const onSignal = (signal: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      done(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Starts the cluster, prints how to use it, and stops it cleanly when told to. */
export async function runSimCommand(options: SimCommandOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cluster: SimCluster = await startSimCluster({
    behaviors: options.behaviors ? resolve(options.behaviors) : undefined,
    nodes: options.nodes ? resolve(options.nodes) : undefined,
    kubeconfigPath: options.kubeconfigOut ? resolve(options.kubeconfigOut) : undefined,
    port: options.port,
    speed: options.speed,
  });
  const stopping = options.until ?? untilSignal();
  const crds = cluster.store
    .list('apiextensions.k8s.io/v1/customresourcedefinitions')
    .items.map((crd) => crd.metadata.name)
    .join(', ');
  print(`Simulated Kubernetes API server listening on ${cluster.url}`);
  print(
    `Nodes: ${cluster.nodes.map((node) => `${node.name} (${node.cpu} CPU, ${node.memory}, ${node.arch})`).join(', ')}`,
  );
  print(`CRDs installed: ${crds || 'none'}`);
  print(
    `Behaviours: ${options.behaviors ? resolve(options.behaviors) : 'the shipped behaviors/default.yaml'}`,
  );
  cluster.store.create(
    'v1/configmaps',
    registryHostingConfigMap(
      SIM_REGISTRY,
      'fractale sim: any image pushed here can be pulled by the nodes',
    ) as unknown as Parameters<typeof cluster.store.create>[1],
  );
  print(
    `Registry: builds push to ${SIM_REGISTRY} (advertised in ${REGISTRY_HOSTING.namespace}/${REGISTRY_HOSTING.name}, which fractale operator reads)`,
  );
  const speed = options.speed ?? 1;
  print(
    speed === 1
      ? 'Time: real time (--speed 1), so a LAMMPS build attempt takes about 45 s; --speed 0.05 runs 20x faster, as the demo does'
      : `Time: --speed ${speed} multiplies every simulated duration (a LAMMPS build attempt takes about ${Math.max(1, Math.round(45 * speed))} s instead of 45 s)`,
  );
  print('Point kubectl at it with:');
  print(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
  print('  kubectl get nodes');
  print("Run the operator with the demo's scripted model (no API key), in another terminal:");
  print(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
  print(`  ${FRACTALE} operator --provider scripted --script ${fromPackage('demo/run-lammps.script.yaml')}`);
  print('Then apply a plan and watch its steps:');
  print(`  kubectl apply -f ${fromPackage('plans/run-lammps.yaml')}`);
  print('  kubectl get agentsteps -w');
  print('Press Ctrl+C to stop.');
  try {
    await stopping;
  } finally {
    await cluster.stop();
    print('Simulated cluster stopped');
  }
}
