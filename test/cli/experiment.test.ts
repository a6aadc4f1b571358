// `fractale experiment run|get|report` and `fractale report` against the simulated cluster with a
// running operator, on the demo's experiment (demo/experiment.yaml: 3 applications × 2 variants × 3
// repetitions), as a person types them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/analysis/types.ts';
import { DEMO_REGISTRY } from '../../src/cli/commands/demo.ts';
import {
  EXPERIMENT_BEHAVIORS,
  EXPERIMENT_DEMO,
  EXPERIMENT_SCRIPT,
} from '../../src/cli/commands/demo-experiment.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { startTestOperator, type TestOperator } from '../helpers/operator.ts';
import { fractale, tempDir, testIO } from './io.ts';

let operator: TestOperator;
beforeAll(async () => {
  operator = await startTestOperator({
    model: ScriptedModel.fromFile(EXPERIMENT_SCRIPT),
    sim: { behaviors: EXPERIMENT_BEHAVIORS },
    config: { registry: DEMO_REGISTRY },
  });
}, 120_000);
afterAll(async () => {
  await operator?.stop();
});
const kc = () => ['--kubeconfig', operator.sim.kubeconfigPath];

describe('fractale experiment', () => {
  it('validates the demo experiment', async () => {
    const result = await fractale(['validate', EXPERIMENT_DEMO]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`${EXPERIMENT_DEMO}: AgentExperiment demo (valid)`);
  });

  it('refuses an experiment file with a bad field, naming it', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync(EXPERIMENT_DEMO, 'utf8')
        .replace('repetitions: 3', 'repetitions: 0')
        .replace('concurrency: 6', 'concurency: 6'),
    );
    const result = await fractale(['experiment', 'run', file, ...kc()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file} is invalid:`);
    expect(result.stderr).toContain('unknown field "spec.concurency" (did you mean concurrency?)');
    expect(result.stderr).toContain('spec.matrix.repetitions');
  });

  it('runs the demo experiment with --follow, lists it, shows its grid and writes its report', async () => {
    const run = await fractale(['experiment', 'run', EXPERIMENT_DEMO, '--follow', ...kc()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'Created AgentExperiment demo in namespace default: 6 cell(s) × 3 repetition(s) = 18 plan(s), at most 6 at once',
    );
    // The grid: a line per cell as its marks change, ending with every repetition succeeded.
    expect(run.stdout).toMatch(/^CELL\s+RUNS\s+DONE\s+FAILED\s+NOW$/m);
    for (const cell of ['lammps-vague', 'lammps-specific', 'amg2023-vague', 'mpi-hello-specific'])
      expect(run.stdout).toMatch(new RegExp(`^${cell}\\s+✓✓✓\\s+3/3\\s+0$`, 'm'));
    expect(run.stdout).toContain(
      'AgentExperiment demo: Completed, 18/18 plans ended (18 succeeded, 0 failed)',
    );
    expect(run.stderr).toContain(
      'AgentExperiment demo completed. Report: fractale experiment report demo -o DIR',
    );

    const list = await fractale(['experiment', 'get', ...kc()]);
    expect(list.code).toBe(0);
    const [header, row] = list.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+PHASE\s+PLANS\s+DONE\s+FAILED\s+AGE\s+MESSAGE$/);
    expect(row).toMatch(
      /^demo\s+Completed\s+18\s+18\s+0\s+\d+s\s+All 18 plan\(s\) ended: 18 succeeded, 0 failed/,
    );

    const grid = await fractale(['experiment', 'get', 'demo', ...kc()]);
    expect(grid.stdout.trim().split('\n')).toHaveLength(8);
    expect(grid.stdout).toMatch(/^amg2023-specific\s+✓✓✓\s+3\/3\s+0$/m);

    const dir = tempDir();
    const report = await fractale(['experiment', 'report', 'demo', '-o', dir, ...kc()]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`Report: ${join(dir, 'report.html')}`);
    expect(report.stdout).toContain('Plans: 18, succeeded 18 (100 %)');
    expect(report.stdout).toContain(
      '(no dollars: a model of these runs has no price; give one with --prices)',
    );
    // A price for the model that answered (the script, named by its file) gives dollars.
    const prices = join(dir, 'prices.yaml');
    writeFileSync(prices, 'experiment.script.yaml: { inputPerMillion: 1.25, outputPerMillion: 10 }\n');
    const priced = await fractale([
      'experiment',
      'report',
      'demo',
      '-o',
      tempDir(),
      '--prices',
      prices,
      ...kc(),
    ]);
    expect(priced.code, priced.stderr).toBe(0);
    expect(priced.stdout).toMatch(/^Tokens: [\d,]+ \(about \$0\.\d\d\)$/m);
    const badPrices = join(dir, 'bad-prices.yaml');
    writeFileSync(badPrices, 'gemini-2.5-pro: { inputPerMillion: cheap }\n');
    const refused = await fractale([
      'experiment',
      'report',
      'demo',
      '-o',
      tempDir(),
      '--prices',
      badPrices,
      ...kc(),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('gemini-2.5-pro.inputPerMillion');
    for (const file of [
      'report.html',
      'attempts.csv',
      'failures.csv',
      'calls.csv',
      'stages.csv',
      'summary.json',
    ])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.experiment).toBe('demo');
    expect(summary.runs).toHaveLength(18);
    expect(summary.cells.map((c) => `${c.name} ${c.succeeded}/${c.runs}`)).toEqual([
      'amg2023-specific 3/3',
      'amg2023-vague 3/3',
      'lammps-specific 3/3',
      'lammps-vague 3/3',
      'mpi-hello-specific 3/3',
      'mpi-hello-vague 3/3',
    ]);
    // The vague prompt makes the same first mistake in every repetition; the specific one does not.
    expect(summary.repeatedMistakes).toContainEqual(
      expect.objectContaining({ cell: 'lammps-vague', category: 'tls', repetitions: 3, of: 3 }),
    );
    expect(summary.repeatedMistakes.some((m) => m.cell === 'lammps-specific')).toBe(false);
    const buildAttempts = (cell: string) =>
      summary.attempts.filter((a) => a.cell === cell && a.step === 'build').length;
    for (const app of ['lammps', 'amg2023', 'mpi-hello'])
      expect(buildAttempts(`${app}-vague`), app).toBeGreaterThan(buildAttempts(`${app}-specific`));
    const csv = readFileSync(join(dir, 'attempts.csv'), 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe(
      'plan,cell,application,variant,model,repetition,plan_status,step,step_run,agent,attempt,outcome,reason,category,seconds,tokens,model_calls,changed_lines',
    );
    expect(csv).toHaveLength(summary.attempts.length + 1);

    // The same report over the plans themselves, selected by label or named.
    const byLabel = tempDir();
    const selected = await fractale([
      'report',
      '-l',
      'fractale.dev/application=lammps',
      '-o',
      byLabel,
      ...kc(),
    ]);
    expect(selected.code, selected.stderr).toBe(0);
    const lammps = JSON.parse(readFileSync(join(byLabel, 'summary.json'), 'utf8')) as Summary;
    expect(lammps.runs.map((r) => r.plan)).toEqual([
      'demo-lammps-specific-r1',
      'demo-lammps-specific-r2',
      'demo-lammps-specific-r3',
      'demo-lammps-vague-r1',
      'demo-lammps-vague-r2',
      'demo-lammps-vague-r3',
    ]);
    expect(lammps.cells.map((c) => c.name)).toEqual(['lammps-specific', 'lammps-vague']);
    const named = tempDir();
    const two = await fractale([
      'report',
      'demo-mpi-hello-vague-r1',
      'demo-mpi-hello-vague-r2',
      '-o',
      named,
      ...kc(),
    ]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toContain('Plans: 2, succeeded 2 (100 %)');
  }, 300_000);

  it('labels the changes with --analyze once, then from the cache', async () => {
    const dir = tempDir();
    const script = join(dir, 'labels.yaml');
    writeFileSync(
      script,
      'reuse: true\nresponses:\n  - agent: change-label\n    match: ca-certificates\n    text: "**Added ca-certificates.**"\n  - agent: change-label\n    text: changed the build\n',
    );
    const cache = join(dir, 'labels.json');
    const args = ['experiment', 'report', 'demo', '--analyze', '--provider', 'scripted', '--script', script];
    const first = await fractale([...args, '--labels-cache', cache, '-o', join(dir, 'one'), ...kc()]);
    expect(first.code, first.stderr).toBe(0);
    const asked = Number(/: (\d+) model call\(s\)/.exec(first.stderr)?.[1]);
    expect(asked).toBeGreaterThan(0);
    const summary = JSON.parse(readFileSync(join(dir, 'one', 'summary.json'), 'utf8')) as Summary;
    const lammps = summary.changes.find((c) => c.cell === 'lammps-vague' && c.step === 'build');
    // The model's answer is cleaned: no markdown, no full stop, lower case.
    expect(lammps?.label).toBe('added ca-certificates');
    expect(summary.changes.every((c) => typeof c.label === 'string')).toBe(true);
    const second = await fractale([...args, '--labels-cache', cache, '-o', join(dir, 'two'), ...kc()]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(': 0 model call(s)');
  }, 120_000);

  it('says what is wrong when there is nothing to report', async () => {
    const missing = await fractale(['experiment', 'report', 'nope', '-o', tempDir(), ...kc()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('AgentExperiment nope not found in namespace default');
    const none = await fractale(['report', '-o', tempDir(), ...kc()]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('name the plans to report on, or select them with -l');
    const unmatched = await fractale([
      'report',
      '-l',
      'fractale.dev/application=nothing',
      '-o',
      tempDir(),
      ...kc(),
    ]);
    expect(unmatched.stderr).toContain(
      'no AgentPlan in namespace default matches -l fractale.dev/application=nothing',
    );
    const io = testIO();
    const noOutput = await fractale(['experiment', 'report', 'demo', ...kc()], io);
    expect(noOutput.code).toBe(1);
    expect(noOutput.stderr).toContain("required option '-o, --output <dir>' not specified");
  });
});
