// `fractale agent <agent> ...`: one AgentStep, created in the current cluster with the seed's flags as
// its context, followed live; its artifact goes to --outfile. `fractale agent --plan FILE` runs a plan.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FIGURE_PARSERS } from '../../agents/optimize/figure.ts';
import { AGENT_NAMES, type AgentName, type AgentStep, API_VERSION, parseContext } from '../../api/index.ts';
import { isAlreadyExists } from '../../kube/client.ts';
import { RESOURCES } from '../../kube/resources.ts';
import { type ClusterOptions, type CommandContext, EXIT } from '../command.ts';
import { UserError } from '../errors.ts';
import { followStep, resumeHint } from '../follow.ts';
import { println } from '../io.ts';
import { connect } from '../kube.ts';
import { failureReason, generateStepName, imageShortName, stepArtifact, stepResult } from '../steps.ts';
import { formatDuration } from '../view.ts';
import { runPlan } from './plan.ts';

interface StepOptions extends ClusterOptions {
  name?: string;
  environment?: string;
  details?: string;
  outfile?: string;
  useCache?: boolean;
  maxAttempts?: number;
  container?: string;
  contextFile?: string;
  pull?: boolean;
  maxRuntime?: string;
  manifest?: string;
  figure?: string;
  figureRegex?: string;
  direction?: string;
  repetitions?: number;
  maxTrials?: number;
  plateau?: number;
}

const positiveInt = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`${flag} must be a positive whole number, not "${value}"`);
  return n;
};

function commonOptions(command: Command): Command {
  return command
    .option('-n, --namespace <namespace>', "where to create the AgentStep (default: the context's namespace)")
    .option(
      '--name <name>',
      'name of the AgentStep (default: the agent and application with a random suffix)',
    )
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)')
    .option('--environment <text>', 'the environment to build or run for, e.g. "google cloud CPU"')
    .option('--details <text>', 'what the agent must know: data, commands, versions')
    .option('--outfile <file>', 'write the result here')
    .option('--use-cache', 'reuse a finished step with the same inputs, and save this one')
    .option('--max-attempts <n>', 'attempts before the step gives up', positiveInt('--max-attempts'));
}

/** The AgentStep for an agent and the flags, its context in the seed's terms. */
export function stepFor(
  agent: AgentName,
  subject: string,
  options: StepOptions,
  ctx: CommandContext,
  namespace: string,
): AgentStep {
  const context: Record<string, unknown> = {};
  if (options.environment) context['environment'] = options.environment;
  if (options.details) context['details'] = options.details;
  let application: string | undefined;
  if (agent === 'build') {
    context['application'] = subject;
    if (options.container) context['container'] = options.container;
    application = subject;
  } else if (agent === 'kubernetes-job' || agent === 'minicluster') {
    context['container'] = subject;
    application = imageShortName(subject);
    if (options.contextFile) {
      const file = resolve(ctx.io.cwd, options.contextFile);
      try {
        context['dockerfile'] = readFileSync(file, 'utf8');
      } catch (error) {
        throw new UserError(`cannot read --context-file ${file}: ${(error as NodeJS.ErrnoException).code}`);
      }
    }
    if (options.pull === false) context['noPull'] = true;
    if (options.maxRuntime)
      context['maxRuntime'] = /^\d+$/.test(options.maxRuntime)
        ? Number(options.maxRuntime)
        : options.maxRuntime;
  } else if (agent === 'optimize') {
    context['container'] = subject;
    application = imageShortName(subject);
    if (!options.manifest)
      throw new UserError('--manifest is required: the Job manifest that works, to start from');
    const file = resolve(ctx.io.cwd, options.manifest);
    try {
      context['manifest'] = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read --manifest ${file}: ${(error as NodeJS.ErrnoException).code}`);
    }
    if (options.figureRegex)
      context['figureOfMerit'] = {
        regex: options.figureRegex,
        ...(options.direction ? { direction: options.direction } : {}),
      };
    else if (options.figure)
      context['figureOfMerit'] = {
        parser: options.figure,
        ...(options.direction ? { direction: options.direction } : {}),
      };
    else
      throw new UserError(
        '--figure PARSER or --figure-regex REGEX is required: how to read the figure of merit',
      );
    if (options.repetitions) context['repetitions'] = options.repetitions;
    if (options.maxTrials) context['maxTrials'] = options.maxTrials;
    if (options.plateau) context['plateau'] = options.plateau;
    if (options.maxRuntime)
      context['maxRuntime'] = /^\d+$/.test(options.maxRuntime)
        ? Number(options.maxRuntime)
        : options.maxRuntime;
  } else {
    context['instruction'] = subject;
  }
  const parsed = parseContext(agent, context);
  if (!parsed.ok) throw new UserError(`invalid ${agent} context: ${parsed.errors.join('; ')}`);
  return {
    apiVersion: API_VERSION,
    kind: 'AgentStep',
    metadata: {
      name: options.name ?? generateStepName(agent, application, ctx.io.random),
      namespace,
    },
    spec: {
      agent,
      context,
      useCache: Boolean(options.useCache),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    },
  };
}

/** Creates the step, follows it, writes its artifact; returns the exit code. */
export async function runStep(agent: AgentName, subject: string, options: StepOptions, ctx: CommandContext) {
  const { io } = ctx;
  // The flags are checked before the cluster is, so a typo is reported first.
  const step = stepFor(agent, subject, options, ctx, options.namespace ?? '');
  const conn = await connect(options, io);
  step.metadata.namespace = conn.namespace;
  const name = step.metadata.name!;
  try {
    await conn.client.create(RESOURCES.agentSteps, step as never);
  } catch (error) {
    if (isAlreadyExists(error))
      throw new UserError(
        `AgentStep ${name} already exists in ${conn.namespace}: pick another --name, or see it with \`fractale get steps\``,
      );
    throw error;
  }
  println(io.stderr, `Created AgentStep ${name} in namespace ${conn.namespace}`);
  const outcome = await followStep(conn, name, io);
  if (outcome.kind === 'interrupted') {
    println(io.stderr, resumeHint(conn, 'steps'));
    return ctx.exit(EXIT.interrupted);
  }
  const done = outcome.object;
  const status = done.status ?? {};
  const seconds = formatDuration(status.usage?.seconds ?? 0);
  if (status.phase !== 'Succeeded') {
    println(
      io.stderr,
      `error: AgentStep ${name} failed after ${status.attempt ?? 0} attempt(s): ${failureReason(done)}`,
    );
    return ctx.exit(EXIT.failed);
  }
  println(
    io.stderr,
    `AgentStep ${name} succeeded on attempt ${status.attempt} (${seconds}, ${status.usage?.totalTokens ?? 0} tokens${status.cache === 'Hit' ? ', from the cache' : ''})`,
  );
  const withNewline = (text: string) => (text.endsWith('\n') || !text ? text : `${text}\n`);
  const artifact = (await stepArtifact(conn.client, done)) ?? '';
  if (options.outfile) {
    const file = resolve(io.cwd, options.outfile);
    writeFileSync(file, withNewline(artifact));
    println(io.stderr, `Wrote ${file}`);
  } else {
    io.stdout.write(withNewline(artifact));
  }
  // A run's result is its log: shown whether or not the manifest went to a file.
  if (agent === 'kubernetes-job' || agent === 'minicluster' || agent === 'optimize') {
    io.stdout.write(withNewline((await stepResult(conn.client, done)) ?? ''));
  }
  if (status.outputs?.['container']) println(io.stderr, `Image: ${status.outputs['container']}`);
}

interface PlanFlags extends ClusterOptions {
  plan?: string;
  name?: string;
  useCache?: boolean;
  results?: string;
  incremental?: boolean;
}

export function registerAgent(program: Command, ctx: CommandContext): void {
  const agent = program
    .command('agent')
    .description(
      'Run one agent step (build, kubernetes-job, minicluster, cost, flux-batch, optimize) or a whole plan',
    )
    .argument('[agent...]', 'with --plan: nothing; otherwise use a subcommand')
    .enablePositionalOptions()
    .option('--plan <file>', 'run an AgentPlan or a plan in the seed format')
    .option(
      '-n, --namespace <namespace>',
      "where to create the plan (default: the plan's, then the context's)",
    )
    .option('--name <name>', "name of the AgentPlan (default: the plan's)")
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)')
    .option('--use-cache', 'every step reuses and saves cached results')
    .option('--results <dir>', 'write the results JSON into this folder')
    .option('--incremental', "keep every attempt's artifacts in the results")
    .action(async ([name]: string[], options: PlanFlags) => {
      if (name !== undefined)
        throw new UserError(`unknown agent "${name}": choose one of ${AGENT_NAMES.join(', ')}`);
      if (!options.plan)
        throw new UserError(
          `name an agent (${AGENT_NAMES.join(', ')}) or give --plan FILE; see fractale agent --help`,
        );
      await runPlan(options.plan, options, ctx);
    });

  commonOptions(
    agent
      .command('build')
      .description('Write a Dockerfile and build it with Kaniko until it builds')
      .argument('<application>', 'the software to build, e.g. lammps'),
  )
    .option('--container <name>', 'the image name to build (registry and tag are added by the operator)')
    .action((application: string, options: StepOptions) => runStep('build', application, options, ctx));

  for (const [name, what] of [
    ['kubernetes-job', 'a Kubernetes Job'],
    ['minicluster', 'a Flux Operator MiniCluster'],
  ] as const) {
    commonOptions(
      agent
        .command(name)
        .description(`Write ${what} for a container and run it until it succeeds`)
        .argument('<container>', 'the image to run'),
    )
      .option('--context-file <file>', 'a Dockerfile (or other context) the agent reads')
      .option('--no-pull', 'the image is already on the nodes (imagePullPolicy: Never)')
      .option('--max-runtime <duration>', 'runtime limit of each run: seconds or 90s, 30m, 2h')
      .action((container: string, options: StepOptions) => runStep(name, container, options, ctx));
  }

  commonOptions(
    agent
      .command('optimize')
      .description(
        'Make a Job that works faster: one measured change at a time, kept only when it beats the noise',
      )
      .argument('<container>', 'the image the Job runs'),
  )
    .option('--manifest <file>', 'the Job manifest that works, to start from')
    .option('--figure <parser>', `how to read the figure of merit: ${FIGURE_PARSERS.join(', ')}`)
    .option('--figure-regex <regex>', 'or a regular expression with one capture group (give --direction)')
    .option(
      '--direction <higher|lower>',
      "whether a higher or a lower figure is better (default: the parser's)",
    )
    .option('--repetitions <n>', 'runs per trial (default 3)', positiveInt('--repetitions'))
    .option('--max-trials <n>', 'changes to try after the baseline (default 6)', positiveInt('--max-trials'))
    .option(
      '--plateau <n>',
      'stop after this many trials in a row without gain (default 3)',
      positiveInt('--plateau'),
    )
    .option('--max-runtime <duration>', 'runtime limit of each run: seconds or 90s, 30m, 2h')
    .action((container: string, options: StepOptions) => runStep('optimize', container, options, ctx));

  for (const [name, what] of [
    ['cost', 'a cost estimate (applications, environments, instances, prices)'],
    ['flux-batch', 'a Flux batch script'],
  ] as const) {
    commonOptions(
      agent.command(name).description(`Write ${what}`).argument('<instruction>', 'what to produce'),
    ).action((instruction: string, options: StepOptions) => runStep(name, instruction, options, ctx));
  }
}
