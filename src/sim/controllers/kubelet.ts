/**
 * The kubelet of every simulated node: runs the pods bound to them. It mounts ConfigMap and Secret
 * volumes, pulls images (ErrImagePull, ImagePullBackOff, ErrImageNeverPull), runs init containers
 * one by one and then the containers, restarts them under the pod's restartPolicy with
 * CrashLoopBackOff back-off, enforces activeDeadlineSeconds, and reports containerStatuses,
 * conditions, phase and events as a real kubelet does. What a process prints and how it exits
 * comes from a ContainerProgram.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { KubeObject, WatchEvent } from '../store.ts';
import { behaviourProgram, type ContainerProgram, type ProgramResolver } from './programs.ts';
import { matchesImagePattern, parseImageReference } from './registry.ts';
import { timestamp, type WorldContext } from './runtime.ts';

/** Back-off between restarts and pull attempts: 10s doubling up to 5 minutes, as the kubelet's. */
export function backoffSeconds(attempt: number): number {
  return Math.min(10 * 2 ** Math.max(0, attempt - 1), 300);
}

type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        startedAt: string;
        finishedAt: string;
        containerID: string;
      };
    };

interface RunningContainer {
  name: string;
  init: boolean;
  spec: IContainer;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
  restartCount: number;
  containerID?: string;
  imageID: string;
  /** Image pull attempts that failed in a row. */
  pullFailures: number;
  /** Cancels the timers of the current step (pull, run, back-off). */
  cancel: (() => void)[];
  /** Terminated for good: it will not be restarted. */
  finished: boolean;
}

type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

function podKey(pod: IPod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function imageSize(image: string): number {
  return 20_000_000 + (createHash('sha256').update(image).digest().readUInt32BE(0) % 900_000_000);
}

function pullPolicy(container: IContainer): string {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const reference = parseImageReference(container.image ?? '');
  return reference.tag === 'latest' && !reference.digest ? 'Always' : 'IfNotPresent';
}

function pullError(image: string): string {
  const { normalized, domain } = parseImageReference(image);
  if (domain === 'docker.io') {
    return `rpc error: code = Unknown desc = failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
  }
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": ${normalized}: not found`;
}

function seconds(value: number): string {
  return `${Number(value.toFixed(3))}s`;
}

export interface KubeletOptions {
  /** Node names this kubelet runs pods for. */
  nodes: string[];
  /** Tried in order before the behaviours file's pod rules. */
  resolvers: ProgramResolver[];
}

export class Kubelet {
  readonly #ctx: WorldContext;
  readonly #nodes: Map<string, number>;
  readonly #resolvers: ProgramResolver[];
  readonly #images = new Map<string, Set<string>>();
  readonly #workers = new Map<string, PodWorker>();
  /**
   * Pods (by uid) this kubelet ran to the end. A real API server's watch can still deliver an event
   * from before the final status: such a pod must not run again.
   */
  readonly #finished = new Set<string>();
  #unwatch: (() => void) | undefined;
  #nextIp = 2;

  constructor(ctx: WorldContext, options: KubeletOptions) {
    this.#ctx = ctx;
    this.#nodes = new Map(options.nodes.map((name, index) => [name, index]));
    this.#resolvers = options.resolvers;
    for (const node of options.nodes) this.#images.set(node, new Set());
  }

  start(): void {
    this.#unwatch = this.#ctx.cluster.watch('v1/pods', (event) => this.#onPod(event));
  }

  stop(): void {
    this.#unwatch?.();
    for (const worker of this.#workers.values()) worker.halt();
    this.#workers.clear();
  }

  #onPod(event: WatchEvent): void {
    const pod = event.object as unknown as IPod;
    const key = podKey(pod);
    const worker = this.#workers.get(key);
    if (event.type === 'DELETED') {
      if (worker && worker.uid === pod.metadata?.uid) {
        this.#workers.delete(key);
        queueMicrotask(() => worker.removed());
      } else if (pod.spec?.nodeName && this.#nodes.has(pod.spec.nodeName)) {
        this.#ctx.logs.delete(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '');
      }
      return;
    }
    if (worker) {
      if (worker.uid !== pod.metadata?.uid) return;
      if (pod.metadata?.deletionTimestamp) queueMicrotask(() => worker.terminate());
      return;
    }
    const node = pod.spec?.nodeName;
    if (!node || !this.#nodes.has(node)) return;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    if (this.#finished.has(pod.metadata?.uid ?? '')) return;
    if (pod.metadata?.deletionTimestamp) {
      // Deleted while no worker ran it (before this kubelet started): nothing to stop.
      this.#ctx.cluster.podTerminated(event.object);
      return;
    }
    const created = new PodWorker(this, pod);
    this.#workers.set(key, created);
    queueMicrotask(() => created.begin());
  }

  get ctx(): WorldContext {
    return this.#ctx;
  }

  program(pod: IPod, container: IContainer): ContainerProgram {
    for (const resolve of this.#resolvers) {
      const program = resolve(pod, container);
      if (program) return program;
    }
    return behaviourProgram(this.#ctx, container, pod);
  }

  hasImage(node: string, image: string): boolean {
    return this.#images.get(node)?.has(parseImageReference(image).normalized) ?? false;
  }

  storeImage(node: string, image: string): void {
    this.#images.get(node)?.add(parseImageReference(image).normalized);
  }

  pullable(image: string): boolean {
    return this.#ctx.registry.has(image) || matchesImagePattern(this.#ctx.behaviors.pullable, image);
  }

  podIp(node: string): string {
    return `10.244.${this.#nodes.get(node) ?? 0}.${this.#nextIp++}`;
  }

  hostIp(node: string): string {
    return `172.18.0.${(this.#nodes.get(node) ?? 0) + 2}`;
  }

  finished(worker: PodWorker): void {
    if (this.#workers.get(worker.key) === worker) this.#workers.delete(worker.key);
    this.#finished.add(worker.uid);
    if (this.#finished.size > 10_000) this.#finished.delete(this.#finished.values().next().value!);
  }
}

/** One pod on one node, from sandbox to a terminal phase. */
class PodWorker {
  readonly #kubelet: Kubelet;
  readonly #ctx: WorldContext;
  readonly key: string;
  readonly uid: string;
  readonly #namespace: string;
  readonly #name: string;
  readonly #node: string;
  #pod: IPod;
  readonly #containers: RunningContainer[];
  readonly #cancel: (() => void)[] = [];
  #phase: PodPhase = 'Pending';
  /** Set when the kubelet ends the pod itself (deadline, deletion). */
  #forced: { phase: PodPhase; reason?: string; message?: string } | undefined;
  #startTime: string | undefined;
  #podIp: string | undefined;
  #volumesReady = false;
  #mountFailures = 0;
  #terminating = false;
  #halted = false;

  constructor(kubelet: Kubelet, pod: IPod) {
    this.#kubelet = kubelet;
    this.#ctx = kubelet.ctx;
    this.#pod = pod;
    this.key = podKey(pod);
    this.uid = pod.metadata?.uid ?? '';
    this.#namespace = pod.metadata?.namespace ?? 'default';
    this.#name = pod.metadata?.name ?? '';
    this.#node = pod.spec?.nodeName ?? '';
    // Until they start, init containers and (while init containers run) containers wait in PodInitializing.
    const hasInit = (pod.spec?.initContainers ?? []).length > 0;
    const container = (spec: IContainer, init: boolean): RunningContainer => ({
      name: spec.name,
      init,
      spec,
      state: { waiting: { reason: init || hasInit ? 'PodInitializing' : 'ContainerCreating' } },
      lastState: {},
      restartCount: 0,
      imageID: '',
      pullFailures: 0,
      cancel: [],
      finished: false,
    });
    this.#containers = [
      ...(pod.spec?.initContainers ?? []).map((spec) => container(spec, true)),
      ...(pod.spec?.containers ?? []).map((spec) => container(spec, false)),
    ];
  }

  get #restartPolicy(): string {
    return this.#pod.spec?.restartPolicy ?? 'Always';
  }

  #event(type: 'Normal' | 'Warning', reason: string, message: string, container?: RunningContainer): void {
    const object =
      this.#ctx.cluster.getRaw('v1/pods', this.#namespace, this.#name) ??
      (this.#pod as unknown as KubeObject);
    const fieldPath = container
      ? `spec.${container.init ? 'initContainers' : 'containers'}{${container.name}}`
      : undefined;
    this.#ctx.events.record(
      object,
      type,
      reason,
      message,
      { component: 'kubelet', host: this.#node },
      fieldPath,
    );
  }

  #after(secondsFromNow: number, fn: () => void, owner?: RunningContainer): void {
    const cancel = this.#ctx.timers.after(secondsFromNow, fn);
    (owner ? owner.cancel : this.#cancel).push(cancel);
  }

  #now(): string {
    return timestamp(this.#ctx.clock());
  }

  begin(): void {
    if (this.#halted) return;
    this.#startTime = this.#now();
    this.#podIp = this.#kubelet.podIp(this.#node);
    const deadline = this.#pod.spec?.activeDeadlineSeconds;
    if (deadline !== undefined) this.#after(deadline, () => this.#deadlineExceeded());
    this.#mountVolumes();
  }

  /** ConfigMap and Secret volumes must exist (unless optional) before the sandbox starts. */
  #mountVolumes(): void {
    if (this.#halted) return;
    for (const volume of this.#pod.spec?.volumes ?? []) {
      const missing = this.#missingVolumeSource(volume);
      if (missing) {
        this.#mountFailures++;
        this.#event(
          'Warning',
          'FailedMount',
          `MountVolume.SetUp failed for volume "${volume.name}" : ${missing}`,
        );
        this.#writeStatus();
        this.#after(Math.min(2 * 2 ** (this.#mountFailures - 1), 122), () => this.#mountVolumes());
        return;
      }
    }
    this.#volumesReady = true;
    this.#writeStatus();
    this.#nextInit();
  }

  #missingVolumeSource(
    volume: NonNullable<NonNullable<IPod['spec']>['volumes']>[number],
  ): string | undefined {
    const sources: { kind: 'configmap' | 'secret'; name: string; optional: boolean }[] = [];
    if (volume.configMap) {
      sources.push({
        kind: 'configmap',
        name: volume.configMap.name ?? '',
        optional: !!volume.configMap.optional,
      });
    }
    if (volume.secret) {
      sources.push({
        kind: 'secret',
        name: volume.secret.secretName ?? '',
        optional: !!volume.secret.optional,
      });
    }
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap) {
        sources.push({
          kind: 'configmap',
          name: source.configMap.name ?? '',
          optional: !!source.configMap.optional,
        });
      }
      if (source.secret) {
        sources.push({ kind: 'secret', name: source.secret.name ?? '', optional: !!source.secret.optional });
      }
    }
    for (const source of sources) {
      const resource = source.kind === 'configmap' ? 'v1/configmaps' : 'v1/secrets';
      if (!source.optional && !this.#ctx.cluster.getRaw(resource, this.#namespace, source.name)) {
        return `${source.kind} "${source.name}" not found`;
      }
    }
    return undefined;
  }

  /** Runs init containers one after another, then starts every container. */
  #nextInit(): void {
    if (this.#halted || this.#terminating) return;
    const pending = this.#containers.find((container) => container.init && !container.finished);
    if (pending) {
      this.#startContainer(pending);
      return;
    }
    for (const container of this.#containers.filter((candidate) => !candidate.init)) {
      if ('waiting' in container.state && container.state.waiting.reason === 'PodInitializing') {
        container.state = { waiting: { reason: 'ContainerCreating' } };
      }
    }
    this.#writeStatus();
    for (const container of this.#containers.filter((candidate) => !candidate.init)) {
      this.#startContainer(container);
    }
  }

  /** Pull (if needed), create and start one container. */
  #startContainer(container: RunningContainer): void {
    if (this.#halted || this.#terminating) return;
    const image = container.spec.image ?? '';
    const policy = pullPolicy(container.spec);
    const present = this.#kubelet.hasImage(this.#node, image);
    if (policy === 'Never' && !present) {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      container.state = { waiting: { reason: 'ErrImageNeverPull', message } };
      this.#event('Warning', 'ErrImageNeverPull', message, container);
      this.#event('Warning', 'Failed', 'Error: ErrImageNeverPull', container);
      this.#writeStatus();
      return;
    }
    if (present && policy !== 'Always') {
      this.#event('Normal', 'Pulled', `Container image "${image}" already present on machine`, container);
      this.#create(container);
      return;
    }
    this.#event('Normal', 'Pulling', `Pulling image "${image}"`, container);
    const pullSeconds = this.#ctx.behaviors.pullSeconds;
    this.#after(
      pullSeconds,
      () => {
        container.cancel = [];
        if (this.#kubelet.pullable(image)) {
          container.pullFailures = 0;
          this.#kubelet.storeImage(this.#node, image);
          const took = seconds(pullSeconds);
          this.#event(
            'Normal',
            'Pulled',
            `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${imageSize(image)} bytes.`,
            container,
          );
          this.#create(container);
          return;
        }
        this.#pullFailed(container, image);
      },
      container,
    );
  }

  #pullFailed(container: RunningContainer, image: string): void {
    container.pullFailures++;
    const error = pullError(image);
    container.state = { waiting: { reason: 'ErrImagePull', message: error } };
    this.#event('Warning', 'Failed', `Failed to pull image "${image}": ${error}`, container);
    this.#event('Warning', 'Failed', 'Error: ErrImagePull', container);
    this.#writeStatus();
    // The next sync finds the pull in back-off, and the pull is tried again when it expires.
    this.#after(
      1,
      () => {
        container.state = {
          waiting: {
            reason: 'ImagePullBackOff',
            message: `Back-off pulling image "${image}": ErrImagePull: ${error}`,
          },
        };
        this.#event('Normal', 'BackOff', `Back-off pulling image "${image}"`, container);
        this.#event('Warning', 'Failed', 'Error: ImagePullBackOff', container);
        this.#writeStatus();
        this.#after(
          backoffSeconds(container.pullFailures),
          () => {
            container.cancel = [];
            this.#startContainer(container);
          },
          container,
        );
      },
      container,
    );
  }

  /** The container's env and envFrom must resolve before it can be created. */
  #configError(container: RunningContainer): string | undefined {
    const find = (resource: string, name: string) =>
      this.#ctx.cluster.getRaw(resource, this.#namespace, name);
    for (const source of container.spec.envFrom ?? []) {
      if (
        source.configMapRef &&
        !source.configMapRef.optional &&
        !find('v1/configmaps', source.configMapRef.name ?? '')
      ) {
        return `configmap "${source.configMapRef.name}" not found`;
      }
      if (
        source.secretRef &&
        !source.secretRef.optional &&
        !find('v1/secrets', source.secretRef.name ?? '')
      ) {
        return `secret "${source.secretRef.name}" not found`;
      }
    }
    for (const variable of container.spec.env ?? []) {
      const configMapKey = variable.valueFrom?.configMapKeyRef;
      if (configMapKey && !configMapKey.optional) {
        const configMap = find('v1/configmaps', configMapKey.name ?? '');
        if (!configMap) return `configmap "${configMapKey.name}" not found`;
        if (!(configMapKey.key in ((configMap['data'] as object | undefined) ?? {}))) {
          return `couldn't find key ${configMapKey.key} in ConfigMap ${this.#namespace}/${configMapKey.name}`;
        }
      }
      const secretKey = variable.valueFrom?.secretKeyRef;
      if (secretKey && !secretKey.optional) {
        const secret = find('v1/secrets', secretKey.name ?? '');
        if (!secret) return `secret "${secretKey.name}" not found`;
        if (!(secretKey.key in ((secret['data'] as object | undefined) ?? {}))) {
          return `couldn't find key ${secretKey.key} in Secret ${this.#namespace}/${secretKey.name}`;
        }
      }
    }
    return undefined;
  }

  #create(container: RunningContainer): void {
    if (this.#halted || this.#terminating) return;
    const configError = this.#configError(container);
    if (configError) {
      container.pullFailures++;
      container.state = { waiting: { reason: 'CreateContainerConfigError', message: configError } };
      this.#event('Warning', 'Failed', `Error: ${configError}`, container);
      this.#writeStatus();
      this.#after(backoffSeconds(container.pullFailures), () => this.#create(container), container);
      return;
    }
    const image = parseImageReference(container.spec.image ?? '');
    const pushed = this.#ctx.registry.get(container.spec.image ?? '');
    container.imageID = `${image.domain}/${image.path}@${pushed?.digest ?? `sha256:${createHash('sha256').update(image.normalized).digest('hex')}`}`;
    container.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    this.#event('Normal', 'Created', `Created container: ${container.name}`, container);
    this.#event('Normal', 'Started', `Started container ${container.name}`, container);
    const startedAt = this.#now();
    container.state = { running: { startedAt } };
    this.#writeStatus();
    const program = this.#kubelet.program(this.#pod, container.spec);
    // Output and exit are chained, each timer set when the previous fires: timers with different
    // sub-millisecond delays do not reliably fire in order.
    const pieces = [...program.output].sort((a, b) => a.at - b.at);
    const exit = program.exit;
    let next = 0;
    let elapsed = 0;
    const step = () => {
      const piece = pieces[next];
      if (piece) {
        this.#after(
          Math.max(0, piece.at - elapsed),
          () => {
            elapsed = piece.at;
            let text = '';
            while (next < pieces.length && pieces[next]!.at <= elapsed) text += pieces[next++]!.text;
            this.#ctx.logs.append(this.#namespace, this.#name, container.name, text);
            step();
          },
          container,
        );
        return;
      }
      if (!exit) return;
      this.#after(
        Math.max(0, exit.at - elapsed),
        () => {
          if (this.#halted || this.#terminating || !('running' in container.state)) return;
          program.onExit?.();
          this.#exited(
            container,
            exit.exitCode,
            exit.reason,
            this.#terminationMessage(container, program, exit.exitCode),
          );
        },
        container,
      );
    };
    step();
  }

  /**
   * The termination message: what the process wrote to terminationMessagePath, or with
   * FallbackToLogsOnError and a failure, the end of its log (80 lines, 2048 bytes at most).
   */
  #terminationMessage(
    container: RunningContainer,
    program: ContainerProgram,
    exitCode: number,
  ): string | undefined {
    if (program.terminationMessage) return program.terminationMessage.slice(0, 4096);
    if (container.spec.terminationMessagePolicy !== 'FallbackToLogsOnError' || exitCode === 0)
      return undefined;
    const lines = this.#ctx.logs
      .read(this.#namespace, this.#name, container.name)
      .replace(/\n$/, '')
      .split('\n');
    const tail = lines.slice(-80).join('\n');
    return tail === '' ? undefined : Buffer.from(tail).subarray(-2048).toString();
  }

  #exited(container: RunningContainer, exitCode: number, reason: string, message?: string): void {
    for (const cancel of container.cancel.splice(0)) cancel();
    const startedAt = 'running' in container.state ? container.state.running.startedAt : this.#now();
    container.state = {
      terminated: {
        exitCode,
        reason,
        ...(message ? { message } : {}),
        startedAt,
        finishedAt: this.#now(),
        containerID: container.containerID ?? '',
      },
    };
    this.#ctx.logs.end(this.#namespace, this.#name, container.name);
    const restart =
      !this.#terminating &&
      !this.#forced &&
      (container.init
        ? this.#restartPolicy !== 'Never' && exitCode !== 0
        : this.#restartPolicy === 'Always' || (this.#restartPolicy === 'OnFailure' && exitCode !== 0));
    if (!restart) {
      container.finished = true;
      this.#writeStatus();
      if (container.init && exitCode === 0) this.#nextInit();
      return;
    }
    // CrashLoopBackOff: the next start waits 10s, 20s, 40s ... up to 5 minutes.
    this.#writeStatus();
    const delay = backoffSeconds(container.restartCount + 1);
    const terminated = container.state;
    this.#after(
      0.5,
      () => {
        container.lastState = terminated;
        container.restartCount++;
        container.state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${delay}s restarting failed container=${container.name} pod=${this.#name}_${this.#namespace}(${this.uid})`,
          },
        };
        this.#event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${container.name} in pod ${this.#name}_${this.#namespace}(${this.uid})`,
          container,
        );
        this.#writeStatus();
        this.#after(
          delay,
          () => {
            container.cancel = [];
            // The new instance writes a new log; the crashed one's stays readable with previous=true.
            this.#ctx.logs.restart(this.#namespace, this.#name, container.name);
            this.#startContainer(container);
          },
          container,
        );
      },
      container,
    );
  }

  #deadlineExceeded(): void {
    if (this.#halted || this.#forced || this.#phase === 'Succeeded' || this.#phase === 'Failed') return;
    const message = 'Pod was active on the node longer than the specified deadline';
    this.#event('Normal', 'DeadlineExceeded', message);
    this.#forced = { phase: 'Failed', reason: 'DeadlineExceeded', message };
    this.#killAll(137);
  }

  /** The pod is being deleted (it has finalizers): stop its containers and report a final phase. */
  terminate(): void {
    if (this.#halted || this.#terminating) return;
    this.#terminating = true;
    const allSucceeded = this.#containers.every(
      (container) =>
        container.init || ('terminated' in container.state && container.state.terminated.exitCode === 0),
    );
    this.#forced = { phase: allSucceeded ? 'Succeeded' : 'Failed' };
    this.#killAll(143);
  }

  #killAll(exitCode: number): void {
    for (const cancel of this.#cancel.splice(0)) cancel();
    for (const container of this.#containers) {
      for (const cancel of container.cancel.splice(0)) cancel();
      if ('running' in container.state) {
        this.#event('Normal', 'Killing', `Stopping container ${container.name}`, container);
        container.state = {
          terminated: {
            exitCode,
            reason: 'Error',
            startedAt: container.state.running.startedAt,
            finishedAt: this.#now(),
            containerID: container.containerID ?? '',
          },
        };
        this.#ctx.logs.end(this.#namespace, this.#name, container.name);
      }
      container.finished = true;
    }
    this.#writeStatus();
  }

  /** The pod object is gone: stop its containers and drop its logs. */
  removed(): void {
    if (this.#halted) return;
    for (const container of this.#containers) {
      if ('running' in container.state) {
        this.#event('Normal', 'Killing', `Stopping container ${container.name}`, container);
      }
    }
    this.halt();
    this.#ctx.logs.delete(this.#namespace, this.#name);
  }

  halt(): void {
    this.#halted = true;
    for (const cancel of this.#cancel.splice(0)) cancel();
    for (const container of this.#containers) for (const cancel of container.cancel.splice(0)) cancel();
  }

  #computePhase(): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
    if (this.#forced) return this.#forced.phase;
    const inits = this.#containers.filter((container) => container.init);
    const regular = this.#containers.filter((container) => !container.init);
    const failedInit = inits.find(
      (container) =>
        container.finished && 'terminated' in container.state && container.state.terminated.exitCode !== 0,
    );
    if (failedInit) return 'Failed';
    if (inits.some((container) => !container.finished)) return 'Pending';
    const neverRan = regular.filter(
      (container) => 'waiting' in container.state && Object.keys(container.lastState).length === 0,
    );
    if (neverRan.length > 0) return 'Pending';
    if (regular.some((container) => !container.finished)) return 'Running';
    const failed = regular.some(
      (container) => 'terminated' in container.state && container.state.terminated.exitCode !== 0,
    );
    return failed ? 'Failed' : 'Succeeded';
  }

  #writeStatus(): void {
    if (this.#halted) return;
    const { cluster } = this.#ctx;
    const current = cluster.get('v1/pods', this.#namespace, this.#name);
    if (!current || current.metadata.uid !== this.uid) return;
    this.#pod = current as unknown as IPod;
    this.#phase = this.#computePhase();
    const terminal = this.#phase === 'Succeeded' || this.#phase === 'Failed';
    const now = this.#now();
    const previous = (current['status'] ?? {}) as Record<string, unknown>;
    const previousConditions = (previous['conditions'] ?? []) as Record<string, unknown>[];
    const condition = (type: string, ok: boolean, reason?: string, message?: string) => {
      const status = ok ? 'True' : 'False';
      const before = previousConditions.find((existing) => existing['type'] === type);
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: before && before['status'] === status ? before['lastTransitionTime'] : now,
        ...(reason ? { reason } : {}),
        ...(message ? { message } : {}),
      };
    };
    const inits = this.#containers.filter((container) => container.init);
    const regular = this.#containers.filter((container) => !container.init);
    const pendingInits = inits.filter(
      (container) =>
        !(container.finished && 'terminated' in container.state && container.state.terminated.exitCode === 0),
    );
    const unready = regular.filter((container) => !('running' in container.state));
    const names = (list: RunningContainer[]) => `[${list.map((container) => container.name).join(' ')}]`;
    const ready = !terminal && unready.length === 0;
    const readyReason = terminal ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady';
    const readyMessage = terminal || ready ? undefined : `containers with unready status: ${names(unready)}`;
    const scheduled = previousConditions.find((existing) => existing['type'] === 'PodScheduled') ?? {
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: now,
    };
    const sandboxReady = this.#volumesReady && !terminal;
    const conditions = [
      condition('PodReadyToStartContainers', sandboxReady),
      condition(
        'Initialized',
        pendingInits.length === 0,
        pendingInits.length === 0 ? undefined : 'ContainersNotInitialized',
        pendingInits.length === 0 ? undefined : `containers with incomplete status: ${names(pendingInits)}`,
      ),
      condition('Ready', ready, readyReason, readyMessage),
      condition('ContainersReady', ready, readyReason, readyMessage),
      scheduled,
    ];
    const containerStatus = (container: RunningContainer) => ({
      name: container.name,
      state: container.state,
      lastState: container.lastState,
      ready: 'running' in container.state,
      restartCount: container.restartCount,
      image: container.spec.image,
      imageID: container.imageID,
      ...(container.containerID ? { containerID: container.containerID } : {}),
      started: 'running' in container.state,
    });
    const status: Record<string, unknown> = {
      ...previous,
      phase: this.#phase,
      conditions,
      hostIP: this.#kubelet.hostIp(this.#node),
      hostIPs: [{ ip: this.#kubelet.hostIp(this.#node) }],
      startTime: this.#startTime,
      containerStatuses: regular.map(containerStatus),
    };
    if (this.#volumesReady && this.#podIp) {
      status['podIP'] = this.#podIp;
      status['podIPs'] = [{ ip: this.#podIp }];
    }
    if (inits.length > 0) status['initContainerStatuses'] = inits.map(containerStatus);
    if (this.#forced?.reason) status['reason'] = this.#forced.reason;
    if (this.#forced?.message) status['message'] = this.#forced.message;
    current['status'] = status;
    cluster.updateStatus('v1/pods', current);
    if (terminal && current.metadata.deletionTimestamp) cluster.podTerminated(current);
    if (terminal) {
      // A finished pod keeps its status; nothing more runs for it.
      this.halt();
      this.#kubelet.finished(this);
    }
  }
}
