// Looking at what is in the cluster: `fractale get`, `logs`, `answer` and `results`.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AgentPlan, AgentStep } from '../../api/index.ts';
import { ANNOTATIONS } from '../../api/index.ts';
import { isNotFound, type KubeClient, type KubeObject } from '../../kube/client.ts';
import { childName } from '../../kube/names.ts';
import { RESOURCES } from '../../kube/resources.ts';
import type { ClusterOptions, CommandContext } from '../command.ts';
import { UserError } from '../errors.ts';
import { println } from '../io.ts';
import { connect } from '../kube.ts';
import { planResults } from '../steps.ts';
import { clip, elapsedSeconds, formatDuration } from '../view.ts';
import { writeResultsFile } from './plan.ts';

type Step = AgentStep & KubeObject;
type Plan = AgentPlan & KubeObject;
type Pod = KubeObject & { spec?: { containers?: { name: string }[] }; status?: { phase?: string } };
type ConfigMap = KubeObject & { data?: Record<string, string> };

function clusterOptions(command: Command): Command {
  return command
    .option('-n, --namespace <namespace>', "the namespace (default: the context's)")
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)');
}

/** Columns padded to their widest cell; the last column is left free. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

const firstLine = (text: string | undefined, max = 80) => clip(text, max);

async function getStep(client: KubeClient, namespace: string, name: string): Promise<Step> {
  const step = await client.find<Step>(RESOURCES.agentSteps, namespace, name);
  if (!step)
    throw new UserError(`AgentStep ${name} not found in namespace ${namespace} (see \`fractale get steps\`)`);
  return step;
}

export function registerInspect(program: Command, ctx: CommandContext): void {
  clusterOptions(
    program
      .command('get')
      .description('List AgentPlans or AgentSteps: name, agent or phase, attempt, age, message')
      .argument('[kind]', 'plans or steps', 'steps'),
  ).action(async (kind: string, options: ClusterOptions) => {
    const { io } = ctx;
    const which = kind.replace(/^agent/, '');
    if (!['plans', 'plan', 'steps', 'step'].includes(which))
      throw new UserError(`cannot list "${kind}": choose plans or steps`);
    const conn = await connect(options, io);
    const now = io.now();
    const age = (o: KubeObject) =>
      formatDuration(elapsedSeconds(o.metadata.creationTimestamp, undefined, now));
    if (which.startsWith('plan')) {
      const { items } = await conn.client.list<Plan>(RESOURCES.agentPlans, conn.namespace);
      if (items.length === 0) {
        println(io.stderr, `No AgentPlans in namespace ${conn.namespace}`);
        return;
      }
      const rows = items.map((p) => [
        p.metadata.name ?? '',
        p.status?.phase ?? 'Pending',
        p.status?.currentStep ?? '',
        String(p.status?.attempts ?? 0),
        age(p),
        firstLine(p.status?.message),
      ]);
      println(io.stdout, table(['NAME', 'PHASE', 'STEP', 'RECOVERIES', 'AGE', 'MESSAGE'], rows));
      return;
    }
    const { items } = await conn.client.list<Step>(RESOURCES.agentSteps, conn.namespace);
    if (items.length === 0) {
      println(io.stderr, `No AgentSteps in namespace ${conn.namespace}`);
      return;
    }
    const rows = items.map((s) => [
      s.metadata.name ?? '',
      s.spec.agent,
      s.status?.phase ?? 'Pending',
      // The number kubectl shows in its ATTEMPT column (the limit is in `kubectl describe`).
      s.status?.attempt ? String(s.status.attempt) : '',
      age(s),
      firstLine(s.status?.message),
    ]);
    println(io.stdout, table(['NAME', 'AGENT', 'PHASE', 'ATTEMPT', 'AGE', 'MESSAGE'], rows));
  });

  clusterOptions(
    program
      .command('logs')
      .description(
        "Print an attempt's build or run log (the pod's log while its Job exists, else the saved one)",
      )
      .argument('<step>', 'the AgentStep')
      .option('--attempt <n>', 'the attempt (default: the current one)'),
  ).action(async (name: string, options: ClusterOptions & { attempt?: string }) => {
    const { io } = ctx;
    const conn = await connect(options, io);
    const step = await getStep(conn.client, conn.namespace, name);
    const attempt = options.attempt ? Number(options.attempt) : step.status?.attempt;
    if (!attempt || !Number.isInteger(attempt) || attempt < 1)
      throw new UserError(
        options.attempt
          ? `--attempt must be a positive whole number`
          : `AgentStep ${name} has not started an attempt yet`,
      );
    const resource = childName(name, String(attempt));
    const live = await podLog(conn.client, conn.namespace, resource);
    if (live !== undefined) {
      io.stdout.write(live);
      return;
    }
    const saved = await conn.client.find<ConfigMap>(RESOURCES.configMaps, conn.namespace, resource);
    const log = saved?.data?.['log'];
    if (log === undefined)
      throw new UserError(
        `no log for attempt ${attempt} of AgentStep ${name}: neither its Job's pod nor a saved log exists`,
      );
    io.stdout.write(log.endsWith('\n') || !log ? log : `${log}\n`);
  });

  clusterOptions(
    program
      .command('answer')
      .description('Answer the question of a step waiting for a person (AwaitingHuman)')
      .argument('<step>', 'the AgentStep')
      .argument('<text>', 'the answer'),
  ).action(async (name: string, text: string, options: ClusterOptions) => {
    const { io } = ctx;
    const conn = await connect(options, io);
    const step = await getStep(conn.client, conn.namespace, name);
    if (step.status?.phase !== 'AwaitingHuman')
      throw new UserError(
        `AgentStep ${name} is not waiting for an answer (phase ${step.status?.phase ?? 'Pending'})`,
      );
    println(io.stdout, `Question: ${step.status.question ?? '(none recorded)'}`);
    await conn.client.patch(RESOURCES.agentSteps, conn.namespace, name, {
      metadata: { annotations: { [ANNOTATIONS.answer]: text } },
    });
    println(io.stdout, `Answered AgentStep ${name}; it continues with the next attempt`);
  });

  clusterOptions(
    program
      .command('results')
      .description("Print a finished plan's results JSON, or write it into a folder (-o)")
      .argument('<plan>', 'the AgentPlan')
      .option('-o, --output <dir>', "write results-<date>.json into this folder (the seed's --results)"),
  ).action(async (name: string, options: ClusterOptions & { output?: string }) => {
    const { io } = ctx;
    const conn = await connect(options, io);
    const plan = await conn.client.find<Plan>(RESOURCES.agentPlans, conn.namespace, name);
    if (!plan)
      throw new UserError(
        `AgentPlan ${name} not found in namespace ${conn.namespace} (see \`fractale get plans\`)`,
      );
    const doc = await planResults(conn.client, plan);
    if (options.output) {
      println(io.stdout, writeResultsFile(resolve(io.cwd, options.output), doc, io.now()));
    } else {
      println(io.stdout, JSON.stringify(doc, null, 2));
    }
  });
}

/** The log of the newest pod of a Job, or undefined when the Job or its pods are gone. */
async function podLog(client: KubeClient, namespace: string, job: string): Promise<string | undefined> {
  const { items } = await client.list<Pod>(RESOURCES.pods, namespace, {
    labelSelector: `batch.kubernetes.io/job-name=${job}`,
  });
  // The newest pod; of a MiniCluster's indexed Job, the lead broker (index 0), which runs the job.
  const index = (p: Pod) => Number(p.metadata.labels?.['batch.kubernetes.io/job-completion-index'] ?? 0);
  const pod = items.sort(
    (a, b) =>
      index(a) - index(b) ||
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
  )[0];
  if (!pod?.metadata.name) return undefined;
  const containers = pod.spec?.containers ?? [];
  try {
    return await client.logs(
      namespace,
      pod.metadata.name,
      containers.length > 1 ? { container: containers[0]!.name } : {},
    );
  } catch (error) {
    // A pod that never started (image pull errors) has no log yet.
    if (isNotFound(error) || (error as { code?: number }).code === 400) return undefined;
    throw error;
  }
}
