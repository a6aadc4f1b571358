import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimControllers, waitFor } from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store } from '../../src/sim/store.ts';

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function cluster(clock?: () => Date) {
  const store = new Store(clock ? { clock } : {});
  const logs = new LogStore();
  const sim = startSimControllers({
    store,
    logs,
    clock,
    speed: 0.001,
    behaviors: {
      pullable: ['docker.io/library/.*'],
      pods: [
        { command: 'fail', outcome: 'Failed', exitCode: 1, log: 'error: bad input', runSeconds: 1 },
        { command: 'crash', outcome: 'CrashLoopBackOff' },
        { command: 'sleep', outcome: 'Hang' },
        { outcome: 'Succeeded', log: 'done', runSeconds: 2 },
      ],
    },
  });
  stop = sim.stop;
  return { store, logs };
}

function job(
  name: string,
  spec: Record<string, unknown>,
  command = ['true'],
  restartPolicy = 'Never',
): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      ...spec,
      template: { spec: { restartPolicy, containers: [{ name: 'main', image: 'busybox:1.36', command }] } },
    },
  };
}

const asJob = (object: KubeObject | undefined) => object as unknown as IJob | undefined;
const condition = (type: string) => (object: KubeObject | undefined) =>
  asJob(object)?.status?.conditions?.some((entry) => entry.type === type && entry.status === 'True') ?? false;

function podsOf(store: Store, name: string): IPod[] {
  return store.list('v1/pods', 'default', { labelSelector: `job-name=${name}` }).items as unknown as IPod[];
}

function jobEvents(store: Store, name: string) {
  return store
    .list('v1/events', 'default')
    .items.filter((event) => (event['involvedObject'] as { kind: string; name: string }).name === name)
    .filter((event) => (event['involvedObject'] as { kind: string }).kind === 'Job')
    .map((event) => ({ type: event['type'], reason: event['reason'], message: event['message'] }));
}

/** The condition types of the job, in the order they first appeared. */
function recordConditions(store: Store, name: string): string[] {
  const seen: string[] = [];
  store.watch('batch/v1/jobs', (event) => {
    if (event.object.metadata.name !== name) return;
    for (const entry of asJob(event.object)?.status?.conditions ?? [])
      if (!seen.includes(entry.type)) seen.push(entry.type);
  });
  return seen;
}

describe('the simulated Job controller', () => {
  it('creates labelled, owned pods and completes with SuccessCriteriaMet then Complete', async () => {
    const { store } = cluster();
    const order = recordConditions(store, 'ok');
    const created = store.create('batch/v1/jobs', job('ok', { completions: 2, parallelism: 2 }));
    const done = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'ok', condition('Complete')));
    expect(order).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(done?.status).toMatchObject({ succeeded: 2, ready: 0, terminating: 0 });
    expect(done?.status?.active).toBeUndefined();
    expect(done?.status?.startTime).toBeDefined();
    expect(Date.parse(done?.status?.completionTime ?? '')).toBeGreaterThanOrEqual(
      Date.parse(done?.status?.startTime ?? ''),
    );
    expect(done?.status?.conditions?.find((entry) => entry.type === 'Complete')).toMatchObject({
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
    });
    const pods = podsOf(store, 'ok');
    expect(pods).toHaveLength(2);
    const uid = created.metadata.uid;
    for (const pod of pods) {
      expect(pod.metadata?.name).toMatch(/^ok-[a-z0-9]{5}$/);
      expect(pod.metadata?.labels).toMatchObject({
        'job-name': 'ok',
        'batch.kubernetes.io/job-name': 'ok',
        'controller-uid': uid,
        'batch.kubernetes.io/controller-uid': uid,
      });
      expect(pod.metadata?.ownerReferences).toEqual([
        { apiVersion: 'batch/v1', kind: 'Job', name: 'ok', uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    const events = jobEvents(store, 'ok');
    expect(events.filter((event) => event.reason === 'SuccessfulCreate')).toHaveLength(2);
    expect(events).toContainEqual({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
  });

  it('fails with BackoffLimitExceeded once more pods failed than backoffLimit allows', async () => {
    const { store } = cluster();
    const order = recordConditions(store, 'flaky');
    store.create('batch/v1/jobs', job('flaky', { backoffLimit: 1 }, ['fail']));
    const failed = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'flaky', condition('Failed')));
    expect(order).toEqual(['FailureTarget', 'Failed']);
    expect(failed?.status?.failed).toBe(2);
    expect(failed?.status?.conditions?.find((entry) => entry.type === 'Failed')).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(podsOf(store, 'flaky').map((pod) => pod.status?.phase)).toEqual(['Failed', 'Failed']);
    expect(jobEvents(store, 'flaky')).toContainEqual({
      type: 'Warning',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
  });

  it('counts container restarts against backoffLimit under restartPolicy OnFailure', async () => {
    const { store } = cluster();
    store.create('batch/v1/jobs', job('loop', { backoffLimit: 2 }, ['crash'], 'OnFailure'));
    const failed = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'loop', condition('Failed')));
    expect(failed?.status?.conditions?.find((entry) => entry.type === 'Failed')?.reason).toBe(
      'BackoffLimitExceeded',
    );
    // The crash-looping pod is deleted when the job fails.
    expect(podsOf(store, 'loop')).toHaveLength(0);
    expect(failed?.status?.failed).toBe(1);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds and deletes the running pods', async () => {
    const { store } = cluster();
    let mostReady = 0;
    store.watch('batch/v1/jobs', (event) => {
      if (event.object.metadata.name === 'slow')
        mostReady = Math.max(mostReady, asJob(event.object)?.status?.ready ?? 0);
    });
    store.create(
      'batch/v1/jobs',
      job('slow', { activeDeadlineSeconds: 300, parallelism: 2, completions: 2 }, ['sleep', 'inf']),
    );
    const failed = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'slow', condition('Failed')));
    expect(mostReady).toBe(2);
    expect(failed?.status?.conditions?.find((entry) => entry.type === 'Failed')).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    expect(failed?.status?.active).toBeUndefined();
    expect(failed?.status?.failed).toBe(2);
    expect(podsOf(store, 'slow')).toHaveLength(0);
    const events = jobEvents(store, 'slow');
    expect(events).toContainEqual({
      type: 'Warning',
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    expect(events.filter((event) => event.reason === 'SuccessfulDelete')).toHaveLength(2);
  });

  it('runs an Indexed job: one pod per index with the index label, annotation and hostname', async () => {
    const { store } = cluster();
    store.create('batch/v1/jobs', job('idx', { completions: 3, parallelism: 2, completionMode: 'Indexed' }));
    const done = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'idx', condition('Complete')));
    expect(done?.status).toMatchObject({ succeeded: 3, completedIndexes: '0-2' });
    const pods = podsOf(store, 'idx');
    const indexes = pods
      .map((pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index'])
      .sort();
    expect(indexes).toEqual(['0', '1', '2']);
    for (const pod of pods) {
      const index = pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
      expect(pod.metadata?.name).toMatch(new RegExp(`^idx-${index}-[a-z0-9]{5}$`));
      expect(pod.spec?.hostname).toBe(`idx-${index}`);
      expect(pod.spec?.containers[0]?.env).toContainEqual({
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } },
      });
    }
  });

  it('never runs more pods than parallelism at once', async () => {
    const { store } = cluster();
    let most = 0;
    store.watch('batch/v1/jobs', (event) => {
      if (event.object.metadata.name === 'wide')
        most = Math.max(most, asJob(event.object)?.status?.active ?? 0);
    });
    store.create('batch/v1/jobs', job('wide', { completions: 5, parallelism: 2 }));
    await waitFor(store, 'batch/v1/jobs', 'default', 'wide', condition('Complete'));
    expect(most).toBe(2);
    expect(podsOf(store, 'wide')).toHaveLength(5);
  });

  it('deletes the pods with the job when the deletion propagates (owner references)', async () => {
    const { store, logs } = cluster();
    store.create('batch/v1/jobs', job('cascade', { parallelism: 2, completions: 2 }, ['sleep']));
    await waitFor(
      store,
      'batch/v1/jobs',
      'default',
      'cascade',
      (object) => asJob(object)?.status?.ready === 2,
    );
    const names = podsOf(store, 'cascade').map((pod) => pod.metadata?.name ?? '');
    store.delete('batch/v1/jobs', 'default', 'cascade', { propagationPolicy: 'Background' });
    for (const name of names)
      await waitFor(store, 'v1/pods', 'default', name, (object) => object === undefined);
    await new Promise((resolve) => setImmediate(resolve));
    for (const name of names) expect(logs.has('default', name, 'main')).toBe(false);
  });

  it('creates no pods while suspended and runs once resumed', async () => {
    const { store } = cluster();
    store.create('batch/v1/jobs', job('held', { suspend: true }));
    const held = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'held', condition('Suspended')));
    expect(held?.status?.conditions?.find((entry) => entry.type === 'Suspended')).toMatchObject({
      reason: 'JobSuspended',
      message: 'Job suspended',
    });
    expect(held?.status?.startTime).toBeUndefined();
    expect(podsOf(store, 'held')).toHaveLength(0);
    store.patch('batch/v1/jobs', 'default', 'held', 'merge', { spec: { suspend: false } });
    const done = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'held', condition('Complete')));
    expect(done?.status?.conditions?.find((entry) => entry.type === 'Suspended')).toMatchObject({
      status: 'False',
      reason: 'JobResumed',
    });
    expect(jobEvents(store, 'held').map((event) => event.reason)).toEqual(
      expect.arrayContaining(['Suspended', 'Resumed', 'SuccessfulCreate', 'Completed']),
    );
  });

  it('keeps time by its timers when the injected clock stands still', async () => {
    const frozen = new Date('2026-01-01T00:00:00Z');
    const { store } = cluster(() => frozen);
    store.create('batch/v1/jobs', job('retrying', { backoffLimit: 2 }, ['fail']));
    store.create('batch/v1/jobs', job('late', { activeDeadlineSeconds: 100 }, ['sleep']));
    const retried = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'retrying', condition('Failed')));
    expect(retried?.status?.failed).toBe(3);
    const late = asJob(await waitFor(store, 'batch/v1/jobs', 'default', 'late', condition('Failed')));
    expect(late?.status?.conditions?.find((entry) => entry.type === 'Failed')?.reason).toBe(
      'DeadlineExceeded',
    );
    expect(late?.status?.startTime).toBe('2026-01-01T00:00:00Z');
  });

  it('deletes a finished job after ttlSecondsAfterFinished', async () => {
    const { store } = cluster();
    store.create('batch/v1/jobs', job('ttl', { ttlSecondsAfterFinished: 30 }));
    await waitFor(store, 'batch/v1/jobs', 'default', 'ttl', condition('Complete'));
    await waitFor(store, 'batch/v1/jobs', 'default', 'ttl', (object) => object === undefined);
  });
});
