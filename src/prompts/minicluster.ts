// Prompts of the minicluster agent: write a Flux Operator MiniCluster that runs the container, or fix one.
import { FLUX_VIEWS } from '../agents/minicluster/views.ts';
import { answerWith, DEFAULT_ENVIRONMENT, guidanceSections, PIPELINE } from './common.ts';
import { RUN_RULES, type RunPromptInput, type RunRegenerateInput, runFacts, runRules } from './kubernetes.ts';
import { fenced, join, section } from './render.ts';

const PERSONA = `You are a Flux Framework MiniCluster expert who writes custom resources for the Flux Operator. ${PIPELINE} You write the MiniCluster of the run step.`;

/** The MiniCluster agent's rules: the seed's MiniCluster guard-rails plus the shared run rules. */
export const MINICLUSTER_RULES = [
  'Write exactly one MiniCluster (apiVersion flux-framework.org/v1alpha2) and nothing else: no Job, ConfigMap, Volume or other objects.',
  'Set spec.logging.strict: true.',
  'Set launcher: false (never true) and cleanup: false.',
  'Exactly one container: no sidecars and no services.',
  'command is a string, not a list. Do not put mpirun, mpiexec, flux run, flux submit or flux batch in it: the Flux Operator launches the command and Flux bootstraps MPI.',
  'If the image lacks a library or setting, add it with containers[0].commands.pre.',
  `Keep the default flux view (spec.flux.container.image) unless it must change; then use one of: ${FLUX_VIEWS.join(', ')}.`,
  ...RUN_RULES,
] as const;

export interface MiniClusterPromptInput extends RunPromptInput {
  /** A compact outline of the MiniCluster schema, read from the cluster's CRD. */
  schema?: string;
}

export type MiniClusterRegenerateInput = MiniClusterPromptInput & RunRegenerateInput;

const rules = (input: RunPromptInput) => runRules(MINICLUSTER_RULES, input);

/** The first attempt: a MiniCluster that runs the container, with the schema to write it against. */
export const miniclusterGeneratePrompt = (input: MiniClusterPromptInput) =>
  join(
    PERSONA,
    `Task: write a MiniCluster for the environment '${input.environment ?? DEFAULT_ENVIRONMENT}' that runs the container '${input.container}'.`,
    input.schema ? section('MiniCluster fields (name: type)', input.schema) : undefined,
    runFacts(input),
    rules(input),
    guidanceSections(input),
    answerWith('yaml', 'MiniCluster manifest'),
  );

/** A later attempt: the failed MiniCluster and what to change. The schema comes along when given, as it did for the first try. */
export const miniclusterRegeneratePrompt = (input: MiniClusterRegenerateInput) =>
  join(
    PERSONA,
    `Task: your MiniCluster running '${input.container}' (environment '${input.environment ?? DEFAULT_ENVIRONMENT}') failed. Fix it following the advice; keep what worked.`,
    section('Previous MiniCluster', fenced('yaml', input.manifest)),
    section('Advice', input.advice),
    input.schema ? section('MiniCluster fields (name: type)', input.schema) : undefined,
    runFacts(input),
    rules(input),
    guidanceSections(input),
    answerWith('yaml', 'corrected MiniCluster manifest'),
  );
