// `fractale agent --plan FILE`: applies an AgentPlan (or a seed plan, converted), follows it live and
// writes the results JSON in the seed's layout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentPlan } from '../../api/index.ts';
import { isAlreadyExists, type KubeObject } from '../../kube/client.ts';
import { RESOURCES } from '../../kube/resources.ts';
import type { ResultsDocument } from '../../results/document.ts';
import { resultsFileName } from '../../results/document.ts';
import { type ClusterOptions, type CommandContext, EXIT } from '../command.ts';
import { UserError } from '../errors.ts';
import { readPlanFile } from '../files.ts';
import { followPlan, resumeHint } from '../follow.ts';
import { type CliIO, println } from '../io.ts';
import { type Connection, connect } from '../kube.ts';
import { planResults } from '../steps.ts';

type Plan = AgentPlan & KubeObject;

export interface PlanOptions extends ClusterOptions {
  name?: string;
  useCache?: boolean;
  results?: string;
  incremental?: boolean;
}

/** Writes a results document into `dir` under the seed's file name; returns the path. */
export function writeResultsFile(dir: string, doc: ResultsDocument, now: Date): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, resultsFileName(now));
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** Reads the plan file and fills in the flags: name, namespace, cache, incremental results. */
export function preparePlan(file: string, options: PlanOptions, io: CliIO): AgentPlan {
  const plan = readPlanFile(resolve(io.cwd, file), {
    ...(options.name ? { name: options.name } : {}),
    ...(options.useCache ? { useCache: true } : {}),
    ...(options.incremental ? { incremental: true } : {}),
  });
  if (options.name) plan.metadata.name = options.name;
  if (options.useCache) plan.spec.useCache = true;
  if (options.incremental) plan.spec.results = { ...plan.spec.results, incremental: true };
  if (!plan.metadata.name) throw new UserError(`${file}: metadata.name is required (or give --name)`);
  return plan;
}

/** Creates the plan, or finds the one already there; returns it and whether it has finished. */
async function applyPlan(conn: Connection, plan: AgentPlan, io: CliIO): Promise<Plan | undefined> {
  const name = plan.metadata.name!;
  try {
    await conn.client.create(RESOURCES.agentPlans, {
      ...plan,
      metadata: { ...plan.metadata, namespace: conn.namespace },
    } as never);
    println(io.stderr, `Created AgentPlan ${name} in namespace ${conn.namespace}`);
    return undefined;
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  const existing = await conn.client.get<Plan>(RESOURCES.agentPlans, conn.namespace, name);
  const phase = existing.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    println(
      io.stderr,
      `AgentPlan ${name} already exists and finished (${phase}${existing.status?.completionTime ? ` at ${existing.status.completionTime}` : ''}). To run it again: \`kubectl delete agentplan ${name} -n ${conn.namespace}\` and rerun this command, or pass --name <another-name>.`,
    );
    return existing;
  }
  println(io.stderr, `AgentPlan ${name} already exists (${phase ?? 'Pending'}); following it`);
  return undefined;
}

/** Applies and follows a plan; the caller decides what to print afterwards. */
export async function applyAndFollow(
  conn: Connection,
  plan: AgentPlan,
  ctx: CommandContext,
): Promise<Plan | undefined> {
  const finished = await applyPlan(conn, plan, ctx.io);
  if (finished) return finished;
  const outcome = await followPlan(conn, plan.metadata.name!, ctx.io);
  if (outcome.kind === 'interrupted') {
    println(ctx.io.stderr, resumeHint(conn, 'plans'));
    ctx.exit(EXIT.interrupted);
    return undefined;
  }
  return outcome.object;
}

export async function runPlan(file: string, options: PlanOptions, ctx: CommandContext): Promise<void> {
  const plan = preparePlan(file, options, ctx.io);
  const conn = await connect({ ...options, namespace: options.namespace ?? plan.metadata.namespace }, ctx.io);
  const done = await applyAndFollow(conn, plan, ctx);
  if (!done) return;
  await reportPlan(conn, done, options.results, ctx);
}

/** Prints how the plan ended, writes its results when asked, and sets the exit code. */
export async function reportPlan(
  conn: Connection,
  plan: Plan,
  resultsDir: string | undefined,
  ctx: CommandContext,
): Promise<ResultsDocument | undefined> {
  const { io } = ctx;
  const status = plan.status ?? {};
  const name = plan.metadata.name;
  let doc: ResultsDocument | undefined;
  if (resultsDir) {
    doc = await planResults(conn.client, plan);
    const path = writeResultsFile(resolve(io.cwd, resultsDir), doc, io.now());
    println(io.stderr, `Wrote results to ${path}`);
  }
  if (status.phase === 'Succeeded') {
    println(io.stderr, `AgentPlan ${name} succeeded (${status.usage?.totalTokens ?? 0} tokens)`);
  } else {
    println(
      io.stderr,
      `error: AgentPlan ${name} failed: ${status.reason ?? 'Failed'}: ${status.message ?? ''}`,
    );
    ctx.exit(EXIT.failed);
  }
  return doc;
}
