/**
 * `fractale sim`: runs the simulated cluster in the foreground until SIGINT or SIGTERM, with the
 * project's CRDs and the MiniCluster CRD installed, and says how to point kubectl at it.
 */
import { resolve } from 'node:path';
import { type SimCluster, startSimCluster } from './index.ts';

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
  print('Point kubectl at it with:');
  print(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
  print('  kubectl get nodes');
  print('Press Ctrl+C to stop.');
  try {
    await stopping;
  } finally {
    await cluster.stop();
    print('Simulated cluster stopped');
  }
}
