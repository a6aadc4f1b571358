// `fractale experiment run|get|report` and `fractale report`: run a plan template across a matrix,
// watch its cells fill in, and turn the results into the research report (HTML, CSVs, summary.json).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { changeTexts } from '../../analysis/change.ts';
import { analyze, runFromResults } from '../../analysis/index.ts';
import { DEFAULT_LABEL_CACHE, FileLabelCache, labelChanges } from '../../analysis/labels.ts';
import { DEFAULT_PRICES, parsePriceTable } from '../../analysis/tokens.ts';
import type { AnalysisOptions, RunRecord, Summary } from '../../analysis/types.ts';
import type { AgentExperiment } from '../../api/agentexperiment.ts';
import type { AgentPlan } from '../../api/agentplan.ts';
import { readExperimentRuns } from '../../experiment/aggregate.ts';
import { experimentCells } from '../../experiment/matrix.ts';
import { validateAgentExperiment } from '../../experiment/validate.ts';
import { isAlreadyExists, type KubeObject } from '../../kube/client.ts';
import { RESOURCES } from '../../kube/resources.ts';
import { createModel, MODEL_PROVIDERS, ModelConfigError, type ModelProvider } from '../../llm/index.ts';
import { writeReport } from '../../report/index.ts';
import { type ClusterOptions, type CommandContext, EXIT } from '../command.ts';
import { UserError } from '../errors.ts';
import { invalid, readYaml } from '../files.ts';
import { follow, resumeHint } from '../follow.ts';
import { createGridView, experimentGrid, experimentHeadline } from '../grid.ts';
import { type CliIO, println } from '../io.ts';
import { type Connection, connect } from '../kube.ts';
import { planResults } from '../steps.ts';
import { elapsedSeconds, formatDuration } from '../view.ts';
import { table } from './inspect.ts';

type Experiment = AgentExperiment & KubeObject;
type Plan = AgentPlan & KubeObject;

const clusterOptions = (command: Command): Command =>
  command
    .option('-n, --namespace <namespace>', "the namespace (default: the file's, else the context's)")
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)');

const connectForExperiments = (options: ClusterOptions, io: CliIO) =>
  connect({ ...options, requireExperiments: true }, io);

/** Reads and validates an AgentExperiment file; errors name the file and every field. */
export function readExperimentFile(file: string): AgentExperiment {
  const [doc] = readYaml(file, 'an AgentExperiment');
  if ((doc as { kind?: unknown }).kind !== 'AgentExperiment')
    throw new UserError(
      `${file}: kind must be AgentExperiment, not ${JSON.stringify((doc as { kind?: unknown }).kind)}`,
    );
  const result = validateAgentExperiment(doc);
  if (!result.ok) throw invalid(file, result.errors);
  if (!result.value.metadata.name) throw new UserError(`${file}: metadata.name is required (or give --name)`);
  return result.value;
}

/** Follows an experiment until it completes or fails, drawing the grid of its cells. */
export async function followExperiment(conn: Connection, name: string, io: CliIO) {
  const view = createGridView(io.stdout);
  try {
    return await follow<Experiment>(
      io,
      conn,
      { kind: 'AgentExperiment', name },
      [RESOURCES.agentExperiments, RESOURCES.agentPlans],
      ([experiments, plans], f) => {
        const redraw = () => {
          const experiment = experiments!.get(conn.namespace, name) as Experiment | undefined;
          if (!experiment) return;
          if (experiment.status?.phase) f.seen();
          view.update(experiment, plans!.list() as Plan[]);
          const phase = experiment.status?.phase;
          if (phase === 'Completed' || phase === 'Failed') f.finish({ kind: 'finished', object: experiment });
        };
        experiments!.on((event, object) => {
          if (object.metadata.name !== name) return;
          if (event === 'delete') return f.fail(new UserError(`AgentExperiment ${name} was deleted`));
          redraw();
        });
        plans!.on(() => redraw());
      },
    );
  } finally {
    view.close();
  }
}

interface RunOptions extends ClusterOptions {
  follow?: boolean;
  name?: string;
}

async function runExperiment(file: string, options: RunOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const experiment = readExperimentFile(resolve(io.cwd, file));
  if (options.name) experiment.metadata.name = options.name;
  const name = experiment.metadata.name!;
  const conn = await connectForExperiments(
    { ...options, namespace: options.namespace ?? experiment.metadata.namespace },
    io,
  );
  const cells = experimentCells(experiment.spec).length;
  const plans = cells * experiment.spec.matrix.repetitions;
  try {
    await conn.client.create(RESOURCES.agentExperiments, {
      ...experiment,
      metadata: { ...experiment.metadata, namespace: conn.namespace },
    } as Experiment);
    println(
      io.stderr,
      `Created AgentExperiment ${name} in namespace ${conn.namespace}: ${cells} cell(s) × ${experiment.spec.matrix.repetitions} repetition(s) = ${plans} plan(s), at most ${experiment.spec.concurrency} at once`,
    );
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    println(
      io.stderr,
      `AgentExperiment ${name} already exists; ${options.follow ? 'following it' : 'not changed'}`,
    );
  }
  if (!options.follow) {
    println(
      io.stderr,
      `Follow it with \`fractale experiment get ${name}\` (or \`kubectl get agentexperiments\`); when it completes: fractale experiment report ${name} -o DIR`,
    );
    return;
  }
  const outcome = await followExperiment(conn, name, io);
  if (outcome.kind === 'interrupted') {
    println(io.stderr, resumeHint(conn, 'experiments'));
    ctx.exit(EXIT.interrupted);
    return;
  }
  const status = outcome.object.status ?? {};
  if (status.phase === 'Failed') {
    println(
      io.stderr,
      `error: AgentExperiment ${name} failed: ${status.reason ?? ''}: ${status.message ?? ''}`,
    );
    ctx.exit(EXIT.failed);
    return;
  }
  println(io.stderr, `AgentExperiment ${name} completed. Report: fractale experiment report ${name} -o DIR`);
}

async function getExperiments(name: string | undefined, options: ClusterOptions, ctx: CommandContext) {
  const { io } = ctx;
  const conn = await connectForExperiments(options, io);
  if (name) {
    const experiment = await conn.client.find<Experiment>(RESOURCES.agentExperiments, conn.namespace, name);
    if (!experiment)
      throw new UserError(
        `AgentExperiment ${name} not found in namespace ${conn.namespace} (see \`fractale experiment get\`)`,
      );
    const plans = await conn.client.list<Plan>(RESOURCES.agentPlans, conn.namespace, {
      labelSelector: `fractale.dev/experiment=${name}`,
    });
    for (const line of experimentGrid(experiment, plans.items)) println(io.stdout, line.text);
    println(io.stdout, experimentHeadline(experiment));
    return;
  }
  const { items } = await conn.client.list<Experiment>(RESOURCES.agentExperiments, conn.namespace);
  if (items.length === 0) {
    println(io.stderr, `No AgentExperiments in namespace ${conn.namespace}`);
    return;
  }
  const now = io.now();
  const rows = items.map((e) => [
    e.metadata.name ?? '',
    e.status?.phase ?? 'Pending',
    String(e.status?.plans ?? ''),
    String(e.status?.done ?? 0),
    String(e.status?.failed ?? 0),
    formatDuration(elapsedSeconds(e.metadata.creationTimestamp, undefined, now)),
    e.status?.message ?? '',
  ]);
  println(io.stdout, table(['NAME', 'PHASE', 'PLANS', 'DONE', 'FAILED', 'AGE', 'MESSAGE'], rows));
}

interface ReportOptions extends ClusterOptions {
  output: string;
  prices?: string;
  selector?: string;
  analyze?: boolean;
  provider: string;
  model?: string;
  script?: string;
  labelsCache?: string;
}

/** The analysis options from the flags: the price table (defaults, replaced per model by --prices). */
function analysisOptions(options: ReportOptions, io: CliIO): AnalysisOptions {
  let prices = { ...DEFAULT_PRICES };
  if (options.prices) {
    const path = resolve(io.cwd, options.prices);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read --prices ${path}: ${(error as NodeJS.ErrnoException).code ?? ''}`);
    }
    try {
      prices = { ...prices, ...parsePriceTable(text, path) };
    } catch (error) {
      throw new UserError((error as Error).message);
    }
  }
  return { prices, generated: io.now().toISOString() };
}

/**
 * The summary of the runs; with --analyze, the model names each change between attempts first
 * ("added ca-certificates"). Labels are cached by model and change, so a report never asks twice.
 */
async function summarize(runs: RunRecord[], options: ReportOptions, io: CliIO): Promise<Summary> {
  const base = analysisOptions(options, io);
  const summary = analyze(runs, base);
  if (!options.analyze) return summary;
  if (!(MODEL_PROVIDERS as readonly string[]).includes(options.provider))
    throw new UserError(
      `unknown --provider "${options.provider}": choose one of ${MODEL_PROVIDERS.join(', ')}`,
    );
  let model: ReturnType<typeof createModel>;
  try {
    model = createModel(
      {
        provider: options.provider as ModelProvider,
        ...(options.model ? { model: options.model } : {}),
        ...(options.script ? { script: resolve(io.cwd, options.script) } : {}),
      },
      { env: io.env },
    );
  } catch (error) {
    if (error instanceof ModelConfigError) throw new UserError(`--analyze: ${error.message}`);
    throw error;
  }
  const cache = await FileLabelCache.open(
    options.labelsCache ? resolve(io.cwd, options.labelsCache) : DEFAULT_LABEL_CACHE,
  );
  const result = await labelChanges(summary.changes, {
    model,
    cache,
    texts: changeTexts(runs),
    signal: io.signal,
  });
  println(
    io.stderr,
    `Labelled ${Object.keys(result.labels).length} change(s) with ${model.provider}/${model.model}: ${result.asked} model call(s), the rest from ${cache.path}${result.failures.length ? `; ${result.failures.length} could not be labelled (${result.failures[0]!.message})` : ''}`,
  );
  return analyze(runs, { ...base, labels: result.labels });
}

/** Writes the report and prints where it is and the headline figures. */
async function writeAndTell(summary: Summary, options: ReportOptions, title: string, io: CliIO) {
  const dir = resolve(io.cwd, options.output);
  const { files } = await writeReport(summary, dir, { title });
  println(
    io.stdout,
    `Wrote ${files.length} files to ${dir}: ${files.map((f) => f.split('/').at(-1)).join(', ')}`,
  );
  println(io.stdout, `Report: ${resolve(dir, 'report.html')}`);
  for (const line of headlineLines(summary)) println(io.stdout, line);
}

export function headlineLines(summary: Summary): string[] {
  const h = summary.headline;
  const percent = (x: number) => `${Math.round(x * 100)} %`;
  return [
    `Plans: ${h.runs}, succeeded ${h.succeeded} (${percent(h.successRate)}); median attempts to success ${h.medianAttempts}`,
    `Tokens: ${h.tokens.toLocaleString('en-US')}${h.dollars !== undefined ? ` (about $${h.dollars.toFixed(2)})` : ' (no dollars: a model of these runs has no price; give one with --prices)'}`,
    ...(h.topFailure ? [`Most common failure: ${h.topFailure.label} (${h.topFailure.count} attempts)`] : []),
    ...summary.cells.map(
      (c) =>
        `  ${c.name}: ${c.succeeded}/${c.runs} succeeded, median attempts ${c.attempts.n ? c.attempts.median : '-'}`,
    ),
  ];
}

async function reportExperiment(name: string, options: ReportOptions, ctx: CommandContext) {
  const { io } = ctx;
  const conn = await connectForExperiments(options, io);
  const experiment = await conn.client.find<Experiment>(RESOURCES.agentExperiments, conn.namespace, name);
  if (!experiment)
    throw new UserError(
      `AgentExperiment ${name} not found in namespace ${conn.namespace} (see \`fractale experiment get\`)`,
    );
  const runs = await readExperimentRuns(conn.client, conn.namespace, name);
  if (runs.length === 0)
    throw new UserError(
      `AgentExperiment ${name} has no ended plan yet (${experiment.status?.phase ?? 'Pending'}): a report needs at least one`,
    );
  if (experiment.status?.phase !== 'Completed')
    println(
      io.stderr,
      `AgentExperiment ${name} is ${experiment.status?.phase ?? 'Pending'}: the report covers the ${runs.length} of ${experiment.status?.plans ?? '?'} plans that ended`,
    );
  const summary = await summarize(runs, options, io);
  summary.experiment = name;
  await writeAndTell(summary, options, `Experiment ${name}`, io);
}

/** `fractale report plan1 plan2 …` or `-l selector`: the same report over plans of any origin. */
async function reportPlans(names: string[], options: ReportOptions, ctx: CommandContext) {
  const { io } = ctx;
  if (names.length === 0 && !options.selector)
    throw new UserError(
      'name the plans to report on, or select them with -l (e.g. -l fractale.dev/experiment=cmp)',
    );
  const conn = await connect(options, io);
  const plans: Plan[] = [];
  if (options.selector) {
    const list = await conn.client.list<Plan>(RESOURCES.agentPlans, conn.namespace, {
      labelSelector: options.selector,
    });
    plans.push(...list.items);
    if (list.items.length === 0)
      throw new UserError(`no AgentPlan in namespace ${conn.namespace} matches -l ${options.selector}`);
  }
  for (const name of names) {
    const plan = await conn.client.find<Plan>(RESOURCES.agentPlans, conn.namespace, name);
    if (!plan)
      throw new UserError(
        `AgentPlan ${name} not found in namespace ${conn.namespace} (see \`fractale get plans\`)`,
      );
    plans.push(plan);
  }
  const runs: RunRecord[] = [];
  for (const plan of plans) {
    const phase = plan.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') {
      println(
        io.stderr,
        `Skipping AgentPlan ${plan.metadata.name}: it has not ended (${phase ?? 'Pending'})`,
      );
      continue;
    }
    runs.push(runFromResults(await planResults(conn.client, plan), plan.metadata.labels ?? {}));
  }
  if (runs.length === 0) throw new UserError('none of these plans has ended: a report needs at least one');
  const summary = await summarize(runs, options, io);
  await writeAndTell(summary, options, `Plans ${runs.map((r) => r.plan).join(', ')}`.slice(0, 120), io);
}

const reportFlags = (command: Command) =>
  command
    .requiredOption('-o, --output <dir>', 'the folder to write report.html, the CSVs and summary.json into')
    .option(
      '--prices <file>',
      'a price table (YAML or JSON: model: {inputPerMillion, outputPerMillion}) for dollars',
    )
    .option(
      '--analyze',
      'let the model name each change between attempts ("added a library"); cached, never asked twice',
    )
    .option('--provider <provider>', `the model for --analyze: ${MODEL_PROVIDERS.join(', ')}`, 'gemini')
    .option('--model <name>', 'the model name for --analyze (default: the provider default)')
    .option('--script <file>', 'the answers file, for --provider scripted')
    .option(
      '--labels-cache <file>',
      `where --analyze keeps its labels (default ${DEFAULT_LABEL_CACHE.replace(/^.*\.cache/, '~/.cache')})`,
    );

export function registerExperiment(program: Command, ctx: CommandContext): void {
  const experiment = program
    .command('experiment')
    .description('Run a plan across applications, prompt variants, models and repetitions, and report on it');

  clusterOptions(
    experiment
      .command('run')
      .description('Apply an AgentExperiment file (and follow its cells with --follow)')
      .argument('<file>', 'the AgentExperiment (YAML)')
      .option('-f, --follow', 'follow the grid of cells until every plan ended')
      .option('--name <name>', "metadata.name of the experiment (default: the file's)"),
  ).action((file: string, options: RunOptions) => runExperiment(file, options, ctx));

  clusterOptions(
    experiment
      .command('get')
      .description("List AgentExperiments, or show the grid of one experiment's cells")
      .argument('[name]', 'the AgentExperiment'),
  ).action((name: string | undefined, options: ClusterOptions) => getExperiments(name, options, ctx));

  clusterOptions(
    reportFlags(
      experiment
        .command('report')
        .description(
          'Write the report of an experiment: report.html, attempts.csv, failures.csv, calls.csv, stages.csv, summary.json',
        )
        .argument('<name>', 'the AgentExperiment'),
    ),
  ).action((name: string, options: ReportOptions) => reportExperiment(name, options, ctx));

  clusterOptions(
    reportFlags(
      program
        .command('report')
        .description('Write the same report over finished AgentPlans of any origin')
        .argument('[plans...]', 'the AgentPlans')
        .option(
          '-l, --selector <selector>',
          'select the plans by label (e.g. fractale.dev/application=lammps)',
        ),
    ),
  ).action((plans: string[], options: ReportOptions) => reportPlans(plans, options, ctx));
}
