import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import { type BehaviorsInput, startSimControllers, waitFor } from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store, type WatchEvent } from '../../src/sim/store.ts';

const rules: BehaviorsInput = {
  pullable: ['docker.io/library/.*'],
  pods: [
    { command: 'crash', outcome: 'CrashLoopBackOff', exitCode: 2, log: 'segfault' },
    { command: 'hog', outcome: 'OOMKilled', log: 'allocating' },
    { command: 'sleep', outcome: 'Hang', log: 'sleeping' },
    { command: 'fail', outcome: 'Failed', exitCode: 3, log: 'bad input', runSeconds: 1 },
    { outcome: 'Succeeded', log: 'line one\nline two\nline three', runSeconds: 3 },
  ],
};

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function cluster() {
  const store = new Store();
  const logs = new LogStore();
  const sim = startSimControllers({ store, logs, behaviors: rules, speed: 0.001 });
  stop = sim.stop;
  return { store, logs, sim };
}

function pod(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', ...spec },
  };
}

const asPod = (object: KubeObject | undefined) => object as unknown as IPod | undefined;
const phase = (value: string) => (object: KubeObject | undefined) => asPod(object)?.status?.phase === value;
const waitingReason = (object: KubeObject | undefined) =>
  asPod(object)?.status?.containerStatuses?.[0]?.state?.waiting?.reason;

/** Every distinct waiting/terminated reason the first container went through, in order. */
function recordStates(store: Store, name: string): string[] {
  const seen: string[] = [];
  store.watch('v1/pods', (event) => {
    if (event.object.metadata.name !== name) return;
    const state = asPod(event.object)?.status?.containerStatuses?.[0]?.state;
    const reason =
      state?.waiting?.reason ?? state?.terminated?.reason ?? (state?.running ? 'Running' : undefined);
    if (reason && seen.at(-1) !== reason) seen.push(reason);
  });
  return seen;
}

function eventsFor(store: Store, name: string) {
  return store
    .list('v1/events', 'default')
    .items.filter((event) => (event['involvedObject'] as { name: string }).name === name)
    .map((event) => ({
      reason: event['reason'] as string,
      message: event['message'] as string,
      type: event['type'] as string,
      count: event['count'] as number,
    }));
}

describe('the simulated kubelet', () => {
  it('runs a pod to Succeeded, writing its log while it runs and reporting the container as a kubelet does', async () => {
    const { store, logs } = cluster();
    const states = recordStates(store, 'ok');
    store.create(
      'v1/pods',
      pod('ok', { containers: [{ name: 'main', image: 'busybox:1.36', command: ['echo'] }] }),
    );
    const running = await waitFor(store, 'v1/pods', 'default', 'ok', phase('Running'));
    expect(asPod(running)?.status?.conditions?.find((condition) => condition.type === 'Ready')?.status).toBe(
      'True',
    );
    const done = asPod(await waitFor(store, 'v1/pods', 'default', 'ok', phase('Succeeded')));
    const terminated = done?.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(terminated?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(Date.parse(terminated?.finishedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(terminated?.startedAt ?? ''),
    );
    expect(done?.spec?.nodeName).toMatch(/^sim-worker-/);
    expect(done?.status?.podIP).toMatch(/^10\.244\./);
    expect(states).toEqual(['ContainerCreating', 'Running', 'Completed']);
    expect(logs.read('default', 'ok', 'main')).toBe('line one\nline two\nline three\n');
    expect(logs.ended('default', 'ok', 'main')).toBe(true);
    expect(eventsFor(store, 'ok').map((event) => event.reason)).toEqual(
      expect.arrayContaining(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']),
    );
    expect(eventsFor(store, 'ok').find((event) => event.reason === 'Created')?.message).toBe(
      'Created container: main',
    );
  });

  it('fails a pod whose process fails, with restartPolicy Never', async () => {
    const { store, logs } = cluster();
    store.create(
      'v1/pods',
      pod('bad', { containers: [{ name: 'main', image: 'busybox:1.36', args: ['fail'] }] }),
    );
    const done = asPod(await waitFor(store, 'v1/pods', 'default', 'bad', phase('Failed')));
    expect(done?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
    expect(logs.read('default', 'bad', 'main')).toBe('bad input\n');
  });

  it('reports ErrImagePull, then ImagePullBackOff, and keeps retrying the pull', async () => {
    const { store } = cluster();
    const states = recordStates(store, 'nopull');
    store.create(
      'v1/pods',
      pod('nopull', { containers: [{ name: 'main', image: 'registry.example/missing:1' }] }),
    );
    await waitFor(
      store,
      'v1/pods',
      'default',
      'nopull',
      () => states.filter((state) => state === 'ImagePullBackOff').length >= 2,
    );
    expect(states.slice(0, 4)).toEqual([
      'ContainerCreating',
      'ErrImagePull',
      'ImagePullBackOff',
      'ErrImagePull',
    ]);
    const current = asPod(store.get('v1/pods', 'default', 'nopull'));
    expect(current?.status?.phase).toBe('Pending');
    const events = eventsFor(store, 'nopull');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'Failed',
        message: expect.stringMatching(
          /^Failed to pull image "registry\.example\/missing:1": rpc error: code = NotFound desc = failed to pull and unpack image "registry\.example\/missing:1"/,
        ),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'Normal',
        reason: 'BackOff',
        message: 'Back-off pulling image "registry.example/missing:1"',
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ reason: 'Failed', message: 'Error: ImagePullBackOff' }),
    );
    // Repeats of the same event are counted, not duplicated.
    expect(events.filter((event) => event.message === 'Error: ErrImagePull')).toHaveLength(1);
    expect(events.find((event) => event.message === 'Error: ErrImagePull')?.count).toBeGreaterThanOrEqual(2);
  });

  it('reports ErrImageNeverPull for an absent image with imagePullPolicy Never', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('never', { containers: [{ name: 'main', image: 'busybox:1.36', imagePullPolicy: 'Never' }] }),
    );
    const current = asPod(
      await waitFor(
        store,
        'v1/pods',
        'default',
        'never',
        (object) => waitingReason(object) === 'ErrImageNeverPull',
      ),
    );
    expect(current?.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe(
      'Container image "busybox:1.36" is not present with pull policy of Never',
    );
    expect(current?.status?.phase).toBe('Pending');
    expect(eventsFor(store, 'never')).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'ErrImageNeverPull' }),
    );
  });

  it('restarts a crashing container with back-off under restartPolicy OnFailure (CrashLoopBackOff)', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('crash', {
        restartPolicy: 'OnFailure',
        containers: [{ name: 'main', image: 'busybox:1.36', args: ['crash'] }],
      }),
    );
    const looping = asPod(
      await waitFor(
        store,
        'v1/pods',
        'default',
        'crash',
        (object) =>
          (asPod(object)?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 &&
          waitingReason(object) === 'CrashLoopBackOff',
      ),
    );
    const status = looping?.status?.containerStatuses?.[0];
    expect(looping?.status?.phase).toBe('Running');
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(status?.state?.waiting?.message).toMatch(
      /^back-off (20|40)s restarting failed container=main pod=crash_default\(/,
    );
    expect(eventsFor(store, 'crash')).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'BackOff',
        message: expect.stringMatching(/^Back-off restarting failed container main in pod crash_default\(/),
      }),
    );
  });

  it('reports OOMKilled with exit code 137', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('oom', { containers: [{ name: 'main', image: 'busybox:1.36', args: ['hog'] }] }),
    );
    const done = asPod(await waitFor(store, 'v1/pods', 'default', 'oom', phase('Failed')));
    expect(done?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 137,
      reason: 'OOMKilled',
    });
  });

  it('ends a hanging pod at its activeDeadlineSeconds', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('hang', {
        activeDeadlineSeconds: 300,
        containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep'] }],
      }),
    );
    await waitFor(store, 'v1/pods', 'default', 'hang', phase('Running'));
    const done = asPod(await waitFor(store, 'v1/pods', 'default', 'hang', phase('Failed')));
    expect(done?.status).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    });
    expect(done?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
    expect(eventsFor(store, 'hang').map((event) => event.reason)).toEqual(
      expect.arrayContaining(['Killing', 'DeadlineExceeded']),
    );
  });

  it('cannot mount a missing ConfigMap (FailedMount) and starts once it exists', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('mount', {
        volumes: [{ name: 'config', configMap: { name: 'settings' } }],
        containers: [
          { name: 'main', image: 'busybox:1.36', volumeMounts: [{ name: 'config', mountPath: '/etc/app' }] },
        ],
      }),
    );
    await waitFor(store, 'v1/pods', 'default', 'mount', () =>
      eventsFor(store, 'mount').some((event) => event.reason === 'FailedMount'),
    );
    expect(eventsFor(store, 'mount').find((event) => event.reason === 'FailedMount')?.message).toBe(
      'MountVolume.SetUp failed for volume "config" : configmap "settings" not found',
    );
    expect(waitingReason(store.get('v1/pods', 'default', 'mount'))).toBe('ContainerCreating');
    store.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: {},
    });
    await waitFor(store, 'v1/pods', 'default', 'mount', phase('Succeeded'));
  });

  it('reports CreateContainerConfigError for an env var from a missing ConfigMap', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('envcfg', {
        containers: [
          {
            name: 'main',
            image: 'busybox:1.36',
            env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'absent', key: 'mode' } } }],
          },
        ],
      }),
    );
    const stuck = asPod(
      await waitFor(
        store,
        'v1/pods',
        'default',
        'envcfg',
        (object) => waitingReason(object) === 'CreateContainerConfigError',
      ),
    );
    expect(stuck?.status?.containerStatuses?.[0]?.state?.waiting?.message).toBe(
      'configmap "absent" not found',
    );
  });

  it('runs init containers before the containers', async () => {
    const { store, logs } = cluster();
    store.create(
      'v1/pods',
      pod('init', {
        initContainers: [{ name: 'setup', image: 'busybox:1.36', command: ['true'] }],
        containers: [{ name: 'main', image: 'busybox:1.36' }],
      }),
    );
    const pending = asPod(
      await waitFor(
        store,
        'v1/pods',
        'default',
        'init',
        (object) => waitingReason(object) === 'PodInitializing',
      ),
    );
    expect(pending?.status?.conditions?.find((condition) => condition.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [setup]',
    });
    const done = asPod(await waitFor(store, 'v1/pods', 'default', 'init', phase('Succeeded')));
    expect(done?.status?.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
    expect(logs.read('default', 'init', 'setup')).toContain('line one');
  });

  it('stops the containers of a deleted pod and drops its logs', async () => {
    const { store, logs } = cluster();
    store.create(
      'v1/pods',
      pod('gone', { containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep'] }] }),
    );
    await waitFor(store, 'v1/pods', 'default', 'gone', phase('Running'));
    if (logs.read('default', 'gone', 'main') === '') {
      await new Promise<void>((resolve) => logs.follow('default', 'gone', 'main', () => resolve(), resolve));
    }
    expect(logs.read('default', 'gone', 'main')).toBe('sleeping\n');
    store.delete('v1/pods', 'default', 'gone');
    await new Promise((resolve) => setImmediate(resolve));
    expect(eventsFor(store, 'gone')).toContainEqual(
      expect.objectContaining({ reason: 'Killing', message: 'Stopping container main' }),
    );
    expect(logs.has('default', 'gone', 'main')).toBe(false);
  });

  it('stops the containers of a pod held by a finalizer and reports it Failed until the finalizer goes', async () => {
    const { store } = cluster();
    const held = pod('held', { containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep'] }] });
    held.metadata.finalizers = ['example.com/hold'];
    store.create('v1/pods', held);
    await waitFor(store, 'v1/pods', 'default', 'held', phase('Running'));
    store.delete('v1/pods', 'default', 'held');
    const stopped = asPod(await waitFor(store, 'v1/pods', 'default', 'held', phase('Failed')));
    expect(stopped?.metadata?.deletionTimestamp).toBeDefined();
    expect(stopped?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 143,
      reason: 'Error',
    });
    expect(eventsFor(store, 'held')).toContainEqual(
      expect.objectContaining({ reason: 'Killing', message: 'Stopping container main' }),
    );
    store.patch('v1/pods', 'default', 'held', 'merge', { metadata: { finalizers: null } });
    await waitFor(store, 'v1/pods', 'default', 'held', (object) => object === undefined);
  });
});

describe('stopping the simulated controllers', () => {
  it('clears every timer they set', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timeouts();
    const { store, sim } = cluster();
    store.create(
      'v1/pods',
      pod('pulling', { containers: [{ name: 'main', image: 'registry.example/missing:1' }] }),
    );
    store.create(
      'v1/pods',
      pod('hanging', {
        activeDeadlineSeconds: 1e6,
        containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep'] }],
      }),
    );
    await waitFor(store, 'v1/pods', 'default', 'hanging', phase('Running'));
    await waitFor(
      store,
      'v1/pods',
      'default',
      'pulling',
      (object) => waitingReason(object) === 'ImagePullBackOff',
    );
    expect(timeouts()).toBeGreaterThan(before);
    sim.stop();
    // Other timers of the test runner may have ended meanwhile; none of the simulator's may remain.
    expect(timeouts()).toBeLessThanOrEqual(before);
  });
});

describe('a kubelet behind a real API server', () => {
  // A real server's watch can deliver an event from before a pod's final status (the real lane
  // showed a finished pod run twice, its log doubled). The kubelet must not run it again.
  it('does not run a pod again when a late event shows it unfinished', async () => {
    const { behaviors: parse } = await import('../../src/sim/behaviors.ts');
    const { Kubelet } = await import('../../src/sim/controllers/kubelet.ts');
    const { SimRegistry } = await import('../../src/sim/controllers/registry.ts');
    const { EventRecorder, SimTimers } = await import('../../src/sim/controllers/runtime.ts');
    const { storeCluster } = await import('../../src/sim/world/cluster.ts');
    const store = new Store();
    const logs = new LogStore();
    const direct = storeCluster(store);
    const listeners: ((event: WatchEvent) => void)[] = [];
    const cluster = {
      ...direct,
      watch: (resource: string, listener: (event: WatchEvent) => void) => {
        if (resource === 'v1/pods') listeners.push(listener);
        return direct.watch(resource, listener);
      },
    };
    const timers = new SimTimers(0.001);
    const kubelet = new Kubelet(
      {
        cluster,
        logs,
        registry: new SimRegistry(),
        behaviors: parse(rules),
        clock: () => new Date(),
        timers,
        events: new EventRecorder(cluster, () => new Date()),
      },
      { nodes: ['node-1'], resolvers: [] },
    );
    kubelet.start();
    stop = () => {
      kubelet.stop();
      timers.stop();
    };
    const created = store.create(
      'v1/pods',
      pod('once', { nodeName: 'node-1', containers: [{ name: 'main', image: 'busybox' }] }),
    );
    const stale = structuredClone(created);
    await waitFor(store, 'v1/pods', 'default', 'once', phase('Succeeded'));
    for (const listener of listeners) listener({ type: 'MODIFIED', object: stale });
    await new Promise((r) => setImmediate(r));
    expect(logs.read('default', 'once', 'main')).toBe('line one\nline two\nline three\n');
    expect(asPod(store.get('v1/pods', 'default', 'once'))?.status?.phase).toBe('Succeeded');
  });
});
