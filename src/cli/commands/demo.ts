// `fractale demo`: plans/run-lammps.yaml end to end on a simulated cluster, with the operator in this
// process and, unless GEMINI_API_KEY is set, a scripted model telling the seed's story (a Dockerfile
// without CA certificates, a Job with the wrong pull policy, both fixed after the debug agent's advice).
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentStep } from '../../api/index.ts';
import type { KubeObject } from '../../kube/client.ts';
import { RESOURCES } from '../../kube/resources.ts';
import { createModel, ModelConfigError, ScriptedModel } from '../../llm/index.ts';
import type { LanguageModel } from '../../llm/types.ts';
import { createOperator } from '../../operator/index.ts';
import type { ResultsDocument } from '../../results/document.ts';
import { loadConfig } from '../../runtime/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { Manager } from '../../runtime/manager.ts';
import { FRACTALE, SIM_REGISTRY } from '../../sim/cli.ts';
import { type SimCluster, startSimCluster } from '../../sim/index.ts';
import { type CommandContext, EXIT } from '../command.ts';
import { UserError } from '../errors.ts';
import { readPlanFile } from '../files.ts';
import { aborted, println } from '../io.ts';
import { connect } from '../kube.ts';
import { planResults } from '../steps.ts';
import { clip, formatDuration } from '../view.ts';
import { applyAndFollow, writeResultsFile } from './plan.ts';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
export const DEMO_PLAN = root('plans/run-lammps.yaml');
export const DEMO_SCRIPT = root('demo/run-lammps.script.yaml');
/** The sim's registry, which the scripted answers name. */
export const DEMO_REGISTRY = SIM_REGISTRY;
/** Where the results go without --results: one folder, emptied by each run, so runs leave no trail. */
export const DEMO_RESULTS = join(tmpdir(), 'fractale-demo');
/** Simulated durations are multiplied by this: the LAMMPS build and run take seconds, not minutes. */
export const DEMO_SPEED = 0.05;

export interface DemoOptions {
  keep?: boolean;
  results?: string;
  speed?: number;
}

/** A demo's plan, its scripted answers and the cluster it runs on. */
export interface DemoStory {
  /** What `fractale demo <name>` runs. */
  name: string;
  plan: string;
  script: string;
  /** The simulated cluster's behaviours; default behaviors/default.yaml. */
  behaviors?: string;
  title: string;
}

export const LAMMPS_DEMO: DemoStory = {
  name: 'lammps',
  plan: DEMO_PLAN,
  script: DEMO_SCRIPT,
  title: 'plans/run-lammps.yaml (build LAMMPS, then run the reaxff HNS example)',
};

export const OPTIMIZE_DEMO: DemoStory = {
  name: 'optimize',
  plan: root('plans/optimize-lammps.yaml'),
  script: root('demo/optimize-lammps.script.yaml'),
  behaviors: root('demo/optimize.behaviors.yaml'),
  title: 'plans/optimize-lammps.yaml (build LAMMPS, run reaxff HNS, then make the run faster)',
};

const relative = (path: string) => path.slice(root('').length);

type Step = AgentStep & KubeObject;

export function demoModel(
  env: NodeJS.ProcessEnv,
  script: string = DEMO_SCRIPT,
): { model: LanguageModel; scripted: boolean } {
  if (env['GEMINI_API_KEY']) {
    try {
      return { model: createModel({ provider: 'gemini' }, { env }), scripted: false };
    } catch (error) {
      if (error instanceof ModelConfigError) throw new UserError(error.message);
      throw error;
    }
  }
  return { model: ScriptedModel.fromFile(script), scripted: true };
}

/** The summary: per step, attempts, why earlier attempts failed, seconds and tokens. */
export function demoSummary(doc: ResultsDocument, steps: Step[], scripted: boolean): string[] {
  const lines = [`Plan ${doc.plan}: ${doc.status}${scripted ? ' (model answers were scripted)' : ''}`];
  for (const result of doc.steps) {
    const step = steps.find((s) => s.metadata.name === result.name);
    const tokens = step?.status?.usage?.totalTokens ?? result.metadata.usage['totalTokens'] ?? 0;
    lines.push(
      `  ${result.step} (${result.agent}): ${result.status} after ${result.attempts} attempt(s), ${formatDuration(result.total_seconds)}, ${tokens} tokens`,
    );
    for (const failure of result.metadata.failures) {
      const message = (failure.message ?? '').replace(/^Attempt \d+ failed: /, '').split('\n')[0] ?? '';
      lines.push(
        `    attempt ${failure.attempt} failed: ${failure.reason}${message ? ` (${clip(message, 160)})` : ''}`,
      );
    }
  }
  return lines;
}

export async function runDemo(
  options: DemoOptions,
  ctx: CommandContext,
  story: DemoStory = LAMMPS_DEMO,
): Promise<void> {
  const { io } = ctx;
  const { model, scripted } = demoModel(io.env, story.script);
  const speed = options.speed ?? DEMO_SPEED;
  println(io.stdout, `fractale demo: ${story.title}`);
  println(
    io.stdout,
    scripted
      ? `Model: scripted answers from ${relative(story.script)}, no model is called (set GEMINI_API_KEY to use Gemini)`
      : `Model: Gemini (${model.model}), because GEMINI_API_KEY is set; answers will differ from the scripted story`,
  );
  let sim: SimCluster | undefined;
  let operator: Manager | undefined;
  try {
    sim = await startSimCluster({ speed, ...(story.behaviors ? { behaviors: story.behaviors } : {}) });
    println(
      io.stdout,
      `Cluster: simulated at ${sim.url} (${story.behaviors ? relative(story.behaviors) : 'behaviors/default.yaml'}), time runs ${Math.round(1 / speed)}x faster`,
    );
    const conn = await connect({ kubeconfig: sim.kubeconfigPath }, io);
    const config = loadConfig(
      { registry: DEMO_REGISTRY, leaderElect: false, resyncSeconds: 0, logLevel: 'silent' },
      {},
    );
    operator = createOperator({ kubeConfig: conn.kubeConfig, config, logger: silentLogger(), model });
    await operator.start();
    println(io.stdout, '');
    const plan = readPlanFile(story.plan);
    const done = await applyAndFollow(conn, plan, ctx);
    if (!done) return;
    const doc = await planResults(conn.client, done);
    const { items } = await conn.client.list<Step>(RESOURCES.agentSteps, conn.namespace);
    let dir = DEMO_RESULTS;
    if (options.results) dir = resolve(io.cwd, options.results);
    else rmSync(dir, { recursive: true, force: true });
    const file = writeResultsFile(dir, doc, io.now());
    println(io.stdout, '');
    for (const line of demoSummary(doc, items, scripted)) println(io.stdout, line);
    const last = doc.steps.at(-1);
    const log = last?.result?.trimEnd();
    if (log && last?.agent === 'optimize') {
      println(io.stdout, "The optimize step's trials (trial, outcome, timesteps/s median ± spread, change):");
      for (const line of log.split('\n')) println(io.stdout, `  ${line}`);
    } else if (log) {
      println(io.stdout, 'The end of the LAMMPS log:');
      for (const line of log.split('\n').slice(-4)) println(io.stdout, `  ${line}`);
    }
    println(io.stdout, `Results JSON: ${file}`);
    if (done.status?.phase !== 'Succeeded') ctx.exit(EXIT.failed);
    if (options.keep) {
      println(io.stdout, `The cluster keeps running until Ctrl-C. Look around with kubectl:`);
      println(io.stdout, `  export KUBECONFIG=${sim.kubeconfigPath}`);
      println(io.stdout, '  kubectl get agentplans,agentsteps,jobs,pods,configmaps');
      println(io.stdout, `  kubectl describe agentstep ${plan.metadata.name}-build`);
      println(io.stdout, `  ${FRACTALE} logs ${plan.metadata.name}-run`);
      await aborted(io.signal);
      println(io.stdout, 'Stopping the operator and the simulated cluster');
    } else {
      // In a checkout `npm run demo -- [which] --keep`; where the package is installed, `fractale demo`.
      const which = story.name === 'lammps' ? '' : `${story.name} `;
      const keep =
        FRACTALE === 'fractale' ? `fractale demo ${which}--keep` : `npm run demo -- ${which}--keep`;
      println(io.stdout, `The simulated cluster is stopped; run \`${keep}\` to explore it with kubectl`);
    }
  } finally {
    await operator?.stop(1000);
    await sim?.stop();
  }
}
