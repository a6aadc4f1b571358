// Performance models of pod rules (src/sim/behaviors.ts): the run's seconds and the figures its log
// prints answer the container's command line, environment and CPUs, with noise drawn from the pod's
// name; and demo/optimize.behaviors.yaml, the LAMMPS and AMG2023 models of the optimize demo.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseFigure } from '../../src/agents/optimize/figure.ts';
import {
  BehaviorsError,
  type BehaviorsInput,
  behaviors,
  compileExpression,
  formatValue,
  loadBehaviors,
  matchPodRule,
  noiseSample,
  parseBehaviors,
  processRun,
  renderTemplate,
  type Workload,
} from '../../src/sim/behaviors.ts';
import { scaledClock } from '../../src/sim/controllers/runtime.ts';
import { installCrdFiles, miniClusterCrdPath, startSimControllers, waitFor } from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store } from '../../src/sim/store.ts';

const demoPath = fileURLToPath(new URL('../../demo/optimize.behaviors.yaml', import.meta.url));

/** A LAMMPS-like rule: 120 core-seconds, 100 steps, the two figure lines LAMMPS prints. */
const lammpsLike = {
  image: 'lammps',
  command: '\\blmp\\b',
  outcome: 'Succeeded' as const,
  performance: {
    work: 120,
    ranks: { match: '-np\\s+(\\d+)' },
    threads: { match: '-pk\\s+omp\\s+(\\d+)', env: 'OMP_NUM_THREADS' },
    parallelEfficiency: 0.92,
    oversubscribePenalty: 2.5,
    bonuses: [
      { match: '--bind-to\\s+core', factor: 1.08 },
      { match: '-sf\\s+omp', factor: 1.15 },
      { match: '^OMP_PROC_BIND=true$', factor: 1.02 },
    ],
    noise: 0.03,
    figures: { timesteps_s: '100 / seconds', ns_day: '100 * 2 * 86400 / 1000000 / seconds' },
  },
  log:
    'Loop time of {seconds} on {ranks:d} procs for 100 steps with 32000 atoms\n\n' +
    'Performance: {ns_day:.3f} ns/day, {timesteps_s:.3f} timesteps/s\n' +
    '99.6% CPU use with {ranks:d} MPI tasks x {threads:d} OpenMP threads\n',
};

const rules = behaviors({ pods: [lammpsLike] });
const rule = rules.pods[0]!;

function workload(commandLine: string, options: Partial<Workload> = {}): Workload {
  return { commandLine, env: {}, cores: 8, tasks: 1, seed: 'default/lmp-0-abcde/main', ...options };
}

const seconds = (commandLine: string, options: Partial<Workload> = {}) =>
  processRun(rule, workload(commandLine, options)).runSeconds;

const timestepsPattern = /^Performance: .*?([0-9.]+) timesteps\/s/m;
const loopPattern = /^Loop time of ([0-9.e+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms/m;

describe('a pod rule with a performance model', () => {
  it('gives the same run for the same manifest and pod name, every time', () => {
    const first = processRun(rule, workload('mpirun -np 4 lmp -in in.lj'));
    for (let repeat = 0; repeat < 5; repeat++) {
      expect(processRun(rule, workload('mpirun -np 4 lmp -in in.lj'))).toEqual(first);
    }
    // A fresh parse of the same rules agrees too: nothing depends on state or the clock.
    expect(
      processRun(behaviors({ pods: [lammpsLike] }).pods[0], workload('mpirun -np 4 lmp -in in.lj')),
    ).toEqual(first);
  });

  it('spreads the runs of different pods within the noise', () => {
    const runs = Array.from({ length: 400 }, (_, index) =>
      seconds('mpirun -np 4 lmp', { seed: `default/lmp-${index}-x7k2q/main` }),
    );
    const mean = runs.reduce((sum, value) => sum + value, 0) / runs.length;
    const sd = Math.sqrt(runs.reduce((sum, value) => sum + (value - mean) ** 2, 0) / runs.length);
    const noiseless = processRun(
      behaviors({ pods: [{ ...lammpsLike, performance: { ...lammpsLike.performance, noise: 0 } }] }).pods[0],
      workload('mpirun -np 4 lmp'),
    ).runSeconds;
    expect(new Set(runs).size).toBe(runs.length);
    expect(Math.abs(mean / noiseless - 1)).toBeLessThan(0.01);
    expect(sd / mean).toBeGreaterThan(0.02);
    expect(sd / mean).toBeLessThan(0.04);
    // The sample is kept within ±3 standard deviations.
    for (const value of runs) expect(Math.abs(value / noiseless - 1)).toBeLessThanOrEqual(0.09 + 1e-9);
  });

  it('draws a standard normal sample from sha256 of the seed', () => {
    const samples = Array.from({ length: 2000 }, (_, index) => noiseSample(`pod-${index}`));
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(variance).toBeGreaterThan(0.85);
    expect(variance).toBeLessThan(1.15);
    expect(noiseSample('pod-1')).toBe(noiseSample('pod-1'));
  });

  it('runs faster with more ranks up to the cores, and slower past them', () => {
    const byRanks = [1, 2, 4, 8].map((ranks) => seconds(`mpirun -np ${ranks} lmp`));
    expect(byRanks[0]).toBeGreaterThan(byRanks[1]!);
    expect(byRanks[1]).toBeGreaterThan(byRanks[2]!);
    expect(byRanks[2]).toBeGreaterThan(byRanks[3]!);
    // 0.92 kept per doubling: 8 ranks are 8 × 0.92³ times faster than one.
    expect(byRanks[0]! / byRanks[3]!).toBeCloseTo(8 * 0.92 ** 3, 6);
    // Twice the ranks the 8 cores hold: each gets half a core, and pays the penalty on top.
    const oversubscribed = seconds('mpirun -np 16 lmp');
    expect(oversubscribed).toBeGreaterThan(byRanks[3]!);
    expect(oversubscribed / byRanks[3]!).toBeCloseTo(1 + 2.5 * (16 / 8 - 1), 6);
    // Ranks × threads count: 4 × 2 fill the 8 cores, 4 × 4 oversubscribe them.
    expect(seconds('mpirun -np 4 lmp', { env: { OMP_NUM_THREADS: '2' } })).toBeCloseTo(byRanks[3]!, 6);
    expect(seconds('mpirun -np 4 lmp -pk omp 4')).toBeCloseTo(oversubscribed, 6);
    // -pk omp N wins over OMP_NUM_THREADS, as in LAMMPS.
    expect(
      processRun(rule, workload('mpirun -np 4 lmp -pk omp 2', { env: { OMP_NUM_THREADS: '4' } })).values,
    ).toMatchObject({ ranks: 4, threads: 2, procs: 8 });
  });

  it('takes the cores from the CPUs the container may use', () => {
    expect(seconds('mpirun -np 4 lmp', { cores: 2 })).toBeGreaterThan(
      seconds('mpirun -np 4 lmp', { cores: 4 }),
    );
    expect(seconds('mpirun -np 4 lmp', { cores: 4 })).toBeCloseTo(
      seconds('mpirun -np 4 lmp', { cores: 64 }),
      9,
    );
  });

  it('counts one rank without mpirun, and the launcher tasks when it says how many', () => {
    expect(processRun(rule, workload('lmp -in in.lj')).values).toMatchObject({ ranks: 1, threads: 1 });
    expect(processRun(rule, workload('lmp -in in.lj', { tasks: 6 })).values).toMatchObject({ ranks: 6 });
    expect(processRun(rule, workload('mpirun -np 3 lmp', { tasks: 6 })).values).toMatchObject({ ranks: 3 });
  });

  it('applies bonuses found in the command line or in an environment entry', () => {
    const plain = seconds('mpirun -np 4 lmp');
    expect(plain / seconds('mpirun --bind-to core -np 4 lmp')).toBeCloseTo(1.08, 9);
    expect(plain / seconds('mpirun --bind-to core -np 4 lmp -sf omp')).toBeCloseTo(1.08 * 1.15, 9);
    expect(plain / seconds('mpirun -np 4 lmp', { env: { OMP_PROC_BIND: 'true' } })).toBeCloseTo(1.02, 9);
    expect(plain / seconds('mpirun -np 4 lmp', { env: { OMP_PROC_BIND: 'false' } })).toBeCloseTo(1, 9);
  });

  it('prints its figures into the log, which parses back to them', () => {
    const run = processRun(rule, workload('mpirun -np 4 lmp -sf omp', { env: { OMP_NUM_THREADS: '2' } }));
    expect(run.outcome).toBe('Succeeded');
    const loop = loopPattern.exec(run.log);
    expect(loop?.slice(2)).toEqual(['4', '100', '32000']);
    expect(Number(loop?.[1])).toBeCloseTo(run.runSeconds, 3);
    const timesteps = Number(timestepsPattern.exec(run.log)?.[1]);
    expect(timesteps).toBeCloseTo(100 / run.runSeconds, 3);
    expect(run.values?.['timesteps_s']).toBeCloseTo(timesteps, 3);
    expect(run.log).toContain('with 4 MPI tasks x 2 OpenMP threads');
    // LAMMPS prints the loop time with %g: six significant digits.
    expect(loop?.[1]).toMatch(/^\d+\.\d+$/);
    expect(loop?.[1]?.replace('.', '').replace(/^0+/, '').length).toBeLessThanOrEqual(6);
  });

  it('aborts with its log when a condition holds, before the run', () => {
    const checked = behaviors({
      pods: [
        {
          command: '\\bamg\\b',
          outcome: 'Succeeded',
          performance: {
            work: 10,
            ranks: { match: '-np\\s+(\\d+)' },
            variables: {
              px: { match: '-P\\s+(\\d+)', default: 'ranks' },
              py: { match: '-P\\s+\\d+\\s+(\\d+)', default: 1 },
              pz: { match: '-P\\s+\\d+\\s+\\d+\\s+(\\d+)', default: 1 },
            },
            aborts: [
              {
                when: 'px * py * pz != ranks',
                log: 'Error: {px:d}x{py:d}x{pz:d} is not {ranks:d}\n',
                exitCode: 3,
              },
            ],
            figures: { fom: 'px * py * pz / seconds' },
          },
          log: 'FOM {fom:.6e}\n',
        },
      ],
    }).pods[0];
    expect(processRun(checked, workload('mpirun -np 4 amg -P 2 2 2'))).toEqual({
      outcome: 'Failed',
      exitCode: 3,
      log: 'Error: 2x2x2 is not 4\n',
      runSeconds: 1,
      values: { cores: 8, ranks: 4, threads: 1, procs: 4, px: 2, py: 2, pz: 2 },
    });
    expect(processRun(checked, workload('mpirun -np 4 amg -P 2 2 1')).outcome).toBe('Succeeded');
    // Without -P, px defaults to the ranks, as AMG2023's does: 4 / (10 / 4) seconds.
    expect(processRun(checked, workload('mpirun -np 4 amg')).log).toBe('FOM 1.600000e+00\n');
  });

  it('leaves rules without a model as they were', () => {
    expect(processRun({ outcome: 'Succeeded', log: 'done {seconds}' }, workload('lmp'))).toEqual({
      outcome: 'Succeeded',
      exitCode: 0,
      log: 'done {seconds}',
      runSeconds: 2,
    });
  });
});

describe('expressions and templates', () => {
  it('evaluates arithmetic with precedence, min, max and one comparison', () => {
    const value = (text: string, values: Record<string, number> = {}) =>
      compileExpression(text).evaluate(values);
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('8 / 2 / 2')).toBe(2);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('-2 * -3')).toBe(6);
    expect(value('1.5e3 / seconds', { seconds: 3 })).toBe(500);
    expect(value('min(1, cores / procs) * 100', { cores: 2, procs: 4 })).toBe(50);
    expect(value('max(2, 3, 1)')).toBe(3);
    expect(value('px * py * pz != ranks', { px: 2, py: 2, pz: 1, ranks: 4 })).toBe(0);
    expect(value('ranks > 4', { ranks: 8 })).toBe(1);
    expect(compileExpression('a * (b + a) / c').names).toEqual(['a', 'b', 'c']);
  });

  it.each([
    'process.exit(1)',
    'require("fs")',
    'sqrt(2)',
    '1 +',
    '(1',
    '1 2',
    'a = 1',
    '`x`',
    '',
    '1 < 2 < 3',
  ])('refuses %j', (text) => {
    expect(() => compileExpression(text)).toThrow();
  });

  it('formats numbers as C printf does', () => {
    expect(formatValue(6.633333333)).toBe('6.63333');
    expect(formatValue(17.6114)).toBe('17.6114');
    expect(formatValue(0.4908321)).toBe('0.490832');
    expect(formatValue(1234567)).toBe('1.23457e+06');
    expect(formatValue(0.0000123)).toBe('1.23e-05');
    expect(formatValue(100)).toBe('100');
    expect(formatValue(15.07512, '.3f')).toBe('15.075');
    expect(formatValue(28924.58, '.6e')).toBe('2.892458e+04');
    expect(formatValue(27.557932, '.8g')).toBe('27.557932');
    expect(formatValue(103.775, '.4g')).toBe('103.8');
    expect(formatValue(3.6, 'd')).toBe('4');
    expect(formatValue(17.9, 'hms')).toBe('0:00:17');
    expect(formatValue(3725, 'hms')).toBe('1:02:05');
    expect(formatValue(1 / 0)).toBe('inf');
  });

  it('substitutes names, keeps other braces, and prints {{ as a brace', () => {
    expect(renderTemplate('{x:.2f} {{N}umerical {4--5} {"json": 1}', { x: 1.23456 })).toBe(
      '1.23 {N}umerical {4--5} {"json": 1}',
    );
  });
});

describe('the schema of performance models', () => {
  const issues = (text: string) => {
    try {
      parseBehaviors(text, 'b.yaml');
    } catch (error) {
      if (error instanceof BehaviorsError) return error.issues;
      throw error;
    }
    return [];
  };
  const rule = (performance: string, log = 'x') =>
    `pods:\n  - command: lmp\n    outcome: Succeeded\n    log: "${log}"\n    performance:\n${performance}`;

  it.each([
    {
      name: 'noise out of range',
      yaml: rule('      work: 1\n      noise: 0.5\n'),
      field: 'pods[0].performance.noise',
    },
    { name: 'a missing work', yaml: rule('      noise: 0.1\n'), field: 'pods[0].performance.work' },
    { name: 'a bad expression', yaml: rule('      work: "2 *"\n'), field: 'pods[0].performance.work' },
    {
      name: 'an unknown name in an expression',
      yaml: rule('      work: 1\n      figures:\n        fom: "flops / seconds"\n'),
      field: 'pods[0].performance.figures.fom',
      message: /unknown name "flops"/,
    },
    {
      name: 'a figure used before it is defined',
      yaml: rule('      work: 1\n      figures:\n        a: "b * 2"\n        b: "seconds"\n'),
      field: 'pods[0].performance.figures.a',
    },
    {
      name: 'a name in the log the model does not have',
      yaml: rule('      work: 1\n', 'Performance: {tau_day} tau/day'),
      field: 'pods[0].log',
      message: /\{tau_day\}/,
    },
    {
      name: 'a bad number format',
      yaml: rule('      work: 1\n', '{seconds:%g}'),
      field: 'pods[0].log',
    },
    {
      name: 'both speedup laws',
      yaml: rule('      work: 1\n      serialFraction: 0.1\n      parallelEfficiency: 0.9\n'),
      field: 'pods[0].performance.parallelEfficiency',
    },
    {
      name: 'a source regex with two groups',
      yaml: rule('      work: 1\n      ranks: { match: "(mpirun|mpiexec) -np (\\\\d+)" }\n'),
      field: 'pods[0].performance.ranks.match',
      message: /\(\?:/,
    },
    {
      name: 'a variable named like a built-in value',
      yaml: rule('      work: 1\n      variables:\n        cores: { default: 2 }\n'),
      field: 'pods[0].performance.variables.cores',
    },
    {
      name: 'an unknown field',
      yaml: rule('      work: 1\n      jitter: 0.1\n'),
      field: 'pods[0].performance',
    },
    {
      name: 'runSeconds beside a model',
      yaml: `pods:\n  - outcome: Succeeded\n    runSeconds: 3\n    performance:\n      work: 1\n`,
      field: 'pods[0].runSeconds',
    },
  ])('names the field of $name', ({ yaml, field, message }) => {
    const found = issues(yaml);
    expect(found.map((issue) => issue.field)).toContain(field);
    const issue = found.find((entry) => entry.field === field);
    expect(issue?.line).toBeGreaterThan(0);
    if (message) expect(issue?.message).toMatch(message);
  });
});

// ---------------------------------------------------------------------------------------------------
// Through the simulated cluster

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function cluster(input: BehaviorsInput | string, crd = false, speed = 0.001) {
  // Timestamps in simulated time, so a container's startedAt and finishedAt are its run's seconds apart.
  const clock = scaledClock(speed);
  const store = new Store({ clock });
  const logs = new LogStore();
  if (crd) installCrdFiles(store, [miniClusterCrdPath()]);
  const sim = startSimControllers({ store, logs, clock, speed, behaviors: input });
  stop = sim.stop;
  return { store, logs };
}

function job(
  name: string,
  container: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', ...container }] } },
    },
  };
}

const finished = (object: KubeObject | undefined) =>
  (
    (object?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
  ).some(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );

function podsOf(store: Store, name: string): IPod[] {
  return store.list('v1/pods', 'default', { labelSelector: `job-name=${name}` }).items as unknown as IPod[];
}

describe('a Job on the simulated cluster', () => {
  const command = ['mpirun', '--bind-to', 'core', '-np', '4', 'lmp', '-in', 'in.lj'];

  it('prints the figure the model computes for the pod: its command, environment, CPUs and name', async () => {
    // 100 times the wall clock: the run's minute takes 0.6 s, so timers a few ms late stay within a second.
    const { store, logs } = cluster({ pullable: ['.*'], pods: [lammpsLike] }, false, 0.01);
    store.create(
      'batch/v1/jobs',
      job('lj', {
        image: 'lammps/lammps:stable',
        command,
        env: [{ name: 'OMP_NUM_THREADS', value: '1' }],
        resources: { limits: { cpu: '2' } },
      }),
    );
    await waitFor(store, 'batch/v1/jobs', 'default', 'lj', finished, { timeoutMs: 10_000 });
    const [pod] = podsOf(store, 'lj');
    const log = logs.read('default', pod?.metadata?.name ?? '', 'main');
    // The kubelet ran the rule with the pod's limit (2 of the node's 4 CPUs) and the pod's name.
    const expected = processRun(rule, {
      commandLine: command.join(' '),
      env: { OMP_NUM_THREADS: '1' },
      cores: 2,
      tasks: 1,
      // Drawn from the Job and the completion index, not the pod's random name: a rerun measures the same.
      seed: 'default/job/lj//main',
    });
    expect(log).toBe(expected.log);
    expect(Number(timestepsPattern.exec(log)?.[1])).toBeCloseTo(expected.values?.['timesteps_s'] ?? 0, 3);
    expect(log).toContain('Loop time of');
    expect(pod?.status?.phase).toBe('Succeeded');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    // The model's seconds are the container's run time (timestamps have whole seconds).
    const ran = (Date.parse(terminated?.finishedAt ?? '') - Date.parse(terminated?.startedAt ?? '')) / 1000;
    expect(expected.runSeconds).toBeGreaterThan(30);
    expect(Math.abs(ran - expected.runSeconds)).toBeLessThanOrEqual(1 + 0.1 * expected.runSeconds);
  });

  it('gives each repetition of an Indexed Job (a pod each) its own figure, the same on a rerun', async () => {
    const { store, logs } = cluster({ pullable: ['.*'], pods: [lammpsLike] });
    store.create(
      'batch/v1/jobs',
      job(
        'reps',
        { image: 'lammps/lammps:stable', command, resources: { requests: { cpu: '4' } } },
        { completions: 3, parallelism: 1, completionMode: 'Indexed' },
      ),
    );
    await waitFor(store, 'batch/v1/jobs', 'default', 'reps', finished, { timeoutMs: 10_000 });
    const pods = podsOf(store, 'reps');
    expect(pods).toHaveLength(3);
    const read = (pod: IPod) => logs.read('default', pod.metadata?.name ?? '', 'main');
    // Loop times (six significant digits) tell the runs apart; timesteps/s (three decimals) may not.
    const loopTimes = pods.map((pod) => Number(loopPattern.exec(read(pod))?.[1]));
    expect(new Set(loopTimes).size, JSON.stringify(loopTimes)).toBe(3);
    const figures = pods.map((pod) => Number(timestepsPattern.exec(read(pod))?.[1]));
    const noiseless = 100 / (120 / (4 * 0.92 ** 2 * 1.08));
    for (const figure of figures) expect(Math.abs(figure / noiseless - 1)).toBeLessThan(0.1);
    for (const pod of pods) {
      const again = processRun(rule, {
        commandLine: command.join(' '),
        env: {},
        cores: 4,
        tasks: 1,
        seed: `default/job/reps/${pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index']}/main`,
      });
      expect(logs.read('default', pod.metadata?.name ?? '', 'main')).toBe(again.log);
    }
  });

  it('leaves a pod that requests more CPUs than a node has Unschedulable', async () => {
    const { store } = cluster({ pullable: ['.*'], pods: [lammpsLike] });
    store.create(
      'batch/v1/jobs',
      job('big', { image: 'lammps/lammps:stable', command, resources: { requests: { cpu: '16' } } }),
    );
    const unschedulable = (pods: IPod[]) =>
      pods.some((pod) =>
        pod.status?.conditions?.some(
          (condition) => condition.type === 'PodScheduled' && condition.reason === 'Unschedulable',
        ),
      );
    const deadline = Date.now() + 5000;
    while (!unschedulable(podsOf(store, 'big')) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unschedulable(podsOf(store, 'big'))).toBe(true);
  });

  it('runs a MiniCluster application with the tasks Flux starts on the brokers’ CPUs', async () => {
    const { store, logs } = cluster({ pullable: ['.*'], pods: [lammpsLike] }, true);
    store.create('flux-framework.org/v1alpha2/miniclusters', {
      apiVersion: 'flux-framework.org/v1alpha2',
      kind: 'MiniCluster',
      metadata: { name: 'flux-lj', namespace: 'default' },
      spec: {
        size: 2,
        tasks: 6,
        containers: [
          {
            image: 'ghcr.io/converged-computing/lammps:latest',
            command: 'lmp -in in.lj',
            environment: { OMP_NUM_THREADS: '1' },
          },
        ],
      },
    });
    await waitFor(store, 'batch/v1/jobs', 'default', 'flux-lj', finished, { timeoutMs: 10_000 });
    const lead = podsOf(store, 'flux-lj').find(
      (pod) => pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index'] === '0',
    );
    const log = logs.read('default', lead?.metadata?.name ?? '', 'flux-lj');
    expect(log).toContain('Loop time of');
    expect(log).toContain('with 6 MPI tasks x 1 OpenMP threads');
    // Two brokers on 4-CPU nodes: 8 cores for the 6 ranks.
    const expected = processRun(rule, {
      commandLine: 'lmp -in in.lj',
      env: { OMP_NUM_THREADS: '1' },
      cores: 8,
      tasks: 6,
      seed: `default/${lead?.metadata?.name}/flux-lj`,
    });
    expect(log.endsWith(expected.log)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// demo/optimize.behaviors.yaml

describe('the optimize demo behaviours', () => {
  const demo = loadBehaviors(demoPath);
  const lammpsImage = 'registry.fractale.demo:5000/lammps:3f554a2fdf52';
  const amgImage = 'registry.fractale.demo:5000/amg2023:9b1c';
  const lmp = ['lmp', '-v', 'x', '2', '-v', 'y', '2', '-v', 'z', '2', '-in', './in.reaxff.hns', '-nocite'];
  const run = (image: string, command: string[], options: Partial<Workload> = {}) =>
    processRun(
      matchPodRule(demo, { image, command }),
      workload(command.join(' '), { cores: 4, seed: 'default/trial-0-q8z2m/main', ...options }),
    );
  const figure = (log: string, parser: 'lammps-timesteps' | 'amg-fom' | 'lammps-loop-time') => {
    const result = parseFigure({ parser }, log);
    if (!result.ok) throw new Error(result.error);
    return result.figure.value;
  };
  const mpirun = (ranks: number, ...options: string[]) => [
    'mpirun',
    '--allow-run-as-root',
    ...options,
    '-np',
    String(ranks),
  ];

  it('is valid and builds LAMMPS and AMG2023 as the experiment demo does', () => {
    expect(demo.pods.filter((entry) => entry.performance)).toHaveLength(4);
    expect(parse(readFileSync(demoPath, 'utf8'))).toBeTruthy();
  });

  it('runs the baseline LAMMPS Job with the figures of LAMMPS’s own 1-rank log', () => {
    const baseline = run(lammpsImage, lmp, { cores: 2 });
    expect(baseline.outcome).toBe('Succeeded');
    // examples/reaxff/HNS/log.30Nov23.reaxff.hns.g++.1: 17.6114 s, 5.678 timesteps/s.
    expect(figure(baseline.log, 'lammps-timesteps')).toBeGreaterThan(5.678 * 0.9);
    expect(figure(baseline.log, 'lammps-timesteps')).toBeLessThan(5.678 * 1.1);
    expect(baseline.log).toContain('Loop time of');
    expect(baseline.log).toContain('on 1 procs for 100 steps with 2432 atoms');
    expect(baseline.log).toContain('Per MPI rank memory allocation (min/avg/max) = 215 | 215 | 215 Mbytes');
    expect(baseline.log).toMatch(/^Total wall time: 0:00:1\d$/m);
  });

  it('makes LAMMPS faster with ranks up to the cores, binding and -sf omp, and slower past the cores', () => {
    const timesteps = (command: string[], options: Partial<Workload> = {}) => {
      const result = run(lammpsImage, command, options);
      expect(result.outcome, result.log).toBe('Succeeded');
      return figure(result.log, 'lammps-timesteps');
    };
    const one = timesteps(lmp);
    const two = timesteps([...mpirun(2), ...lmp]);
    const four = timesteps([...mpirun(4), ...lmp]);
    expect(two).toBeGreaterThan(one);
    expect(four).toBeGreaterThan(two);
    // LAMMPS's 4-rank log of the example: 15.075 timesteps/s.
    expect(four / 15.075).toBeGreaterThan(0.9);
    expect(four / 15.075).toBeLessThan(1.1);
    expect(timesteps([...mpirun(4, '--bind-to', 'core'), ...lmp])).toBeGreaterThan(four);
    expect(timesteps([...mpirun(4), ...lmp, '-sf', 'omp'])).toBeGreaterThan(four);
    // 4 ranks on a 2-CPU limit: oversubscribed, slower than 2 ranks there.
    expect(timesteps([...mpirun(4), ...lmp], { cores: 2 })).toBeLessThan(
      timesteps([...mpirun(2), ...lmp], { cores: 2 }),
    );
    // OpenMP threads need the /omp styles: without -sf omp they do nothing.
    expect(timesteps([...mpirun(2), ...lmp], { env: { OMP_NUM_THREADS: '2' } })).toBeCloseTo(two, 6);
    expect(timesteps([...mpirun(2), ...lmp, '-sf', 'omp', '-pk', 'omp', '2'])).toBeGreaterThan(two);
    // --bind-to core without a PE= mapping squeezes a rank's threads onto its one core.
    expect(
      timesteps([...mpirun(2, '--bind-to', 'core'), ...lmp, '-sf', 'omp', '-pk', 'omp', '2']),
    ).toBeLessThan(
      timesteps([
        ...mpirun(2, '--map-by', 'slot:PE=2', '--bind-to', 'core'),
        ...lmp,
        '-sf',
        'omp',
        '-pk',
        'omp',
        '2',
      ]),
    );
    // More ranks than the node's 4 slots need --oversubscribe, and then run slower.
    const eight = run(lammpsImage, [...mpirun(8), ...lmp]);
    expect(eight.outcome).toBe('Failed');
    expect(eight.log).toContain('There are not enough slots available in the system to satisfy the 8\nslots');
    expect(timesteps([...mpirun(8, '--oversubscribe'), ...lmp])).toBeLessThan(four);
    // Open MPI as root without --allow-run-as-root.
    expect(run(lammpsImage, ['mpirun', '-np', '4', ...lmp]).log).toContain(
      'mpirun has detected an attempt to run as root.',
    );
  });

  it('prints the loop time LAMMPS prints, which parses back to the run’s seconds', () => {
    const result = run(lammpsImage, [...mpirun(4), ...lmp]);
    expect(figure(result.log, 'lammps-loop-time')).toBeCloseTo(result.runSeconds, 4);
    expect(result.log).toContain(
      '  triclinic box = (0 0 0) to (44.652 22.2824 27.557932) with tilt (0 -10.05206 0)',
    );
    expect(result.log).toContain('99.6% CPU use with 4 MPI tasks x 1 OpenMP threads');
  });

  it('raises the AMG2023 figure of merit with the ranks up to the cores and lowers it past them', () => {
    const amg = (ranks: number, grid: string, ...options: string[]) => {
      const result = run(amgImage, [
        ...mpirun(ranks, ...options),
        'amg',
        '-n',
        '64',
        '64',
        '64',
        '-P',
        ...grid.split(' '),
      ]);
      expect(result.outcome, result.log).toBe('Succeeded');
      return figure(result.log, 'amg-fom');
    };
    const one = amg(1, '1 1 1');
    const two = amg(2, '2 1 1');
    const four = amg(4, '2 2 1');
    expect(two).toBeGreaterThan(one);
    expect(four).toBeGreaterThan(two);
    expect(amg(8, '2 2 2', '--oversubscribe')).toBeLessThan(four);
    const log = run(amgImage, [...mpirun(4), 'amg', '-n', '64', '64', '64', '-P', '2', '2', '1']).log;
    expect(log).toContain('    (Nx, Ny, Nz) = (128, 128, 64)\n    (Px, Py, Pz) = (2, 2, 1)\n');
    expect(log).toMatch(
      /^Figure of Merit \(FOM\): nnz_AP \/ \(Setup Phase Time \+ Solve Phase Time\) \d\.\d{6}e\+06$/m,
    );
    // Problem 2 prints its own formula: setup + 3 × solve.
    const problem2 = run(amgImage, [
      ...mpirun(4),
      'amg',
      '-n',
      '64',
      '64',
      '64',
      '-P',
      '2',
      '2',
      '1',
      '-problem',
      '2',
    ]).log;
    expect(problem2).toContain('Laplacian_7pt:');
    expect(problem2).toContain('Figure of Merit (FOM): nnz_AP / (Setup Phase Time + 3 * Solve Phase Time) ');
    expect(figure(problem2, 'amg-fom')).toBeGreaterThan(0);
  });

  it('aborts AMG2023 as amg.c does when px*py*pz is not the number of ranks', () => {
    const wrong = run(amgImage, [...mpirun(4), 'amg', '-n', '64', '64', '64', '-P', '2', '2', '2']);
    expect(wrong.outcome).toBe('Failed');
    expect(wrong.exitCode).toBe(1);
    expect(wrong.log).toContain('Error: Invalid number of processors or processor topology \n');
    expect(wrong.log).toContain('mpirun detected that one or more processes exited with non-zero status');
    expect(parseFigure({ parser: 'amg-fom' }, wrong.log).ok).toBe(false);
    // Without -P, AMG2023 lays the ranks along x: any rank count is valid.
    expect(run(amgImage, [...mpirun(3), 'amg', '-n', '64', '64', '64']).outcome).toBe('Succeeded');
    // A single process with -P 2 2 1: the error alone, no mpirun to report it.
    const alone = run(amgImage, ['amg', '-P', '2', '2', '1']);
    expect(alone.log).toContain('Error: Invalid number of processors or processor topology');
    expect(alone.log).not.toContain('mpirun');
  });
});
