// Prompts of the kubernetes-job agent: write a batch/v1 Job that runs the container, or fix one.
import {
  answerWith,
  DEFAULT_ENVIRONMENT,
  detailsSection,
  guidanceSections,
  PIPELINE,
  testingText,
} from './common.ts';
import {
  NO_PULL_RULE,
  NO_RESOURCES_RULE,
  RESOURCES_RULE,
  RUN_RULES,
  type RunPromptInput,
  type RunRegenerateInput,
  resourcesText,
} from './kubernetes.ts';
import { bullets, fenced, join, line, section } from './render.ts';

const PERSONA = `You are a Kubernetes Job expert. ${PIPELINE} You write the Job of the run step.`;

/** The Job agent's rules: the shared run rules plus the Job's own. */
export const JOB_RULES = [
  'Write exactly one batch/v1 Job and nothing else (no ConfigMap, Volume, Service or other objects).',
  'Set restartPolicy: Never and backoffLimit: 1, so a failed run can be read from its logs.',
  ...RUN_RULES,
] as const;

const rules = (input: RunPromptInput) =>
  section(
    'Rules',
    bullets([
      ...JOB_RULES,
      input.resources ? RESOURCES_RULE : NO_RESOURCES_RULE,
      input.noPull ? NO_PULL_RULE : undefined,
    ]),
  );

const facts = (input: RunPromptInput) =>
  join(
    line('Resources', resourcesText(input.resources)),
    section('Testing', testingText(input.testing)),
    detailsSection(input.details),
    input.dockerfile
      ? section('The container was built from this Dockerfile', fenced('dockerfile', input.dockerfile))
      : undefined,
  );

/** The first attempt: a Job that runs the container in the environment. */
export const jobGeneratePrompt = (input: RunPromptInput) =>
  join(
    PERSONA,
    `Task: write a Kubernetes Job for the environment '${input.environment ?? DEFAULT_ENVIRONMENT}' that runs the container '${input.container}'.`,
    facts(input),
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
    facts(input),
    rules(input),
    guidanceSections(input),
    answerWith('yaml', 'corrected Job manifest'),
  );
