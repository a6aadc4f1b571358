// The flux-batch agent's prompt: a batch script for `flux batch` with #FLUX: directives.
import { answerWith, detailsSection, type Guidance, guidanceSections, PIPELINE } from './common.ts';
import { bullets, fenced, join, section } from './render.ts';

/** What a Flux batch script must look like; the checker in agents/flux-batch enforces the same. */
export const FLUX_BATCH_RULES = [
  'Start with #!/bin/bash, then the #FLUX: directives, one option per line, then the commands.',
  'Directives take flux batch options only: -N/--nodes, -n/--nslots, -c/--cores-per-slot, -g/--gpus-per-slot, -t/--time-limit, --job-name, --output, --error, -q/--queue, --exclusive. flux batch counts slots, not tasks: --ntasks and --cores-per-task are flux run options.',
  'Ask for nodes (-N) or slots (-n); counts are positive integers; a time limit looks like 30m or 2h.',
  'Launch parallel programs with flux run, not mpirun, mpiexec or srun; no #SBATCH or #PBS lines.',
] as const;

export interface FluxBatchPromptInput extends Guidance {
  instruction: string;
  details?: string;
}

export interface FluxBatchRetryInput extends FluxBatchPromptInput {
  script: string;
  /** The checker's refusal or the debug agent's advice. */
  advice: string;
}

const PERSONA = `You are a Flux Framework expert who writes batch scripts for flux batch. ${PIPELINE}`;

/** The first attempt: a batch script for the request. */
export const fluxBatchGeneratePrompt = (input: FluxBatchPromptInput) =>
  join(
    PERSONA,
    'Task: write a Flux batch script for this request.',
    section('Request', input.instruction),
    detailsSection(input.details),
    section('Rules', bullets(FLUX_BATCH_RULES)),
    guidanceSections(input),
    answerWith('bash', 'batch script'),
  );

/** A later attempt: the refused script and what to change. */
export const fluxBatchRegeneratePrompt = (input: FluxBatchRetryInput) =>
  join(
    PERSONA,
    'Task: your Flux batch script for this request was refused. Fix it following the advice.',
    section('Request', input.instruction),
    section('Previous script', fenced('bash', input.script)),
    section('Advice', input.advice),
    detailsSection(input.details),
    section('Rules', bullets(FLUX_BATCH_RULES)),
    guidanceSections(input),
    answerWith('bash', 'corrected batch script'),
  );
