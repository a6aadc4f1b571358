// Prompts of the build agent: write a Dockerfile, or fix one that failed to build.
import {
  answerWith,
  DEFAULT_ENVIRONMENT,
  detailsSection,
  type Guidance,
  guidanceSections,
  PIPELINE,
} from './common.ts';
import { bullets, fenced, join, line, section } from './render.ts';

const PERSONA = `You are a Dockerfile build expert. ${PIPELINE} You write the Dockerfile of the build step.`;

/**
 * What the build agent may and may not do. The debug agent gets the same list as the scope of its
 * advice, so it never suggests a fix the build agent cannot make.
 */
export const BUILD_RULES = [
  'Stay root; do not create users or change permissions.',
  'Install ca-certificates, and never apt-get purge.',
  'Build for CPU unless the environment or details ask for GPU.',
  'Use a single stage: exactly one FROM.',
  'Do not COPY or ADD local files: the build context is empty. Fetch sources in RUN (git, curl, wget).',
  'Put executables in a directory on the PATH (copy or install them, do not symlink).',
  'If the application uses MPI, configure it to work inside a container.',
  'Only the Dockerfile can change.',
] as const;

export interface BuildPromptInput extends Guidance {
  application: string;
  environment?: string;
  details?: string;
  /** A target platform such as linux/arm64, when the context asks for one. */
  platform?: string;
}

export interface RebuildPromptInput extends BuildPromptInput {
  /** The Dockerfile that failed. */
  dockerfile: string;
  /** The debug agent's advice, or the reason the Dockerfile was refused. */
  advice: string;
}

/** The first attempt: a Dockerfile for the application in the environment. */
export const buildGeneratePrompt = (input: BuildPromptInput) =>
  join(
    PERSONA,
    `Task: write a Dockerfile for the application '${input.application}' in the environment '${input.environment ?? DEFAULT_ENVIRONMENT}'.`,
    line('Target platform', input.platform),
    section('Rules', bullets(BUILD_RULES)),
    detailsSection(input.details),
    guidanceSections(input),
    answerWith('dockerfile', 'Dockerfile'),
  );

/** A later attempt: the failed Dockerfile and what to change. */
export const buildRegeneratePrompt = (input: RebuildPromptInput) =>
  join(
    PERSONA,
    `Task: your Dockerfile for '${input.application}' (environment '${input.environment ?? DEFAULT_ENVIRONMENT}') failed. Fix it following the advice; keep what worked.`,
    line('Target platform', input.platform),
    section('Previous Dockerfile', fenced('dockerfile', input.dockerfile)),
    section('Advice', input.advice),
    section('Rules', bullets(BUILD_RULES)),
    detailsSection(input.details),
    guidanceSections(input),
    answerWith('dockerfile', 'corrected Dockerfile'),
  );
