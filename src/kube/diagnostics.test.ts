import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  classifyJob,
  classifyPod,
  diagnosticsBundle,
  type EventLike,
  type JobLike,
  type PodLike,
  runEvents,
} from './diagnostics.ts';

const NOW = Date.parse('2026-01-10T12:10:00Z');
const GRACE = 5 * 60_000;

const waiting = (reason: string, message = 'details'): PodLike => ({
  metadata: { name: 'p' },
  status: { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason, message } } }] },
});
const unschedulableSince = (iso: string): PodLike => ({
  metadata: { name: 'p', creationTimestamp: '2026-01-10T11:00:00Z' },
  status: {
    phase: 'Pending',
    conditions: [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/3 nodes are available: 3 Insufficient cpu.',
        lastTransitionTime: iso,
      },
    ],
  },
});

describe('classifyPod', () => {
  it.each([
    'ImagePullBackOff',
    'ErrImagePull',
    'ErrImageNeverPull',
    'InvalidImageName',
    'CrashLoopBackOff',
    'CreateContainerConfigError',
  ])('ends the attempt on %s', (reason) => {
    expect(classifyPod(waiting(reason, 'the reason'), NOW, GRACE)).toEqual({
      reason,
      message: `container app: ${reason}: the reason`,
    });
  });

  it.each([
    { name: 'a pod creating its container', pod: waiting('ContainerCreating') },
    { name: 'a pod pulling its image', pod: waiting('PodInitializing') },
    {
      name: 'a running pod',
      pod: { status: { phase: 'Running', containerStatuses: [{ name: 'a', state: { running: {} } }] } },
    },
    {
      name: 'a pod that failed with an error',
      pod: {
        status: {
          phase: 'Failed',
          containerStatuses: [{ name: 'a', state: { terminated: { reason: 'Error', exitCode: 1 } } }],
        },
      },
    },
    {
      name: 'a pod unschedulable for less than the grace period',
      pod: unschedulableSince('2026-01-10T12:06:00Z'),
    },
    { name: 'a pod with no status yet', pod: {} },
  ])('lets $name be', ({ pod }) => {
    expect(classifyPod(pod as PodLike, NOW, GRACE)).toBeNull();
  });

  it.each([
    { name: 'now', state: 'state' as const },
    { name: 'in its last state', state: 'lastState' as const },
  ])('ends the attempt on a container OOMKilled $name', ({ state }) => {
    const pod: PodLike = {
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'lmp', restartCount: 1, [state]: { terminated: { reason: 'OOMKilled', exitCode: 137 } } },
        ],
      },
    };
    expect(classifyPod(pod, NOW, GRACE)).toEqual({
      reason: 'OOMKilled',
      message: 'container lmp was killed for running out of memory (exit code 137)',
    });
  });

  it('ends the attempt on an init container that cannot pull', () => {
    const pod: PodLike = {
      status: { initContainerStatuses: [{ name: 'init', state: { waiting: { reason: 'ErrImagePull' } } }] },
    };
    expect(classifyPod(pod, NOW, GRACE)?.reason).toBe('ErrImagePull');
  });

  it.each([
    { name: 'past the grace period', since: '2026-01-10T12:04:59Z', fatal: true },
    { name: 'exactly at the grace period', since: '2026-01-10T12:05:00Z', fatal: true },
    { name: 'within the grace period', since: '2026-01-10T12:05:01Z', fatal: false },
  ])('decides Unschedulable $name', ({ since, fatal }) => {
    const result = classifyPod(unschedulableSince(since), new Date(NOW), GRACE);
    expect(result).toEqual(
      fatal ? { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' } : null,
    );
  });

  it('counts Unschedulable from the pod creation when the condition has no time', () => {
    const pod = unschedulableSince('');
    expect(classifyPod(pod, NOW, GRACE)?.reason).toBe('Unschedulable');
    expect(classifyPod(pod, Date.parse('2026-01-10T11:01:00Z'), GRACE)).toBeNull();
  });
});

describe('classifyJob', () => {
  const condition = (type: string, reason?: string, message?: string) => ({
    type,
    status: 'True',
    reason,
    message,
  });
  it.each<{ name: string; job: JobLike; want: ReturnType<typeof classifyJob> }>([
    { name: 'no status', job: {}, want: { state: 'Running' } },
    { name: 'active', job: { status: { active: 1 } }, want: { state: 'Running' } },
    {
      name: 'Complete',
      job: { status: { succeeded: 1, conditions: [condition('Complete')] } },
      want: { state: 'Complete' },
    },
    {
      name: 'SuccessCriteriaMet',
      job: { status: { conditions: [condition('SuccessCriteriaMet')] } },
      want: { state: 'Complete' },
    },
    {
      name: 'BackoffLimitExceeded',
      job: {
        status: {
          conditions: [
            condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
          ],
        },
      },
      want: {
        state: 'Failed',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
        timeout: false,
      },
    },
    {
      name: 'a deadline, as a timeout',
      job: {
        spec: { activeDeadlineSeconds: 600 },
        status: {
          conditions: [
            condition('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
          ],
        },
      },
      want: {
        state: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'the run exceeded its time limit of 600 seconds: make the problem smaller or faster',
        timeout: true,
      },
    },
    {
      name: 'FailureTarget before Failed',
      job: {
        status: {
          conditions: [condition('FailureTarget', 'PodFailurePolicy', 'Container app exited with 42')],
        },
      },
      want: {
        state: 'Failed',
        reason: 'PodFailurePolicy',
        message: 'Container app exited with 42',
        timeout: false,
      },
    },
    {
      name: 'a condition that is no longer true',
      job: { status: { conditions: [{ type: 'Failed', status: 'False' }] } },
      want: { state: 'Running' },
    },
  ])('reads $name', ({ job, want }) => {
    expect(classifyJob(job)).toEqual(want);
  });
});

const JOB: JobLike = {
  metadata: { name: 'demo-run-2' },
  spec: { backoffLimit: 1, activeDeadlineSeconds: 1800 },
  status: {
    failed: 2,
    conditions: [
      {
        type: 'FailureTarget',
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
        lastTransitionTime: '2026-01-10T12:03:00Z',
      },
      {
        type: 'Failed',
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      },
    ],
  },
};
const PODS: PodLike[] = [
  {
    metadata: { name: 'demo-run-2-abcde' },
    spec: { nodeName: 'kind-worker' },
    status: {
      phase: 'Failed',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'PodFailed' },
        { type: 'PodScheduled', status: 'True' },
      ],
      containerStatuses: [
        {
          name: 'lammps',
          restartCount: 0,
          state: { terminated: { reason: 'Error', exitCode: 127, message: 'sh: 1: lmp: not found\n' } },
        },
      ],
    },
  },
];
const event = (
  kind: string,
  name: string,
  reason: string,
  message: string,
  last: string,
  extra: Partial<EventLike> = {},
): EventLike => ({
  type: reason === 'BackOff' || reason === 'BackoffLimitExceeded' ? 'Warning' : 'Normal',
  reason,
  message,
  involvedObject: { kind, name },
  firstTimestamp: last,
  lastTimestamp: last,
  ...extra,
});
const EVENTS: EventLike[] = [
  event(
    'Job',
    'demo-run-2',
    'BackoffLimitExceeded',
    'Job has reached the specified backoff limit',
    '2026-01-10T12:03:00Z',
  ),
  event(
    'Pod',
    'demo-run-2-abcde',
    'Scheduled',
    'Successfully assigned hpc/demo-run-2-abcde to kind-worker',
    '2026-01-10T12:00:01Z',
  ),
  event(
    'Pod',
    'demo-run-2-abcde',
    'BackOff',
    'Back-off restarting failed container',
    '2026-01-10T12:01:00Z',
    {
      count: 3,
      firstTimestamp: '2026-01-10T12:00:30Z',
    },
  ),
  event(
    'Pod',
    'demo-run-2-abcde',
    'BackOff',
    'Back-off restarting failed container',
    '2026-01-10T12:02:00Z',
    { count: 2 },
  ),
  event('Pod', 'someone-else', 'Killing', 'Stopping container x', '2026-01-10T12:00:02Z'),
  event('Job', 'other-job', 'SuccessfulCreate', 'Created pod: other', '2026-01-10T12:00:03Z'),
];
const LOG = [
  'Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]',
  'LAMMPS (2 Aug 2023)',
  'sh: 1: lmp: not found',
].join('\n');

describe('diagnosticsBundle', () => {
  it('matches the golden bundle', async () => {
    const text = diagnosticsBundle({ job: JOB, pods: PODS, events: EVENTS, log: LOG });
    await expect(`${text}\n`).toMatchFileSnapshot('../../test/fixtures/golden/diagnostics-failed-job.txt');
  });

  it('keeps only the events of the Job, its pods and related objects, merged and sorted', () => {
    const events = runEvents(
      [...EVENTS, event('MiniCluster', 'demo-run-2', 'Created', 'made', '2026-01-10T11:59:00Z')],
      [
        { kind: 'Job', name: 'demo-run-2' },
        { kind: 'Pod', name: 'demo-run-2-abcde' },
        { kind: 'MiniCluster', name: 'demo-run-2' },
      ],
    );
    expect(events.map((e) => [e.object, e.reason, e.count])).toEqual([
      ['minicluster/demo-run-2', 'Created', 1],
      ['pod/demo-run-2-abcde', 'Scheduled', 1],
      ['pod/demo-run-2-abcde', 'BackOff', 5],
      ['job/demo-run-2', 'BackoffLimitExceeded', 1],
    ]);
  });

  it('reads events.k8s.io events and series counts', () => {
    const events = runEvents(
      [
        {
          type: 'Warning',
          reason: 'FailedMount',
          note: 'configmap "x" not found',
          regarding: { kind: 'Pod', name: 'p' },
          eventTime: '2026-01-10T12:00:00Z',
          series: { count: 7, lastObservedTime: '2026-01-10T12:05:00Z' },
        },
      ],
      [{ kind: 'Pod', name: 'p' }],
    );
    expect(events).toEqual([
      {
        type: 'Warning',
        reason: 'FailedMount',
        object: 'pod/p',
        message: 'configmap "x" not found',
        count: 7,
        first: Date.parse('2026-01-10T12:00:00Z'),
        last: Date.parse('2026-01-10T12:05:00Z'),
      },
    ]);
  });

  it('filters the log and says when there is none', () => {
    const text = diagnosticsBundle({ job: JOB, log: LOG });
    expect(text).not.toContain('Get:1');
    expect(text).toContain('sh: 1: lmp: not found');
    expect(diagnosticsBundle({ job: JOB })).toContain('Log: (empty)');
  });

  it('describes failed pods first and caps how many', () => {
    const pod = (name: string, phase: string): PodLike => ({ metadata: { name }, status: { phase } });
    const text = diagnosticsBundle({
      pods: [pod('a', 'Succeeded'), pod('b', 'Running'), pod('c', 'Failed'), pod('d', 'Pending')],
      maxPods: 2,
    });
    expect(text.indexOf('Pod c')).toBeLessThan(text.indexOf('Pod d'));
    expect(text).not.toContain('Pod a');
    expect(text).toContain('(2 more pods not shown)');
  });

  it('accepts client-node objects, whose times are Dates', () => {
    const job: V1Job = {
      metadata: { name: 'j' },
      status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: new Date(NOW) }] },
    };
    const pod: V1Pod = {
      metadata: { name: 'p', creationTimestamp: new Date(NOW - GRACE) },
      status: { phase: 'Pending' },
    };
    const coreEvent: CoreV1Event = {
      metadata: {},
      involvedObject: { kind: 'Pod', name: 'p' },
      reason: 'Pulling',
      message: 'Pulling image',
      lastTimestamp: new Date(NOW),
    };
    expect(classifyJob(job)).toEqual({ state: 'Complete' });
    expect(classifyPod(pod, NOW, GRACE)).toBeNull();
    expect(diagnosticsBundle({ job, pods: [pod], events: [coreEvent] })).toContain(
      '12:10:00 Normal Pulling pod/p: Pulling image',
    );
  });
});
