// `npm run bench:chaos`: the operator under faults, measured. Four runs of the same plan mix
// (bench/chaos/scenarios.ts) against the simulated cluster, the operator in its own process:
//
//   baseline      no faults (the wall time the API-fault run is compared with)
//   kills         SIGKILLs at random times; a second replica with leader election after a third of them
//   api-faults    writes answered 500 / 409, requests 429 with Retry-After, watches cut every 5-20 s
//   model-faults  the model answers 429, 500, too slowly, blocked, empty or malformed at set rates
//
// Prints one table, writes bench/results/chaos.json, and exits 1 when a goal is missed.
//   --plans N (100)  --kills N (30)  --speed F (0.02)  --seed N (1)  --only kills,api-faults,...
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FAULT_RATES } from '../src/sim/faults.ts';
import { type ChaosFigures, DEFAULT_MODEL_FAULTS, runChaos } from './chaos/harness.ts';

export interface ChaosBenchOptions {
  plans: number;
  kills: number;
  speed: number;
  seed: number;
  only?: string[];
  modelLatencyMs?: number;
  /** Random gap between kills (default 1-3 s); a few plans finish sooner, so the test kills faster. */
  killGapMs?: [number, number];
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface Goal {
  run: string;
  figure: string;
  value: string;
  goal: string;
  met: boolean;
}

export interface ChaosReport {
  runs: ChaosFigures[];
  goals: Goal[];
  ok: boolean;
}

export async function chaosBench(options: ChaosBenchOptions): Promise<ChaosReport> {
  const wanted = (run: string) => !options.only || options.only.includes(run);
  const common = {
    plans: options.plans,
    speed: options.speed,
    seed: options.seed,
    modelLatencyMs: options.modelLatencyMs ?? 100,
    timeoutMs: options.timeoutMs ?? 20 * 60_000,
    ...(options.log ? { log: options.log } : {}),
  };
  const runs: ChaosFigures[] = [];
  if (wanted('baseline') || wanted('api-faults')) runs.push(await runChaos({ ...common, name: 'baseline' }));
  if (wanted('kills')) {
    runs.push(
      await runChaos({
        ...common,
        name: 'kills',
        kills: {
          count: options.kills,
          gapMs: options.killGapMs ?? [1_000, 3_000],
          twoReplicasAfter: Math.ceil(options.kills / 3),
        },
      }),
    );
  }
  if (wanted('api-faults'))
    runs.push(await runChaos({ ...common, name: 'api-faults', apiFaults: DEFAULT_FAULT_RATES }));
  if (wanted('model-faults')) {
    runs.push(
      await runChaos({
        ...common,
        name: 'model-faults',
        modelFaults: DEFAULT_MODEL_FAULTS,
        persistentModelFaults: { blocked: 2, outage: 1 },
      }),
    );
  }
  const goals = goalsOf(runs, options);
  return { runs, goals, ok: goals.every((g) => g.met) };
}

function goalsOf(runs: ChaosFigures[], options: ChaosBenchOptions): Goal[] {
  const goals: Goal[] = [];
  const add = (run: string, figure: string, value: number | string, goal: string, met: boolean) =>
    goals.push({ run, figure, value: String(value), goal, met });
  const baseline = runs.find((r) => r.name === 'baseline');
  for (const r of runs) {
    add(
      r.name,
      'plans completed with the phase their script implies',
      `${r.completed}/${r.plans}`,
      r.name === 'model-faults' ? 'the rest end naming the fault' : 'all',
      r.completed + r.endedNamingModelFault === r.plans,
    );
    if (r.name === 'model-faults')
      add(
        r.name,
        'plans ended Failed naming a block or empty answer (not retried)',
        r.endedNamingModelFault,
        'reported',
        true,
      );
    add(
      r.name,
      'duplicate Jobs or MiniClusters for one attempt',
      r.duplicateObjects,
      '0',
      r.duplicateObjects === 0,
    );
    add(
      r.name,
      'attempts whose history entry is missing / doubled',
      `${r.historyMissing} / ${r.historyDoubled}`,
      '0 / 0',
      r.historyMissing + r.historyDoubled === 0,
    );
    add(r.name, 'attempts beyond the scripts', r.extraAttempts, '0', r.extraAttempts === 0);
    add(r.name, 'steps stuck (no progress for 60 s)', r.stuckSteps.length, '0', r.stuckSteps.length === 0);
    add(
      r.name,
      'objects left after the plans are deleted',
      Object.values(r.leftovers).reduce((a, b) => a + b, 0),
      '0',
      Object.keys(r.leftovers).length === 0,
    );
    add(r.name, 'operator crashes (exits nobody asked for)', r.unexpectedExits, '0', r.unexpectedExits === 0);
    if (r.name !== 'model-faults') {
      add(
        r.name,
        "model calls (distinct prompts) / the scripts'",
        `${r.modelCalls} / ${r.expectedModelCalls}`,
        'equal',
        r.modelCalls === r.expectedModelCalls,
      );
      add(
        r.name,
        'prompts asked again with no kill in between',
        r.unexplainedRepeats,
        '0',
        r.unexplainedRepeats === 0,
      );
    }
    if (r.name === 'kills') {
      add(r.name, 'SIGKILLs', r.kills, `>= ${options.kills}`, r.kills >= options.kills);
      add(
        r.name,
        'prompts asked again after a kill: in flight / answered but not yet stored',
        `${r.repeatsAfterKill - r.repeatsAnswerLost} / ${r.repeatsAnswerLost}`,
        'reported',
        true,
      );
    }
    if (r.name === 'api-faults' && baseline) {
      const ratio = r.wallSeconds / baseline.wallSeconds;
      add(
        r.name,
        'wall time / fault-free run',
        `${ratio.toFixed(2)} (${r.wallSeconds.toFixed(0)} s / ${baseline.wallSeconds.toFixed(0)} s)`,
        'reported',
        true,
      );
    }
    if (r.name === 'model-faults') {
      add(
        r.name,
        "model calls (distinct prompts) / the scripts'",
        `${r.modelCalls} / ${r.expectedModelCalls}`,
        'equal',
        r.modelCalls === r.expectedModelCalls,
      );
      add(
        r.name,
        'most requests for one call',
        r.maxRequestsPerCall,
        '<= 6 (5 retries)',
        r.maxRequestsPerCall <= 6,
      );
      const ok = r.persistent.filter((p) => p.ok).length;
      add(
        r.name,
        'steps naming a persistent model fault in status',
        `${ok}/${r.persistent.length}`,
        'all',
        ok === r.persistent.length,
      );
    }
  }
  return goals;
}

export function formatReport(report: ChaosReport): string {
  const rows = [
    ['run', 'figure', 'value', 'goal', ''],
    ...report.goals.map((g) => [g.run, g.figure, g.value, g.goal, g.met ? 'ok' : 'MISSED']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  for (const r of report.runs) {
    const faults = Object.entries(r.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      '',
      `${r.name}: ${r.wallSeconds.toFixed(1)} s, ${r.modelRequests} model requests${faults ? `; faults: ${faults}` : ''}`,
    );
    for (const w of r.wrongPhase.slice(0, 5))
      lines.push(`  ${w.plan} (${w.scenario}) ended ${w.phase ?? 'unfinished'}: ${w.message ?? ''}`);
    lines.push(
      `  failed attempts by reason: ${Object.entries(r.failureReasons)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    for (const [reason, messages] of Object.entries(r.failureMessages))
      for (const m of messages) lines.push(`    ${reason}: ${m}`);
    if (r.duplicates.length > 0) lines.push(`  created twice: ${r.duplicates.slice(0, 10).join(', ')}`);
    if (r.stuckSteps.length > 0) lines.push(`  stuck: ${r.stuckSteps.slice(0, 10).join(', ')}`);
    if (Object.keys(r.leftovers).length > 0) lines.push(`  left: ${JSON.stringify(r.leftovers)}`);
    for (const p of r.persistent)
      lines.push(
        `  ${p.plan}: ${p.ok ? 'ok' : 'MISSED'} (${p.expect}): ${p.phase ?? ''} ${p.reason ?? ''} ${p.message ?? ''}`,
      );
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      plans: { type: 'string', default: '100' },
      kills: { type: 'string', default: '30' },
      speed: { type: 'string', default: '0.02' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
    },
  });
  const report = await chaosBench({
    plans: Number(values.plans),
    kills: Number(values.kills),
    speed: Number(values.speed),
    seed: Number(values.seed),
    ...(values.only ? { only: values.only.split(',') } : {}),
    log: (line) => console.error(line),
  });
  console.log(formatReport(report));
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'chaos.json'),
    `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`,
  );
  process.exitCode = report.ok ? 0 : 1;
}
