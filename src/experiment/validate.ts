// Validation of an AgentExperiment: its schema, then what the CRD cannot check: every run's plan is a
// valid AgentPlan once the matrix's contexts are merged in, cell names do not collide, and the
// experiment is not larger than MAX_EXPERIMENT_PLANS.
import { type AgentExperiment, agentExperiment, MAX_EXPERIMENT_PLANS } from '../api/agentexperiment.ts';
import { formatIssues } from '../api/context.ts';
import { agentExperimentCrd, unknownFields, type Validated, validateAgentPlan } from '../api/index.ts';
import { API_VERSION } from '../api/names.ts';
import { experimentCells, runSpec } from './matrix.ts';

export function validateAgentExperiment(raw: unknown): Validated<AgentExperiment> {
  const parsed = agentExperiment.safeParse(raw);
  const unknown = unknownFields(
    raw,
    agentExperimentCrd().spec.versions[0]!.schema.openAPIV3Schema as Parameters<typeof unknownFields>[1],
  );
  if (!parsed.success) return { ok: false, errors: [...unknown, ...formatIssues(parsed.error.issues)] };
  if (unknown.length > 0) return { ok: false, errors: unknown };
  const experiment = parsed.data;
  const { spec } = experiment;
  const errors: string[] = [];
  for (const [axis, list] of [
    ['applications', spec.matrix.applications],
    ['variants', spec.matrix.variants ?? []],
    ['models', spec.matrix.models ?? []],
  ] as const) {
    const seen = new Set<string>();
    list.forEach((entry, i) => {
      if (seen.has(entry.name))
        errors.push(`spec.matrix.${axis}[${i}].name: Duplicate value: "${entry.name}"; names must be unique`);
      seen.add(entry.name);
    });
  }
  const cells = experimentCells(spec);
  const total = cells.length * spec.matrix.repetitions;
  if (total > MAX_EXPERIMENT_PLANS)
    errors.push(
      `spec.matrix: ${cells.length} cells × ${spec.matrix.repetitions} repetitions is ${total} plans, more than ${MAX_EXPERIMENT_PLANS}; run fewer repetitions or split the experiment`,
    );
  const byName = new Map<string, string>();
  for (const cell of cells) {
    const axes = [cell.application, cell.variant, cell.model].filter(Boolean).join(' × ');
    const other = byName.get(cell.name);
    if (other)
      errors.push(
        `spec.matrix: the cells ${other} and ${axes} are both named "${cell.name}"; rename an application, variant or model`,
      );
    byName.set(cell.name, axes);
  }
  if (errors.length > 0) return { ok: false, errors };
  // The template with each application and variant merged in must be a plan the operator can run.
  const checked = new Set<string>();
  for (const cell of cells) {
    const key = `${cell.application}/${cell.variant ?? ''}`;
    if (checked.has(key)) continue;
    checked.add(key);
    const plan = validateAgentPlan({
      apiVersion: API_VERSION,
      kind: 'AgentPlan',
      metadata: { name: 'run' },
      spec: runSpec(spec, cell),
    });
    if (!plan.ok) {
      const where = `application ${cell.application}${cell.variant ? `, variant ${cell.variant}` : ''}`;
      errors.push(...plan.errors.map((e) => `${where}: spec.plan.${e.replace(/^spec\./, '')}`));
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: experiment };
}
