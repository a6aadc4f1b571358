// The runs of an experiment: one plan per cell (application × variant × model) and repetition, with
// names derived from the experiment's, so reconciling twice (or after a restart) finds the same plans.
import type { AgentExperimentSpec } from '../api/agentexperiment.ts';
import type { AgentPlanSpec } from '../api/agentplan.ts';
import { normalizeContextKeys } from '../api/context.ts';
import { childName } from '../kube/names.ts';

export interface ExperimentCell {
  /** `<application>[-<variant>][-<model>]`: only the axes the matrix has. */
  name: string;
  application: string;
  variant?: string;
  model?: string;
}

export interface ExperimentRun {
  cell: ExperimentCell;
  /** 1-based. */
  repetition: number;
  /** The AgentPlan's name: `<experiment>-<cell>-r<repetition>`, shortened with a hash past 63 characters. */
  plan: string;
  spec: AgentPlanSpec;
}

/** The cells in matrix order: applications, then variants, then models. */
export function experimentCells(spec: AgentExperimentSpec): ExperimentCell[] {
  const { applications, variants, models } = spec.matrix;
  const cells: ExperimentCell[] = [];
  for (const application of applications)
    for (const variant of variants?.length ? variants : [undefined])
      for (const model of models?.length ? models : [undefined]) {
        const parts = [application.name, variant?.name, model?.name].filter((p): p is string => !!p);
        cells.push({
          name: parts.join('-'),
          application: application.name,
          ...(variant ? { variant: variant.name } : {}),
          ...(model ? { model: model.name } : {}),
        });
      }
  return cells;
}

export const experimentPlanName = (experiment: string, cell: string, repetition: number) =>
  childName(experiment, `${cell}-r${repetition}`);

type Context = Record<string, unknown>;
const normalized = (context: unknown): Context =>
  context && typeof context === 'object' ? normalizeContextKeys(context as Context).context : {};

/**
 * The plan spec of one run: each step's context is the template's, then the application's (all steps,
 * then this step's), then the variant's (likewise), later ones winning key by key. The results record
 * every attempt's artifacts (the analysis compares them), and the cache is off unless the experiment
 * asks for it: a cached step would be the same observation counted twice.
 */
export function runSpec(spec: AgentExperimentSpec, cell: ExperimentCell): AgentPlanSpec {
  const application = spec.matrix.applications.find((a) => a.name === cell.application)!;
  const variant = spec.matrix.variants?.find((v) => v.name === cell.variant);
  const model = spec.matrix.models?.find((m) => m.name === cell.model);
  const plan = structuredClone(spec.plan);
  plan.steps = plan.steps.map((step) => ({
    ...step,
    context: {
      ...normalized(step.context),
      ...normalized(application.context),
      ...normalized(application.steps?.[step.name]),
      ...normalized(variant?.context),
      ...normalized(variant?.steps?.[step.name]),
    },
  }));
  plan.useCache = spec.useCache;
  plan.results = { ...(plan.results ?? {}), incremental: true };
  if (model) {
    plan.model = {
      ...(model.provider ? { provider: model.provider } : {}),
      ...(model.model ? { name: model.model } : {}),
      ...(model.apiKeySecretRef ? { apiKeySecretRef: model.apiKeySecretRef } : {}),
    };
  }
  return plan;
}

/**
 * Every run, repetition by repetition (all cells' first runs, then their second, ...), so that a
 * bounded experiment fills every cell evenly and a partial report already compares all of them.
 */
export function experimentRuns(name: string, spec: AgentExperimentSpec): ExperimentRun[] {
  const cells = experimentCells(spec);
  const specs = new Map(cells.map((cell) => [cell.name, runSpec(spec, cell)]));
  const runs: ExperimentRun[] = [];
  for (let repetition = 1; repetition <= spec.matrix.repetitions; repetition++)
    for (const cell of cells)
      runs.push({
        cell,
        repetition,
        plan: experimentPlanName(name, cell.name, repetition),
        spec: specs.get(cell.name)!,
      });
  return runs;
}
