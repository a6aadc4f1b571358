// `fractale demo experiment`: a small experiment end to end on a simulated cluster with no key: three
// applications (LAMMPS, AMG2023, an MPI hello world) × two variants of `details` (vague, specific)
// × three repetitions. The scripted model picks among its answers by the plan's name, so repetitions
// differ while every run of the demo tells the same story; the report shows the differences.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../analysis/index.ts';
import { DEFAULT_PRICES } from '../../analysis/tokens.ts';
import type { AgentExperiment } from '../../api/agentexperiment.ts';
import { readExperimentRuns } from '../../experiment/aggregate.ts';
import { experimentCells } from '../../experiment/matrix.ts';
import type { KubeObject } from '../../kube/client.ts';
import { RESOURCES } from '../../kube/resources.ts';
import { ScriptedModel } from '../../llm/index.ts';
import { createOperator } from '../../operator/index.ts';
import { writeReport } from '../../report/index.ts';
import { loadConfig } from '../../runtime/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { Manager } from '../../runtime/manager.ts';
import { FRACTALE, SIM_REGISTRY } from '../../sim/cli.ts';
import { type SimCluster, startSimCluster } from '../../sim/index.ts';
import { type CommandContext, EXIT } from '../command.ts';
import { aborted, println } from '../io.ts';
import { connect } from '../kube.ts';
import { followExperiment, headlineLines, readExperimentFile } from './experiment.ts';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
export const EXPERIMENT_DEMO = root('demo/experiment.yaml');
export const EXPERIMENT_SCRIPT = root('demo/experiment.script.yaml');
export const EXPERIMENT_BEHAVIORS = root('demo/experiment.behaviors.yaml');
/** Where the report goes without --results: one folder, emptied by each run. */
export const EXPERIMENT_REPORT = join(tmpdir(), 'fractale-demo-experiment');
/** Simulated durations are multiplied by this: the 18 plans take about ten seconds. */
export const EXPERIMENT_SPEED = 0.02;

type Experiment = AgentExperiment & KubeObject;

export interface ExperimentDemoOptions {
  keep?: boolean;
  results?: string;
  speed?: number;
}

export async function runExperimentDemo(options: ExperimentDemoOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const speed = options.speed ?? EXPERIMENT_SPEED;
  const experiment = readExperimentFile(EXPERIMENT_DEMO);
  const name = experiment.metadata.name!;
  const cells = experimentCells(experiment.spec);
  println(
    io.stdout,
    `fractale demo experiment: demo/experiment.yaml, ${cells.length} cells (${experiment.spec.matrix.applications.map((a) => a.name).join(', ')} × ${(experiment.spec.matrix.variants ?? []).map((v) => v.name).join(', ')}) × ${experiment.spec.matrix.repetitions} repetitions`,
  );
  println(
    io.stdout,
    'Model: scripted answers from demo/experiment.script.yaml with choices seeded by each plan’s name, no model is called',
  );
  let sim: SimCluster | undefined;
  let operator: Manager | undefined;
  try {
    sim = await startSimCluster({ speed, behaviors: EXPERIMENT_BEHAVIORS });
    println(
      io.stdout,
      `Cluster: simulated at ${sim.url} (demo/experiment.behaviors.yaml), time runs ${Math.round(1 / speed)}x faster`,
    );
    const conn = await connect({ kubeconfig: sim.kubeconfigPath, requireExperiments: true }, io);
    const config = loadConfig(
      { registry: SIM_REGISTRY, leaderElect: false, resyncSeconds: 0, logLevel: 'silent' },
      {},
    );
    operator = createOperator({
      kubeConfig: conn.kubeConfig,
      config,
      logger: silentLogger(),
      model: ScriptedModel.fromFile(EXPERIMENT_SCRIPT),
    });
    await operator.start();
    println(io.stdout, '');
    await conn.client.create(RESOURCES.agentExperiments, {
      ...experiment,
      metadata: { ...experiment.metadata, namespace: conn.namespace },
    } as Experiment);
    const outcome = await followExperiment(conn, name, io);
    if (outcome.kind === 'interrupted') {
      ctx.exit(EXIT.interrupted);
      return;
    }
    const done = outcome.object;
    const runs = await readExperimentRuns(conn.client, conn.namespace, name);
    const summary = analyze(runs, { prices: DEFAULT_PRICES, generated: io.now().toISOString() });
    summary.experiment = name;
    let dir = EXPERIMENT_REPORT;
    if (options.results) dir = resolve(io.cwd, options.results);
    else rmSync(dir, { recursive: true, force: true });
    await writeReport(summary, dir, { title: `Experiment ${name} (fractale demo, scripted model)` });
    println(io.stdout, '');
    for (const line of headlineLines(summary)) println(io.stdout, line);
    for (const mistake of summary.repeatedMistakes.slice(0, 5))
      println(
        io.stdout,
        `  repeated mistake: ${mistake.cell}${mistake.step ? ` ${mistake.step}` : ''} starts with "${mistake.label}" in ${mistake.repetitions} of ${mistake.of} repetitions`,
      );
    println(io.stdout, `Report: ${join(dir, 'report.html')} (CSVs and summary.json beside it)`);
    if (done.status?.phase !== 'Completed') ctx.exit(EXIT.failed);
    if (options.keep) {
      println(io.stdout, `The cluster keeps running until Ctrl-C. Look around with kubectl:`);
      println(io.stdout, `  export KUBECONFIG=${sim.kubeconfigPath}`);
      println(io.stdout, '  kubectl get agentexperiments,agentplans');
      println(io.stdout, `  ${FRACTALE} experiment get ${name}`);
      await aborted(io.signal);
      println(io.stdout, 'Stopping the operator and the simulated cluster');
    } else {
      println(
        io.stdout,
        `The simulated cluster is stopped; run \`${FRACTALE === 'fractale' ? 'fractale demo experiment --keep' : 'npm run demo -- experiment --keep'}\` to explore it with kubectl`,
      );
    }
  } finally {
    await operator?.stop(1000);
    await sim?.stop();
  }
}
