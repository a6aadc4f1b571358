// Reading plan files from disk: AgentPlans, AgentSteps, AgentExperiments, or plans in the seed's format.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import {
  type AgentPlan,
  type ConvertOptions,
  convertSeedPlan,
  isSeedPlan,
  validateAgentPlan,
  validateAgentStep,
} from '../api/index.ts';
import { validateAgentExperiment } from '../experiment/validate.ts';
import { UserError } from './errors.ts';

/** The documents of a YAML file; errors name the file, and show the excerpt of a YAML error. */
export function readYaml(file: string, expected = 'an AgentPlan, an AgentStep or a seed plan'): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const docs = parseAllDocuments(text);
  const broken = docs.flatMap((d) => d.errors);
  // The yaml library's message ends with an excerpt of the line and a caret under the problem.
  if (broken.length > 0) throw new UserError(`${file}: not valid YAML: ${broken[0]!.message.trimEnd()}`);
  const values = docs.map((d) => d.toJS()).filter((d) => d !== null);
  if (values.length === 0) throw new UserError(`${file} holds no document: expected ${expected}`);
  return values;
}

/** A file's validation errors, one per line, as every command reports them. */
export const invalid = (file: string, errors: string[]) =>
  new UserError(`${file} is invalid:\n${errors.map((e) => `  * ${e}`).join('\n')}`);

/** Reads a plan file that holds an AgentPlan or a seed plan, and returns a validated AgentPlan. */
export function readPlanFile(file: string, options: ConvertOptions = {}): AgentPlan {
  const [doc] = readYaml(file);
  if (isSeedPlan(doc)) return convertPlanFile(file, options);
  const result = validateAgentPlan(doc);
  if (!result.ok) throw invalid(file, result.errors);
  return result.value;
}

/** Converts a seed plan file into an AgentPlan. */
export function convertPlanFile(file: string, options: ConvertOptions = {}): AgentPlan {
  const [doc] = readYaml(file);
  if (!isSeedPlan(doc)) {
    throw new UserError(`${file} is not a seed plan: it needs a top-level "plan:" list (and no apiVersion)`);
  }
  const result = convertSeedPlan(doc, options);
  if (!result.ok) throw invalid(file, result.errors);
  return result.value;
}

/** Validates every document of a file; returns a one-line summary or throws with every error. */
export function validateFile(file: string): string {
  const summary: string[] = [];
  for (const doc of readYaml(file)) {
    if (isSeedPlan(doc)) {
      convertPlanFile(file);
      summary.push('seed plan (valid)');
      continue;
    }
    const kind = (doc as { kind?: unknown }).kind;
    const result =
      kind === 'AgentPlan'
        ? validateAgentPlan(doc)
        : kind === 'AgentStep'
          ? validateAgentStep(doc)
          : kind === 'AgentExperiment'
            ? validateAgentExperiment(doc)
            : undefined;
    if (!result)
      throw new UserError(
        `${file}: kind must be AgentPlan, AgentStep or AgentExperiment, not ${JSON.stringify(kind)}`,
      );
    if (!result.ok) throw invalid(file, result.errors);
    summary.push(`${kind} ${result.value.metadata.name ?? ''} (valid)`);
  }
  return summary.join(', ');
}
