// Summaries for the report's tests: the analysis of the experiment fixtures (five LAMMPS runs, one
// final Dockerfile carrying markup as a model could write it); a hand-made experiment of
// 2 applications × 2 variants × 2 models × 3 repetitions (facets by model, many cells); and a lone
// plan with nothing to compare or count; and the optimize steps of a tuning experiment (the optimize
// fixture, a second repetition of it, and a step of another application whose figure falls).
import { analyze } from '../../src/analysis/index.ts';
import type { FailureCategory } from '../../src/analysis/taxonomy.ts';
import type {
  AttemptRow,
  CallRecord,
  CellSummary,
  Distribution,
  FailureRecord,
  FinalArtifact,
  RunKey,
  RunRecord,
  RunSummary,
  StageRecord,
  Summary,
} from '../../src/analysis/types.ts';
import { loadOptimizeRun, loadRuns } from '../fixtures/experiment/load.ts';

/** Model-written text that must render as text. */
export const HOSTILE = '</script><img src=x onerror=alert(1)>';

const CATEGORIES: { category: FailureCategory; label: string }[] = [
  { category: 'missing-package', label: 'Missing dependency' },
  { category: 'compile-error', label: 'Compile error' },
  // Not the taxonomy's label: one with quotes and commas, for the CSVs.
  { category: 'wrong-command', label: 'Wrong command, "quoted", and, commas' },
];

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => {
    if (sorted.length === 0) return 0;
    const x = (sorted.length - 1) * p;
    const lo = Math.floor(x);
    const hi = Math.ceil(x);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
  };
  const counts = new Map<number, number>();
  for (const v of sorted) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    n: sorted.length,
    min: sorted[0] ?? 0,
    q1: at(0.25),
    median: at(0.5),
    q3: at(0.75),
    max: sorted.at(-1) ?? 0,
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
    histogram: [...counts].map(([value, count]) => ({ value, count })),
  };
}

function dockerfile(application: string, variant: string, repetition: number): string {
  const lines = [
    `FROM ubuntu:2${repetition % 2 ? 2 : 4}.04`,
    'RUN apt-get update && apt-get install -y build-essential cmake',
    variant === 'intel' ? 'RUN apt-get install -y intel-oneapi-compiler' : 'RUN apt-get install -y gcc g++',
    `RUN git clone https://github.com/example/${application}.git /opt/${application}`,
    `WORKDIR /opt/${application}`,
    repetition === 3 ? 'RUN make -j4 && make install' : 'RUN cmake . && make -j2',
  ];
  if (application === 'lammps' && variant === 'gcc' && repetition === 2)
    lines.push(`LABEL note="${HOSTILE}"`);
  return lines.join('\n') + '\n';
}

/** analyze() of test/fixtures/experiment, with HOSTILE in every build artifact of lammps-vague r2. */
export function analyzedSummary(): Summary {
  const runs = loadRuns();
  for (const run of runs) {
    if (run.cell !== 'lammps-vague' || run.repetition !== 2) continue;
    for (const step of run.results.steps) {
      if (step.step !== 'build') continue;
      for (const asset of step.metadata.assets.attempts ?? []) {
        if (asset.artifact !== undefined) asset.artifact += `LABEL note="${HOSTILE}"\n`;
      }
    }
  }
  return analyze(runs, { generated: '2025-01-02T03:04:05.000Z' });
}

/** The hand-made experiment. */
export function experimentSummary(): Summary {
  const applications = ['lammps', 'amg2023'];
  const variants = ['gcc', 'intel'];
  const models = ['pro', 'flash'];
  const runs: RunSummary[] = [];
  const cells: CellSummary[] = [];
  const attempts: AttemptRow[] = [];
  const failures: FailureRecord[] = [];
  const stages: StageRecord[] = [];
  const calls: CallRecord[] = [];
  const artifacts: FinalArtifact[] = [];
  const summary: Summary = {
    experiment: 'compilers',
    generated: '2025-01-02T03:04:05.000Z',
    axes: { applications, variants, models },
    headline: { runs: 0, succeeded: 0, successRate: 0, medianAttempts: 0, tokens: 0 },
    runs,
    cells,
    groups: [],
    attempts,
    failures,
    failureCounts: [],
    repeatedMistakes: [],
    changes: [],
    consistency: [],
    stages,
    buildCache: [],
    calls,
    tokens: [],
    artifacts,
    optimization: [],
    optimizations: [],
  };
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
  for (const application of applications) {
    for (const variant of variants) {
      for (const model of models) {
        const cell = `${application}-${variant}-${model}`;
        const success: number[] = [];
        let tokens = 0;
        let callCount = 0;
        const plans: string[] = [];
        for (let repetition = 1; repetition <= 3; repetition++) {
          const plan = `compilers-${cell}-${repetition}`;
          const key: RunKey = { plan, cell, application, variant, model, repetition };
          const tries = 1 + next(4);
          const succeeded = !(application === 'amg2023' && variant === 'intel' && repetition === 3);
          let runTokens = 0;
          for (let attempt = 1; attempt <= tries; attempt++) {
            const ok = succeeded && attempt === tries;
            const failure = CATEGORIES[(attempt + next(3)) % CATEGORIES.length]!;
            const row: AttemptRow = {
              ...key,
              step: 'build',
              stepRun: `${plan}-build`,
              agent: 'build',
              attempt,
              outcome: ok ? 'Succeeded' : 'Failed',
              reason: ok ? 'Built' : 'BuildFailed',
              seconds: 30 + next(90),
              tokens: 1000 + next(4000),
              modelCalls: 1,
            };
            if (!ok) row.category = failure.category;
            if (attempt > 1) row.changedLines = 1 + next(6);
            attempts.push(row);
            runTokens += row.tokens;
            calls.push({
              ...key,
              step: 'build',
              agent: 'build',
              attempt,
              promptTokens: row.tokens - 300,
              outputTokens: 300,
              totalTokens: row.tokens,
              seconds: 2 + next(10) / 10,
            });
            callCount++;
            if (!ok) {
              failures.push({
                ...key,
                step: 'build',
                stepRun: row.stepRun,
                agent: 'build',
                attempt,
                reason: 'BuildFailed',
                category: failure.category,
                label: failure.label,
                evidence: 'E: Unable to locate package libfftw3-dev, "really"\nsecond line',
                message: 'build failed',
              });
            }
            for (const [stage, base] of [
              ['generate', 5],
              ['build', 40],
              ['deploy', 3],
              ['run', 20],
            ] as const) {
              stages.push({
                ...key,
                step: 'build',
                stepRun: row.stepRun,
                agent: 'build',
                attempt,
                stage,
                seconds: base + next(base),
              });
            }
            if (attempt > 1) {
              const firstChangedIndex = next(6);
              summary.buildCache.push({
                ...key,
                stepRun: row.stepRun,
                attempt,
                firstChangedIndex,
                instructions: 6,
                buildSeconds: 10 + (6 - firstChangedIndex) * 15 + next(10),
              });
            }
          }
          if (succeeded) {
            success.push(tries);
            plans.push(plan);
            artifacts.push({
              cell,
              plan,
              repetition,
              step: 'build',
              agent: 'build',
              artifact: dockerfile(application, variant, repetition),
            });
          }
          tokens += runTokens;
          runs.push({
            ...key,
            status: succeeded ? 'Succeeded' : 'Failed',
            attempts: tries,
            recoveries: 0,
            returnsToHuman: 0,
            tokens: runTokens,
            dollars: runTokens * 1e-6,
            seconds: 100 * tries,
          });
        }
        const cellSummary: CellSummary = {
          name: cell,
          application,
          variant,
          model,
          runs: 3,
          succeeded: success.length,
          failed: 3 - success.length,
          successRate: success.length / 3,
          attempts: distribution(success),
          recoveries: 0,
          returnsToHuman: 0,
          tokens,
          tokensPerSuccess: success.length ? tokens / success.length : undefined,
          dollars: tokens * 1e-6,
          dollarsPerSuccess: success.length ? (tokens * 1e-6) / success.length : undefined,
        };
        cells.push(cellSummary);
        summary.tokens.push({
          cell,
          calls: callCount,
          promptTokens: tokens - 300 * callCount,
          outputTokens: 300 * callCount,
          totalTokens: tokens,
          succeeded: success.length,
          tokensPerSuccess: cellSummary.tokensPerSuccess,
          dollars: cellSummary.dollars,
          dollarsPerSuccess: cellSummary.dollarsPerSuccess,
          price: { inputPerMillion: 1, outputPerMillion: 1 },
        });
        const n = plans.length;
        summary.consistency.push({
          cell,
          step: 'build',
          agent: 'build',
          plans,
          matrix: Array.from({ length: n }, (_, i) =>
            Array.from({ length: n }, (_, j) => (i === j ? 1 : 0.5 + ((i + j) % 3) / 10)),
          ),
          mean: n > 1 ? 0.6 : undefined,
          commonLines: [
            { line: 'RUN apt-get update && apt-get install -y build-essential cmake', count: n },
            { line: `WORKDIR /opt/${application}`, count: n },
          ],
        });
      }
    }
  }
  const counts = new Map<
    string,
    { application: string; category: FailureCategory; label: string; count: number }
  >();
  for (const f of failures) {
    const k = `${f.application}/${f.category}`;
    const entry = counts.get(k) ?? {
      application: f.application,
      category: f.category,
      label: f.label,
      count: 0,
    };
    entry.count++;
    counts.set(k, entry);
  }
  summary.failureCounts = [...counts.values()];
  summary.repeatedMistakes = [
    {
      cell: 'amg2023-intel-pro',
      category: CATEGORIES[0]!.category,
      label: CATEGORIES[0]!.label,
      repetitions: 3,
      of: 3,
    },
  ];
  const succeeded = runs.filter((r) => r.status === 'Succeeded');
  const top = [...counts.values()].sort((a, b) => b.count - a.count)[0]!;
  summary.headline = {
    runs: runs.length,
    succeeded: succeeded.length,
    successRate: succeeded.length / runs.length,
    medianAttempts: distribution(succeeded.map((r) => r.attempts)).median,
    tokens: runs.reduce((a, r) => a + r.tokens, 0),
    dollars: runs.reduce((a, r) => a + (r.dollars ?? 0), 0),
    topFailure: { category: top.category, label: top.label, count: top.count },
  };
  return summary;
}

/** One plan, one repetition, succeeded at once: every comparison and failure section is empty. */
export function lonePlanSummary(): Summary {
  const key: RunKey = {
    plan: 'lammps',
    cell: 'lammps',
    application: 'lammps',
    variant: '',
    model: '',
    repetition: 1,
  };
  return {
    generated: '2025-01-02T03:04:05.000Z',
    axes: { applications: ['lammps'], variants: [], models: [] },
    headline: { runs: 1, succeeded: 1, successRate: 1, medianAttempts: 1, tokens: 1200 },
    runs: [
      {
        ...key,
        status: 'Succeeded',
        attempts: 1,
        recoveries: 0,
        returnsToHuman: 0,
        tokens: 1200,
        seconds: 90,
      },
    ],
    cells: [
      {
        name: 'lammps',
        application: 'lammps',
        variant: '',
        model: '',
        runs: 1,
        succeeded: 1,
        failed: 0,
        successRate: 1,
        attempts: distribution([1]),
        recoveries: 0,
        returnsToHuman: 0,
        tokens: 1200,
        tokensPerSuccess: 1200,
      },
    ],
    groups: [],
    attempts: [
      {
        ...key,
        step: 'build',
        stepRun: 'lammps-build',
        agent: 'build',
        attempt: 1,
        outcome: 'Succeeded',
        reason: 'Built',
        seconds: 90,
        tokens: 1200,
        modelCalls: 1,
      },
    ],
    failures: [],
    failureCounts: [],
    repeatedMistakes: [],
    changes: [],
    consistency: [
      {
        cell: 'lammps',
        step: 'build',
        agent: 'build',
        plans: ['lammps'],
        matrix: [[1]],
        commonLines: [{ line: 'FROM ubuntu:24.04', count: 1 }],
      },
    ],
    stages: [],
    buildCache: [],
    calls: [],
    tokens: [],
    artifacts: [
      {
        cell: 'lammps',
        plan: 'lammps',
        repetition: 1,
        step: 'build',
        agent: 'build',
        artifact: 'FROM ubuntu:24.04\n',
      },
    ],
    optimization: [],
    optimizations: [],
  };
}

/** The optimize fixture as another run: its plan renamed, its trials' figures and outcomes replaced. */
function tuningRun(
  base: RunRecord,
  where: { plan: string; cell: string; application: string; repetition: number },
  optimization: { figure: string; direction: 'higher' | 'lower'; trials: [number[], string][] },
): RunRecord {
  const run = structuredClone(base);
  const old = run.plan;
  Object.assign(run, where);
  run.results.plan = where.plan;
  for (const step of run.results.steps) step.name = step.name.replace(old, where.plan);
  const o = run.results.steps.find((step) => step.metadata.optimization)!.metadata.optimization!;
  o.figure = optimization.figure;
  o.direction = optimization.direction;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  optimization.trials.forEach(([figures, outcome], i) => {
    const trial = o.trials[i]!;
    trial.outcome = outcome as typeof trial.outcome;
    trial.figures = figures;
    if (figures.length > 0) {
      trial.median = median(figures);
      trial.spread = Math.max(...figures) - Math.min(...figures);
      trial.message = `${outcome} at ${trial.median} ${optimization.figure}`;
    }
  });
  const best = o.trials.findLast((t) => t.outcome === 'kept' || t.outcome === 'baseline')!;
  o.baseline = o.trials[0]!.median!;
  o.best = best.median!;
  o.bestAttempt = best.attempt;
  o.ratio = optimization.direction === 'higher' ? o.best / o.baseline : o.baseline / o.best;
  return run;
}

/**
 * analyze() of a tuning experiment's optimize steps: the fixture (timesteps/s), a second repetition
 * whose trial 2 is kept, with HOSTILE in that trial's change and diff (two panels of one chart), and
 * an amg2023 step measuring seconds, where lower is better (a chart of its own).
 */
export function optimizationSummary(): Summary {
  const base = loadOptimizeRun();
  const second = tuningRun(
    base,
    { plan: 'tuning-lammps-r2', cell: 'lammps', application: 'lammps', repetition: 2 },
    {
      figure: 'timesteps/s',
      direction: 'higher',
      trials: [
        [[97, 99, 101], 'baseline'],
        [[290, 296, 301], 'kept'],
        [[335, 340, 344], 'kept'],
        [[], 'failed'],
      ],
    },
  );
  const trial = second.results.steps[1]!.metadata.optimization!.trials[2]!;
  trial.change = `Pin each rank to a core ${HOSTILE}`;
  trial.diff = `${trial.diff}+          # ${HOSTILE}\n`;
  const amg = tuningRun(
    base,
    { plan: 'tuning-amg2023-r1', cell: 'amg2023', application: 'amg2023', repetition: 1 },
    {
      figure: 'solve time (s)',
      direction: 'lower',
      trials: [
        [[12.4, 12.1, 12.9], 'baseline'],
        [[8.1, 8.3, 8], 'kept'],
        [[7.9, 8.6, 8.2], 'reverted'],
        [[], 'failed'],
      ],
    },
  );
  return analyze([base, second, amg], { generated: '2025-01-02T03:04:05.000Z' });
}
