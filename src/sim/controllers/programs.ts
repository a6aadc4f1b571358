/**
 * What runs inside a simulated container: output over time and how it exits. The kubelet asks
 * each resolver in turn (Kaniko executor, Flux broker) and falls back to the behaviours file's
 * `pods` rules.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { matchBuildRule, matchPodRule, type ProcessRun, processRun, type Workload } from '../behaviors.ts';
import type { KubeObject } from '../store.ts';
import {
  KanikoLayerCache,
  kanikoTranscript,
  locateMountedFile,
  parseKanikoArgs,
  type TimedOutput,
} from './kaniko.ts';
import { parseQuantity } from './quantity.ts';
import { repositoryName, type SimRegistry } from './registry.ts';
import type { WorldContext } from './runtime.ts';

export type TerminationReason = 'Completed' | 'Error' | 'OOMKilled';

export interface ContainerProgram {
  /** Output in order, each piece `at` simulated seconds after the container started. */
  output: TimedOutput[];
  /** How the process ends; absent when it runs until it is killed. */
  exit?: { at: number; exitCode: number; reason: TerminationReason };
  /** Called when the process exits by itself (a build pushes its image here). */
  onExit?: () => void;
  /** What the process wrote to its terminationMessagePath. */
  terminationMessage?: string;
}

export type ProgramResolver = (pod: IPod, container: IContainer) => ContainerProgram | undefined;

function terminationReason(exitCode: number, outcome: ProcessRun['outcome']): TerminationReason {
  if (outcome === 'OOMKilled') return 'OOMKilled';
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Spreads a log over the run, one line at a time, the first line at once. */
export function spreadLog(log: string, seconds: number, startAt = 0): TimedOutput[] {
  if (log === '') return [];
  const lines = log.replace(/\n$/, '').split('\n');
  return lines.map((line, index) => ({ at: startAt + (seconds * index) / lines.length, text: `${line}\n` }));
}

/** A process that does what the run says. */
export function programFromRun(run: ProcessRun): ContainerProgram {
  if (run.outcome === 'Hang') return { output: spreadLog(run.log, run.runSeconds) };
  return {
    output: spreadLog(run.log, run.runSeconds),
    exit: {
      at: run.runSeconds,
      exitCode: run.exitCode,
      reason: terminationReason(run.exitCode, run.outcome),
    },
  };
}

/** A CPU quantity as a number of cores, or undefined when absent or not a quantity. */
function cpus(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  try {
    const value = parseQuantity(quantity);
    return value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A node's allocatable CPUs; without a node, the largest node's (the cluster's nodes are read). */
export function nodeCores(ctx: WorldContext, nodeName: string | undefined): number | undefined {
  const cores = (node: KubeObject | undefined) => {
    const status = (node?.['status'] ?? {}) as {
      allocatable?: Record<string, string | number>;
      capacity?: Record<string, string | number>;
    };
    return cpus(status.allocatable?.['cpu'] ?? status.capacity?.['cpu']);
  };
  if (nodeName) return cores(ctx.cluster.getRaw('v1/nodes', undefined, nodeName));
  const all = ctx.cluster
    .list('v1/nodes')
    .map(cores)
    .filter((value) => value !== undefined);
  return all.length > 0 ? Math.max(...all) : undefined;
}

/** What a container may use: its CPU limit, else its request, else its node's CPUs, else 1. */
export function containerCores(
  ctx: WorldContext,
  resources: { limits?: Record<string, unknown>; requests?: Record<string, unknown> } | undefined,
  nodeName: string | undefined,
): number {
  const quantity = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? cpus(value) : undefined;
  return (
    quantity(resources?.limits?.['cpu']) ??
    quantity(resources?.requests?.['cpu']) ??
    nodeCores(ctx, nodeName) ??
    1
  );
}

/** The environment variables with a value (valueFrom and envFrom are not resolved). */
export function containerEnv(env: IContainer['env']): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of env ?? []) if (variable.value !== undefined) values[variable.name] = variable.value;
  return values;
}

/**
 * What a run's noise is drawn from: its Job and completion index when it has them (a Job's pods are
 * named with a random suffix, and a rerun of the same plan should measure the same), else its pod.
 */
function noiseSeed(pod: IPod | undefined, container: IContainer): string {
  const labels = pod?.metadata?.labels ?? {};
  const job = labels['batch.kubernetes.io/job-name'] ?? labels['job-name'];
  const index = labels['batch.kubernetes.io/job-completion-index'] ?? '';
  const who = job ? `job/${job}/${index}` : (pod?.metadata?.name ?? '');
  return `${pod?.metadata?.namespace ?? ''}/${who}/${container.name}`;
}

/** What a performance model reads of a pod's container, started by itself (one rank unless told). */
export function containerWorkload(ctx: WorldContext, pod: IPod | undefined, container: IContainer): Workload {
  return {
    commandLine: [...(container.command ?? []), ...(container.args ?? [])].join(' '),
    env: containerEnv(container.env),
    cores: containerCores(ctx, container.resources, pod?.spec?.nodeName),
    tasks: 1,
    seed: noiseSeed(pod, container),
  };
}

/**
 * The behaviours file's `pods` rules. A rule's performance model reads the container's command
 * line, environment and CPUs, and its noise the pod's name (without the pod: the largest node's
 * CPUs and no per-pod noise).
 */
export function behaviourProgram(ctx: WorldContext, container: IContainer, pod?: IPod): ContainerProgram {
  const rule = matchPodRule(ctx.behaviors, {
    image: container.image ?? '',
    command: container.command,
    args: container.args,
  });
  return programFromRun(
    processRun(rule, rule?.performance ? containerWorkload(ctx, pod, container) : undefined),
  );
}

/** True when the image is a Kaniko executor under the configured pattern. */
export function isKanikoImage(ctx: WorldContext, image: string): boolean {
  return new RegExp(ctx.behaviors.kanikoImage).test(repositoryName(image));
}

/** Cached layers live beside the pushed images: one cache per simulated registry, gone with it. */
const layerCaches = new WeakMap<SimRegistry, KanikoLayerCache>();

export function kanikoLayerCache(registry: SimRegistry): KanikoLayerCache {
  let cache = layerCaches.get(registry);
  if (!cache) {
    cache = new KanikoLayerCache();
    layerCaches.set(registry, cache);
  }
  return cache;
}

/**
 * The Kaniko executor: reads the Dockerfile through the pod's mounts, lets the first matching
 * `builds` rule decide, reuses the layers earlier builds cached, and pushes its destinations when
 * it succeeds.
 */
export function kanikoResolver(ctx: WorldContext): ProgramResolver {
  const layers = kanikoLayerCache(ctx.registry);
  return (pod, container) => {
    if (!container.image || !isKanikoImage(ctx, container.image) || !pod.spec) return undefined;
    const args = parseKanikoArgs([...(container.command ?? []).slice(1), ...(container.args ?? [])]);
    const location = locateMountedFile(pod.spec, container, args.dockerfile);
    let dockerfile: string | undefined;
    if (location.kind === 'configMap') {
      const configMap = ctx.cluster.getRaw('v1/configmaps', pod.metadata?.namespace, location.configMap);
      const data = configMap?.['data'] as Record<string, string> | undefined;
      dockerfile = data?.[location.key];
    }
    if (dockerfile === undefined) {
      return {
        output: [
          {
            at: 0,
            text: 'Error: error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context with --dockerfile\n',
          },
        ],
        exit: { at: 0, exitCode: 1, reason: 'Error' },
      };
    }
    const text = dockerfile;
    const transcript = kanikoTranscript(text, args, matchBuildRule(ctx.behaviors, text), layers);
    return {
      output: transcript.output,
      exit: {
        at: transcript.exitAt,
        exitCode: transcript.exitCode,
        reason: transcript.exitCode === 0 ? 'Completed' : 'Error',
      },
      onExit: () => {
        // Layers count once the build has exited by itself (a killed build caches none).
        layers.record(transcript);
        for (const destination of transcript.pushed)
          ctx.registry.push(destination, transcript.digest, ctx.clock());
      },
      // The executor writes the digest to --digest-file; pointed at the termination log, it becomes
      // the container's termination message.
      ...(transcript.exitCode === 0 &&
      args.digestFile !== undefined &&
      args.digestFile === (container.terminationMessagePath ?? '/dev/termination-log')
        ? { terminationMessage: transcript.digest }
        : {}),
    };
  };
}
