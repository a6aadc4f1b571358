// The optimize agent's prompt: the best Job so far, the history of trials with their figures, and
// the ask for one change (with a reason, as JSON) and the changed Job, or STOP.
import { DEFAULT_ENVIRONMENT, PIPELINE } from './common.ts';
import { bullets, fenced, join, line, section } from './render.ts';

const PERSONA = `You are an HPC performance engineer. ${PIPELINE} A Kubernetes Job of this application already runs correctly; you make it faster on the same nodes, one change at a time.`;

export const OPTIMIZE_RULES = [
  "Make exactly one change per trial, so its effect can be measured: MPI ranks and OpenMP threads (their product within the CPUs the pod requests), process binding, the problem decomposition, CPU and memory requests (within the node), environment variables, or the application's own options (e.g. LAMMPS -sf omp -pk omp N, AMG2023 -P px py pz).",
  'Keep the image, the input and the problem size: a faster run of a smaller problem is not an improvement.',
  'Keep what the operator sets: the name, namespace, labels, the image, restartPolicy, backoffLimit and the number of runs per trial.',
  'Do not repeat a change that was reverted or failed, unless you change it in a new way and say how.',
  'When no change is likely to help any more, answer STOP.',
] as const;

export interface TrialRow {
  trial: number;
  change: string;
  figure: string;
  spread: string;
  outcome: string;
}

export interface OptimizePromptInput {
  container: string;
  environment?: string;
  details?: string;
  figure: string;
  direction: 'higher' | 'lower';
  repetitions: number;
  nodes?: string;
  bestManifest: string;
  history: readonly TrialRow[];
  /** The last trial failed: its error and the debug agent's advice. */
  lastFailure?: string;
}

const table = (rows: readonly TrialRow[]) =>
  [
    '| trial | change | figure (median) | spread | outcome |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${r.trial} | ${r.change.replace(/\|/g, '/')} | ${r.figure} | ${r.spread} | ${r.outcome} |`,
    ),
  ].join('\n');

export const optimizePrompt = (input: OptimizePromptInput) =>
  join(
    PERSONA,
    `Task: propose the next change to the Job running '${input.container}' (environment '${input.environment ?? DEFAULT_ENVIRONMENT}') that makes ${input.figure} ${input.direction === 'higher' ? 'higher' : 'lower'}. Each trial runs ${input.repetitions} time(s); the figure is the median, and a change is kept only if it beats the best by more than the spread.`,
    line('Nodes', input.nodes),
    section('What the user said', input.details),
    section('Trials so far', table(input.history)),
    section('The best Job so far (start from it)', fenced('yaml', input.bestManifest)),
    section('The last trial failed', input.lastFailure),
    section('Rules', bullets(OPTIMIZE_RULES)),
    'Answer with a ```json block {"change": "<the one change, in a few words>", "reason": "<why it should help>"} followed by the complete changed Job in one ```yaml block. Or, to stop, answer only ```json {"stop": true, "reason": "<why no change is likely to help>"}```.',
  );
