// Prompts of the kubernetes-job agent: write a batch/v1 Job that runs the container, or fix one.
import { answerWith, DEFAULT_ENVIRONMENT, guidanceSections, PIPELINE } from './common.ts';
import { RUN_RULES, type RunPromptInput, type RunRegenerateInput, runFacts, runRules } from './kubernetes.ts';
import { fenced, join, section } from './render.ts';

const PERSONA = `You are a Kubernetes Job expert. ${PIPELINE} You write the Job of the run step.`;

/** The Job agent's rules: the shared run rules plus the Job's own. */
export const JOB_RULES = [
  'Write exactly one batch/v1 Job and nothing else (no ConfigMap, Volume, Service or other objects).',
  'Set restartPolicy: Never and backoffLimit: 1, so a failed run can be read from its logs.',
  ...RUN_RULES,
] as const;

const rules = (input: RunPromptInput) => runRules(JOB_RULES, input);

/** The first attempt: a Job that runs the container in the environment. */
export const jobGeneratePrompt = (input: RunPromptInput) =>
  join(
    PERSONA,
    `Task: write a Kubernetes Job for the environment '${input.environment ?? DEFAULT_ENVIRONMENT}' that runs the container '${input.container}'.`,
    runFacts(input),
    rules(input),
    guidanceSections(input),
    answerWith('yaml', 'Job manifest'),
  );

/** A later attempt: the failed Job and what to change. */
export const jobRegeneratePrompt = (input: RunRegenerateInput) =>
  join(
    PERSONA,
    `Task: your Job running '${input.container}' (environment '${input.environment ?? DEFAULT_ENVIRONMENT}') failed. Fix it following the advice; keep what worked.`,
    section('Previous Job', fenced('yaml', input.manifest)),
    section('Advice', input.advice),
    runFacts(input),
    rules(input),
    guidanceSections(input),
    answerWith('yaml', 'corrected Job manifest'),
  );
