/**
 * A model of the Flux Operator: a MiniCluster (flux-framework.org/v1alpha2) becomes an Indexed
 * Job of the same name (completions = parallelism = spec.size, restartPolicy OnFailure, the
 * flux-view init container, pods labelled as the operator labels them). The lead broker (index 0)
 * runs the first container's command under the behaviours file's pod rules (a performance model
 * counts spec.tasks ranks on size brokers' CPUs); the other brokers print a short log and exit 0.
 * The MiniCluster's status carries size, maximumSize, selector and the Job's conditions.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { matchPodRule, processRun } from '../behaviors.ts';
import type { KubeObject, WatchEvent } from '../store.ts';
import { jobLabels } from './jobs.ts';
import {
  type ContainerProgram,
  containerCores,
  containerEnv,
  type ProgramResolver,
  programFromRun,
  spreadLog,
} from './programs.ts';
import { controllerOf, objectKey, splitKey, timestamp, WorkQueue, type WorldContext } from './runtime.ts';

export const miniClusterResource = 'flux-framework.org/v1alpha2/miniclusters';
const defaultFluxView = 'ghcr.io/converged-computing/flux-view-ubuntu:tag-noble';

interface MiniClusterContainer {
  name?: string;
  image?: string;
  command?: string;
  workingDir?: string;
  imagePullPolicy?: string;
  pullAlways?: boolean;
  environment?: Record<string, string>;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  runFlux?: boolean;
  securityContext?: IContainer['securityContext'];
}

interface MiniClusterSpec {
  size?: number;
  maxSize?: number;
  tasks?: number;
  backoffLimit?: number;
  deadlineSeconds?: number;
  containers?: MiniClusterContainer[];
  jobLabels?: Record<string, string>;
  flux?: {
    container?: {
      image?: string;
      name?: string;
      mountPath?: string;
      securityContext?: IContainer['securityContext'];
    };
  };
  network?: { headlessName?: string };
  pod?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    nodeSelector?: Record<string, string>;
    serviceAccountName?: string;
    restartPolicy?: string;
    securityContext?: { fsGroup?: number; [field: string]: unknown };
  };
}

/** The command of a MiniCluster container, split as the wrapper script passes it to `flux submit`. */
function commandWords(command: string | undefined): string[] {
  return (command ?? '').trim().split(/\s+/).filter(Boolean);
}

/** The Indexed Job the operator creates for a MiniCluster. */
export function miniClusterJob(miniCluster: KubeObject): KubeObject {
  const name = miniCluster.metadata.name ?? '';
  const namespace = miniCluster.metadata.namespace ?? 'default';
  const spec = (miniCluster['spec'] ?? {}) as MiniClusterSpec;
  const size = spec.size ?? 1;
  const fluxContainer = spec.flux?.container ?? {};
  const mountPath = fluxContainer.mountPath ?? '/mnt/flux';
  const podLabels = {
    ...(spec.pod?.labels ?? {}),
    namespace,
    app: 'flux-operator',
    'app.kubernetes.io/name': name,
    'hpa-selector': name,
  };
  const containers = (spec.containers ?? []).map((container, index): IContainer => {
    const runFlux = container.runFlux ?? (spec.containers ?? []).length === 1;
    const pullPolicy = (
      container.pullAlways ? 'Always' : (container.imagePullPolicy ?? 'IfNotPresent')
    ) as IContainer['imagePullPolicy'];
    return {
      name: runFlux ? name : (container.name ?? `${name}-${index}`),
      image: container.image ?? '',
      imagePullPolicy: pullPolicy,
      command: [
        '/bin/bash',
        runFlux ? `/flux_operator/wait-${index}.sh` : `/flux_operator/start-${index}.sh`,
      ],
      ...(container.workingDir ? { workingDir: container.workingDir } : {}),
      ...(container.resources ? { resources: container.resources } : {}),
      env: Object.entries(container.environment ?? {}).map(([key, value]) => ({ name: key, value })),
      volumeMounts: [
        { name: 'flux-view', mountPath },
        { name: `${name}-entrypoint`, mountPath: '/flux_operator', readOnly: true },
      ],
      stdin: true,
      tty: true,
      // As the Flux Operator does: each container's securityContext is passed as it is.
      ...(container.securityContext ? { securityContext: container.securityContext } : {}),
    };
  });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace,
      ...(spec.jobLabels ? { labels: spec.jobLabels } : {}),
      ownerReferences: [
        {
          apiVersion: miniCluster.apiVersion,
          kind: miniCluster.kind,
          name,
          uid: miniCluster.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      backoffLimit: spec.backoffLimit || 100,
      completions: size,
      parallelism: size,
      completionMode: 'Indexed',
      activeDeadlineSeconds: spec.deadlineSeconds ?? 31500000,
      template: {
        metadata: {
          name,
          namespace,
          labels: podLabels,
          ...(spec.pod?.annotations ? { annotations: spec.pod.annotations } : {}),
        },
        spec: {
          subdomain: spec.network?.headlessName ?? name,
          setHostnameAsFQDN: false,
          restartPolicy: spec.pod?.restartPolicy ?? 'OnFailure',
          ...(spec.pod?.nodeSelector ? { nodeSelector: spec.pod.nodeSelector } : {}),
          ...(spec.pod?.serviceAccountName ? { serviceAccountName: spec.pod.serviceAccountName } : {}),
          // Of the pod's securityContext the Flux Operator passes fsGroup alone (controllers/flux/job.go).
          ...(spec.pod?.securityContext && Object.keys(spec.pod.securityContext).length > 0
            ? {
                securityContext:
                  spec.pod.securityContext.fsGroup === undefined
                    ? {}
                    : { fsGroup: spec.pod.securityContext.fsGroup },
              }
            : {}),
          volumes: [
            { name: 'flux-view', emptyDir: {} },
            { name: `${name}-entrypoint`, configMap: { name: `${name}-entrypoint`, defaultMode: 0o777 } },
          ],
          initContainers: [
            {
              name: fluxContainer.name ?? 'flux-view',
              image: fluxContainer.image ?? defaultFluxView,
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/bash', '/flux_operator/flux-init.sh'],
              volumeMounts: [
                { name: 'flux-view', mountPath },
                { name: `${name}-entrypoint`, mountPath: '/flux_operator', readOnly: true },
              ],
              ...(fluxContainer.securityContext ? { securityContext: fluxContainer.securityContext } : {}),
            },
          ],
          containers,
        },
      },
    },
  };
}

/** The entrypoint ConfigMap the broker pods mount; the wait script wraps the user's command. */
export function miniClusterEntrypoint(miniCluster: KubeObject): KubeObject {
  const name = miniCluster.metadata.name ?? '';
  const spec = (miniCluster['spec'] ?? {}) as MiniClusterSpec;
  const data: Record<string, string> = {
    'flux-init.sh':
      '#!/bin/sh\n# Copy the flux view into the shared volume\ncp -R /opt/view/* /mnt/flux/view/\n',
  };
  (spec.containers ?? []).forEach((container, index) => {
    const tasks = spec.tasks ?? 1;
    data[`wait-${index}.sh`] =
      '#!/bin/sh\n' +
      `# Lead broker: start flux with ${spec.size ?? 1} brokers and run the application\n` +
      `flux start -o --config /mnt/flux/view/etc/flux/config flux submit -N ${spec.size ?? 1} -n ${tasks} --quiet --watch ${container.command ?? ''}\n`;
  });
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${name}-entrypoint`,
      namespace: miniCluster.metadata.namespace,
      ownerReferences: [
        {
          apiVersion: miniCluster.apiVersion,
          kind: miniCluster.kind,
          name,
          uid: miniCluster.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data,
  };
}

/** The headless Service that gives the brokers their DNS names (`<pod hostname>.<service>`). */
export function miniClusterService(miniCluster: KubeObject): KubeObject {
  const name = miniCluster.metadata.name ?? '';
  const spec = (miniCluster['spec'] ?? {}) as MiniClusterSpec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: spec.network?.headlessName ?? name,
      namespace: miniCluster.metadata.namespace,
      ownerReferences: [
        {
          apiVersion: miniCluster.apiVersion,
          kind: miniCluster.kind,
          name,
          uid: miniCluster.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { clusterIP: 'None', selector: { 'job-name': name } },
  };
}

export class FluxOperator {
  readonly #ctx: WorldContext;
  readonly #queue: WorkQueue;
  readonly #unwatch: (() => void)[] = [];
  #watchingMiniClusters = false;

  constructor(ctx: WorldContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key));
  }

  start(): void {
    const { cluster } = this.#ctx;
    this.#unwatch.push(
      cluster.watch('apiextensions.k8s.io/v1/customresourcedefinitions', () =>
        queueMicrotask(() => this.#watchIfServed()),
      ),
      cluster.watch('batch/v1/jobs', (event) => this.#onJob(event)),
    );
    this.#watchIfServed();
  }

  stop(): void {
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    this.#queue.stop();
  }

  /** The MiniCluster kind exists only once its CRD is installed. */
  #watchIfServed(): void {
    if (this.#watchingMiniClusters || this.#ctx.timers.stopped) return;
    if (!this.#ctx.cluster.serves('miniclusters', 'flux-framework.org')) return;
    this.#watchingMiniClusters = true;
    this.#unwatch.push(
      this.#ctx.cluster.watch(miniClusterResource, (event) => {
        if (event.type !== 'DELETED') this.#queue.add(objectKey(event.object));
      }),
    );
  }

  #onJob(event: WatchEvent): void {
    const owner = controllerOf(event.object);
    if (owner?.kind === 'MiniCluster') this.#queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  }

  #sync(key: string): void {
    const { cluster, clock } = this.#ctx;
    if (!cluster.serves('miniclusters', 'flux-framework.org')) return;
    const { namespace, name } = splitKey(key);
    const miniCluster = cluster.get(miniClusterResource, namespace, name);
    if (!miniCluster || miniCluster.metadata.deletionTimestamp) return;
    const spec = (miniCluster['spec'] ?? {}) as MiniClusterSpec;
    // The operator refuses a MiniCluster without nodes or containers and does nothing with it.
    if (!spec.size || (spec.containers ?? []).length === 0) return;
    if (!cluster.getRaw('v1/configmaps', namespace, `${name}-entrypoint`)) {
      cluster.create('v1/configmaps', miniClusterEntrypoint(miniCluster));
    }
    const service = miniClusterService(miniCluster);
    if (!cluster.getRaw('v1/services', namespace, service.metadata.name ?? ''))
      cluster.create('v1/services', service);
    const job = cluster.getRaw('batch/v1/jobs', namespace, name);
    if (!job) {
      // The Job's own event brings the MiniCluster back once it exists.
      cluster.create('batch/v1/jobs', miniClusterJob(miniCluster));
      return;
    }
    if (controllerOf(job)?.uid !== miniCluster.metadata.uid) return;
    const jobStatus = (job['status'] ?? {}) as { conditions?: Record<string, unknown>[] };
    const previous = (miniCluster['status'] ?? {}) as Record<string, unknown>;
    const previousConditions = (previous['conditions'] ?? []) as Record<string, unknown>[];
    const now = timestamp(clock());
    const conditions = (jobStatus.conditions ?? []).map((condition) => {
      const before = previousConditions.find((existing) => existing['type'] === condition['type']);
      return {
        type: condition['type'],
        status: condition['status'],
        reason: condition['reason'] || String(condition['type']),
        message: condition['message'] ?? '',
        lastTransitionTime:
          before && before['status'] === condition['status']
            ? before['lastTransitionTime']
            : (condition['lastTransitionTime'] ?? now),
        observedGeneration: miniCluster.metadata.generation ?? 1,
      };
    });
    const maximumSize =
      (previous['maximumSize'] as number | undefined) || Math.max(spec.size, spec.maxSize ?? 0);
    const status = {
      jobid: (previous['jobid'] as string | undefined) ?? '',
      size: spec.size,
      maximumSize,
      selector: `hpa-selector=${name}`,
      conditions,
    };
    if (JSON.stringify(status) === JSON.stringify(previous)) return;
    miniCluster['status'] = status;
    cluster.updateStatus(miniClusterResource, miniCluster);
  }
}

/**
 * What runs in a MiniCluster's pods: the flux-view init container copies the view; the lead
 * broker runs the application under the behaviours file; the other brokers join and leave.
 */
export function fluxResolver(ctx: WorldContext): ProgramResolver {
  return (pod: IPod, container: IContainer): ContainerProgram | undefined => {
    const jobOwner = controllerOf(pod as unknown as KubeObject);
    if (jobOwner?.kind !== 'Job') return undefined;
    const namespace = pod.metadata?.namespace;
    const job = ctx.cluster.getRaw('batch/v1/jobs', namespace, jobOwner.name);
    const owner = job ? controllerOf(job) : undefined;
    if (!job || owner?.kind !== 'MiniCluster' || !ctx.cluster.serves('miniclusters', 'flux-framework.org')) {
      return undefined;
    }
    const miniCluster = ctx.cluster.getRaw(miniClusterResource, namespace, owner.name);
    if (!miniCluster) return undefined;
    const spec = (miniCluster['spec'] ?? {}) as MiniClusterSpec;
    if ((pod.spec?.initContainers ?? []).some((init) => init.name === container.name)) {
      return {
        output: spreadLog('🌀 Copying flux view into /mnt/flux/view\n✅ Flux view is ready', 1),
        exit: { at: 1, exitCode: 0, reason: 'Completed' },
      };
    }
    const index = Number(pod.metadata?.labels?.[jobLabels.completionIndex] ?? '0');
    const position = (pod.spec?.containers ?? []).findIndex((candidate) => candidate.name === container.name);
    const application = spec.containers?.[position];
    const size = spec.size ?? 1;
    const hosts = size > 1 ? `${owner.name}-[0-${size - 1}]` : `${owner.name}-0`;
    const brokerStart = `broker.info[${index}]: start: none->join 0.05s\nbroker.info[${index}]: parent-ready: join->init 0.01s\n`;
    if (index !== 0 || !application) {
      const run = {
        outcome: 'Succeeded' as const,
        exitCode: 0,
        log: `${brokerStart}broker.info[${index}]: shutdown: finalize->goodbye 0.01s`,
        runSeconds: 2,
      };
      return programFromRun(run);
    }
    const words = commandWords(application.command);
    const rule = matchPodRule(ctx.behaviors, { image: container.image ?? '', command: words });
    // A performance model sees the application as flux submit starts it: spec.tasks ranks over the
    // brokers' CPUs (each broker's limit, else request, else its node's, times size).
    const workload = rule?.performance
      ? {
          commandLine: words.join(' '),
          env: containerEnv(container.env),
          cores: containerCores(ctx, container.resources, pod.spec?.nodeName) * size,
          tasks: spec.tasks ?? 1,
          seed: `${namespace ?? ''}/${pod.metadata?.name ?? ''}/${container.name}`,
        }
      : undefined;
    const run = processRun(rule, workload);
    const header =
      `🌀 flux start -o --config /mnt/flux/view/etc/flux/config -Stbon.fanout=256 -Slog-stderr-level=6 -Sbroker.rc2_none ` +
      `flux submit -N ${size} -n ${spec.tasks ?? 1} --quiet --watch ${words.join(' ')}\n` +
      `broker.info[0]: quorum-full: quorum->run 0.3s (hosts ${hosts})\n`;
    const program = programFromRun(run);
    return {
      ...program,
      output: [{ at: 0, text: header }, ...program.output],
    };
  };
}
