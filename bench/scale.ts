// `npm run bench:scale` (and part of `npm run bench`): the operator under hundreds of plans at once,
// measured (bench/scale/harness.ts). Every plan is build → run with one failed build and one failed
// run: 4 attempts, 2 Kaniko Jobs, 2 run Jobs, 6 model calls answered after a fixed latency.
//
//   load           50, 100, 250, 500 and 1,000 plans: time, CPU, memory, API requests per
//                  attempt by verb, model calls and tokens, Job → status latency, bytes stored per plan
//   concurrency    --concurrency 1, 4, 16, 64 at 500 plans
//   model limit    --model-concurrency 4, 16, 64, 256 at 500 plans
//   retention      100 plans keeping no failed attempt's Jobs (spec.retain.failedAttempts: 0)
//
// Prints a table, writes bench/results/scale.json; the goals are reported, not asserted.
//   --sizes 50,100,250,500,1000  --latency MS (100)  --speed F (0.01)  --only load,concurrency,...
//   --sweep-plans N (500)  --concurrency N (the operator's default)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_CONCURRENCY } from '../src/llm/limiter.ts';
import { operatorConfig } from '../src/runtime/config.ts';
import { ATTEMPTS_PER_PLAN, type Lane, runScale, type ScaleFigures } from './scale/harness.ts';

const DEFAULT_CONCURRENCY = operatorConfig.parse({}).concurrency;

export interface ScaleBenchOptions {
  sizes: number[];
  sweepPlans: number;
  concurrencies: number[];
  modelConcurrencies: number[];
  concurrency: number;
  latencyMs: number;
  speed: number;
  /** Run the compiled operator (dist/), as the container image does; the sources otherwise. */
  compiled?: boolean;
  /** sim (default): the simulated cluster; real: kube-apiserver, etcd, kube-controller-manager. */
  lane?: Lane;
  only?: string[];
  log?: (line: string) => void;
}

export interface Goal {
  figure: string;
  value: string;
  goal: string;
  met: boolean;
}

export interface ScaleReport {
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  options: Omit<ScaleBenchOptions, 'log'>;
  load: ScaleFigures[];
  concurrency: ScaleFigures[];
  modelConcurrency: ScaleFigures[];
  retention: ScaleFigures[];
  /** Operator RSS growth per plan between the smallest and the largest load (the slope). */
  bytesPerLivePlan: number;
  goals: Goal[];
}

export async function scaleBench(options: ScaleBenchOptions): Promise<ScaleReport> {
  const wanted = (series: string) => !options.only || options.only.includes(series);
  const common = {
    modelLatencyMs: options.latencyMs,
    speed: options.speed,
    timeoutMs: 20 * 60_000,
    compiled: options.compiled ?? false,
    lane: options.lane ?? 'sim',
    ...(options.log ? { log: options.log } : {}),
  };
  const load: ScaleFigures[] = [];
  if (wanted('load'))
    for (const plans of options.sizes)
      load.push(
        await runScale({
          ...common,
          name: `load-${plans}`,
          plans,
          concurrency: options.concurrency,
          measureDeletion: plans === Math.max(...options.sizes),
        }),
      );
  const atSweep = load.find((r) => r.plans === options.sweepPlans);
  const concurrency: ScaleFigures[] = [];
  if (wanted('concurrency'))
    for (const n of options.concurrencies)
      concurrency.push(
        n === options.concurrency && atSweep
          ? atSweep
          : await runScale({
              ...common,
              name: `concurrency-${n}`,
              plans: options.sweepPlans,
              concurrency: n,
            }),
      );
  const modelConcurrency: ScaleFigures[] = [];
  if (wanted('model-concurrency'))
    for (const n of options.modelConcurrencies)
      modelConcurrency.push(
        n === DEFAULT_MODEL_CONCURRENCY && atSweep
          ? atSweep
          : await runScale({
              ...common,
              name: `model-concurrency-${n}`,
              plans: options.sweepPlans,
              concurrency: options.concurrency,
              modelConcurrency: n,
            }),
      );
  const retention: ScaleFigures[] = [];
  if (wanted('retention'))
    retention.push(
      await runScale({
        ...common,
        name: 'retention-0',
        plans: 100,
        concurrency: options.concurrency,
        failedAttemptsToKeep: 0,
      }),
    );
  const [smallest, largest] = [load[0], load.at(-1)];
  const bytesPerLivePlan =
    smallest && largest && largest.plans > smallest.plans
      ? Math.round(
          ((largest.operator.peakRssMB - smallest.operator.peakRssMB) * 1024 * 1024) /
            (largest.plans - smallest.plans),
        )
      : 0;
  return {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
    },
    options: { ...options, log: undefined } as Omit<ScaleBenchOptions, 'log'>,
    load,
    concurrency,
    modelConcurrency,
    retention,
    bytesPerLivePlan,
    goals: goalsOf(atSweep ?? largest),
  };
}

function goalsOf(r: ScaleFigures | undefined): Goal[] {
  if (!r) return [];
  const at = `at ${r.plans} plans`;
  return [
    {
      figure: `all plans Succeeded ${at}`,
      value: `${r.succeeded}/${r.plans}`,
      goal: 'all',
      met: r.succeeded === r.plans,
    },
    {
      figure: `attempts beyond the script's ${r.plans * ATTEMPTS_PER_PLAN} ${at}`,
      value: String(r.extraAttempts ?? 0),
      goal: '0',
      met: (r.extraAttempts ?? 0) === 0,
    },
    {
      figure: `wall time beyond the model's floor (${r.modelFloorSeconds} s) ${at}`,
      value: `${r.beyondFloorSeconds} s`,
      goal: '≤ 60 s',
      met: r.beyondFloorSeconds <= 60,
    },
    {
      figure: `operator peak RSS ${at}`,
      value: `${r.operator.peakRssMB} MB`,
      goal: '≤ 250 MB',
      met: r.operator.peakRssMB <= 250,
    },
    {
      figure: 'operator CPU per step attempt',
      value: `${r.operator.cpuMsPerAttempt} ms`,
      goal: '≤ 5 ms',
      met: r.operator.cpuMsPerAttempt <= 5,
    },
    {
      figure: 'API writes per attempt (create, update, patch, delete; events included)',
      value: String(r.requests.writesPerAttempt),
      goal: '≤ 15',
      met: r.requests.writesPerAttempt <= 15,
    },
    {
      figure: 'GETs of objects per attempt (pod logs aside)',
      value: String(r.requests.objectGetsPerAttempt),
      goal: '0 (read from informer caches)',
      met: r.requests.objectGetsPerAttempt === 0,
    },
    {
      figure: `Job terminal → AgentStep status written, p99 ${at}`,
      value: `${r.latency.p99Ms} ms (p50 ${r.latency.p50Ms} ms)`,
      goal: '≤ 200 ms',
      met: r.latency.p99Ms <= 200,
    },
  ];
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const num = (s: string | number, n: number) => String(s).padStart(n);

export function formatReport(report: ScaleReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; lane: ${report.options.lane ?? 'sim'}`,
  );
  const header = [
    pad('run', 22),
    num('plans', 6),
    num('conc', 5),
    num('model', 6),
    num('wall s', 8),
    num('floor s', 8),
    num('plans/s', 8),
    num('RSS MB', 7),
    num('CPU s', 7),
    num('ms/att', 7),
    num('extra', 6),
    num('wr/att', 7),
    num('get/att', 8),
    num('p50 ms', 8),
    num('p99 ms', 8),
    num('tok/plan', 9),
    num('sim MB', 7),
    num('sim CPU', 8),
    num('KB/plan', 8),
  ].join(' ');
  lines.push(header);
  const rows = [...report.load, ...report.concurrency, ...report.modelConcurrency, ...report.retention];
  const seen = new Set<ScaleFigures>();
  for (const r of rows) {
    if (seen.has(r)) continue;
    seen.add(r);
    lines.push(
      [
        pad(r.name, 22),
        num(r.plans, 6),
        num(r.concurrency, 5),
        num(r.modelConcurrency, 6),
        num(r.wallSeconds, 8),
        num(r.modelFloorSeconds, 8),
        num(r.plansPerSecond, 8),
        num(r.operator.peakRssMB, 7),
        num(r.operator.cpuSeconds, 7),
        num(r.operator.cpuMsPerAttempt, 7),
        num(r.extraAttempts ?? 0, 6),
        num(r.requests.writesPerAttempt, 7),
        num(r.requests.objectGetsPerAttempt, 8),
        num(r.latency.p50Ms, 8),
        num(r.latency.p99Ms, 8),
        num(r.model.tokensPerPlan, 9),
        num(r.sim.peakRssMB, 7),
        num(r.sim.cpuSeconds, 8),
        num((r.footprint.bytesPerPlan / 1024).toFixed(1), 8),
      ].join(' '),
    );
  }
  const sweep = report.load.find((r) => r.plans === report.options.sweepPlans) ?? report.load.at(-1);
  if (sweep) {
    lines.push('', `API requests per attempt at ${sweep.plans} plans (operator only):`);
    for (const [what, n] of Object.entries(sweep.requests.byResource)) lines.push(`  ${pad(what, 34)} ${n}`);
    lines.push('', `Stored per plan at ${sweep.plans} plans (JSON bytes, by resource):`);
    for (const [what, { count, bytes }] of Object.entries(sweep.footprint.byResource))
      lines.push(
        `  ${pad(what, 16)} ${num((count / sweep.plans).toFixed(2), 6)} objects ${num(Math.round(bytes / sweep.plans), 7)} B`,
      );
    lines.push(
      `  largest object: ${sweep.footprint.largest.resource}/${sweep.footprint.largest.name}, ${sweep.footprint.largest.bytes} B`,
    );
    if (sweep.footprint.afterDeletion)
      lines.push(
        `  after the plans are deleted: ${sweep.footprint.afterDeletion.objects} objects (${sweep.footprint.afterDeletion.bytes} B, Events, which expire on their own)`,
      );
  }
  lines.push('', `Operator RSS per live plan (slope over the load series): ${report.bytesPerLivePlan} B`);
  lines.push('', 'Goals:');
  for (const g of report.goals)
    lines.push(`  ${g.met ? 'met   ' : 'MISSED'} ${pad(g.figure, 70)} ${pad(g.value, 28)} goal ${g.goal}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      // 1,000 plans take under 2 minutes here, so they are part of the default run.
      sizes: { type: 'string', default: '50,100,250,500,1000' },
      'sweep-plans': { type: 'string', default: '500' },
      concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
      latency: { type: 'string', default: '100' },
      speed: { type: 'string', default: '0.01' },
      only: { type: 'string' },
      // real: the same runs against kube-apiserver, etcd and kube-controller-manager built from
      // Kubernetes' sources (npm run control-plane builds them once); bench/results/scale-real.json.
      lane: { type: 'string', default: 'sim' },
    },
  });
  if (values.lane !== 'sim' && values.lane !== 'real') throw new Error('--lane must be sim or real');
  const lane = values.lane as Lane;
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => Number(x.trim()))
      .filter((x) => Number.isInteger(x) && x > 0);
  const sizes = list(values.sizes);
  // The operator runs as the container image runs it: compiled.
  const build = spawnSync('npm', ['run', 'build'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('npm run build failed');
  const report = await scaleBench({
    compiled: true,
    lane,
    sizes,
    sweepPlans: Number(values['sweep-plans']),
    concurrencies: [1, 4, 16, 64],
    modelConcurrencies: [4, 16, 64, 256],
    concurrency: Number(values.concurrency),
    latencyMs: Number(values.latency),
    speed: Number(values.speed),
    ...(values.only ? { only: values.only.split(',') } : {}),
    log: (line) => console.error(line),
  });
  console.log(formatReport(report));
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, lane === 'real' ? 'scale-real.json' : 'scale.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWrote ${file}`);
  const complete = [...report.load, ...report.concurrency, ...report.modelConcurrency, ...report.retention];
  if (complete.some((r) => r.succeeded !== r.plans)) process.exitCode = 1;
}
