// The optimize agent: a run that works made faster, one measured change at a time. Attempt 1 runs the
// starting manifest as it is (the baseline); every later attempt is a trial: the model proposes one
// change with a reason (JSON) and the changed Job, the policy holds it like any generated manifest,
// the Job runs `repetitions` times (an Indexed Job, one run after the other), the figure of merit is
// read from each run's log, and the change is kept only when its median beats the best by more than
// the noise. A failed trial goes through the debug agent like any run and counts once. The step ends
// on its budget, a plateau, or the model's STOP, with the best manifest as its output.
import { stringify } from 'yaml';
import type { OptimizationStatus, OptimizationTrial } from '../../api/agentstep.ts';
import type { OptimizeContext } from '../../api/context.ts';
import { OPTIMIZE_RULES, optimizePrompt } from '../../prompts/optimize.ts';
import type {
  Acceptance,
  AgentDriver,
  AgentIteration,
  AttemptInput,
  IterationDecision,
  Success,
} from '../../step/driver.ts';
import { splitRepetitions } from '../../step/trials.ts';
import { parseJson } from '../parse.ts';
import { acceptManifest, runFixedContext, runPreflight } from '../run.ts';
import { bestTrial, figureText, judge, ratio, stopReason } from './decide.ts';
import { DEFAULT_DIRECTION, type FigureSpec, parseFigure } from './figure.ts';

/** The comment lines an accepted trial's manifest starts with: its change and reason, for the record. */
const HEADER = '# fractale-trial';

type Proposal = { stop: true; reason: string } | { stop: false; change: string; reason: string };

const contextOf = (input: AttemptInput) => input.context as OptimizeContext;

function figureName(spec: FigureSpec): { name: string; direction: 'higher' | 'lower' } {
  if ('parser' in spec) {
    const names: Record<string, string> = {
      'lammps-timesteps': 'timesteps/s',
      'lammps-loop-time': 'loop time (s)',
      'amg-fom': 'AMG figure of merit',
      'hpl-gflops': 'Gflops',
      'osu-latency': 'latency (us)',
      'osu-bandwidth': 'bandwidth (MB/s)',
    };
    return {
      name: names[spec.parser] ?? spec.parser,
      direction: spec.direction ?? DEFAULT_DIRECTION[spec.parser],
    };
  }
  return { name: spec.name ?? (spec.unit ? `figure (${spec.unit})` : 'figure'), direction: spec.direction };
}

function emptyState(input: AttemptInput): OptimizationStatus {
  const { name, direction } = figureName(contextOf(input).figureOfMerit);
  return { figure: name, direction, trials: [] };
}

const stateOf = (input: AttemptInput) => input.iteration ?? emptyState(input);
const clipText = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Reads the model's proposal: a JSON {change, reason} (or {stop: true, reason}), untrusted. */
export function parseProposal(
  answer: string,
): { ok: true; proposal: Proposal } | { ok: false; error: string } {
  const parsed = parseJson(answer);
  const value = parsed.ok ? parsed.value : undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return {
      ok: false,
      error:
        'The answer must start with a ```json block {"change": "...", "reason": "..."} (or {"stop": true, "reason": "..."}) before the Job.',
    };
  const object = value as Record<string, unknown>;
  const text = (key: string) => (typeof object[key] === 'string' ? (object[key] as string).trim() : '');
  if (object['stop'] === true || /^stop$/i.test(text('change')))
    return {
      ok: true,
      proposal: { stop: true, reason: clipText(text('reason') || 'the model stopped', 1000) },
    };
  if (!text('change') || !text('reason'))
    return {
      ok: false,
      error: 'The JSON must have a non-empty "change" (the one change) and "reason" (why it should help).',
    };
  return {
    ok: true,
    proposal: { stop: false, change: clipText(text('change'), 500), reason: clipText(text('reason'), 1000) },
  };
}

/** The change and reason kept as comment lines above a trial's manifest. */
const withHeader = (change: string, reason: string, manifest: string) =>
  `${HEADER} change: ${change.replace(/\s+/g, ' ')}\n${HEADER} reason: ${reason.replace(/\s+/g, ' ')}\n${manifest}`;

export function readHeader(artifact: string): { change?: string; reason?: string } {
  const out: { change?: string; reason?: string } = {};
  for (const line of artifact.split('\n')) {
    if (!line.startsWith(HEADER)) break;
    const match = /^# fractale-trial (change|reason): (.*)$/.exec(line);
    if (match) out[match[1] as 'change' | 'reason'] = match[2]!;
  }
  return out;
}

const withoutHeader = (artifact: string) =>
  artifact
    .split('\n')
    .filter((l) => !l.startsWith(HEADER))
    .join('\n');

/** Runs the Job `repetitions` times, one after the other, as one trial. */
function asTrialJob(
  accepted: Extract<Acceptance, { ok: true }>,
  repetitions: number,
): Extract<Acceptance, { ok: true }> {
  const objects = accepted.objects.map((object) => {
    if (object.kind !== 'Job') return object;
    const copy = structuredClone(object) as typeof object & { spec: Record<string, unknown> };
    copy.spec = {
      ...copy.spec,
      completions: repetitions,
      parallelism: 1,
      completionMode: 'Indexed',
      backoffLimit: 0,
    };
    return copy;
  });
  return { ...accepted, objects, artifact: stringify(objects.at(-1), { lineWidth: 0 }) };
}

function accept(answer: string, input: AttemptInput): Acceptance {
  const repetitions = contextOf(input).repetitions;
  // A stored artifact (or the baseline) carries its change in comment lines; a model answer, in JSON.
  const header = readHeader(answer);
  let change = header.change;
  let reason = header.reason;
  if (change === undefined) {
    const proposal = parseProposal(answer);
    if (!proposal.ok) return { ok: false, reason: 'InvalidArtifact', error: proposal.error };
    if (proposal.proposal.stop)
      return { ok: false, reason: 'Stopped', error: proposal.proposal.reason, stop: true };
    change = proposal.proposal.change;
    reason = proposal.proposal.reason;
  }
  const manifest = header.change !== undefined ? `\`\`\`yaml\n${withoutHeader(answer)}\n\`\`\`` : answer;
  const accepted = acceptManifest('Job', manifest, input);
  if (!accepted.ok) return accepted;
  const trial = asTrialJob(accepted, repetitions);
  return { ...trial, artifact: withHeader(change, reason ?? '', trial.artifact) };
}

function historyRows(state: OptimizationStatus) {
  return state.trials.map((t) => ({
    trial: t.trial,
    change: t.trial === 0 ? 'baseline (the starting Job)' : (t.change ?? '-'),
    figure: figureText(t.median),
    spread: figureText(t.spread),
    outcome: t.outcome,
  }));
}

function decideNext(
  state: OptimizationStatus,
  input: AttemptInput,
  now: Date,
  message: string,
): IterationDecision {
  const context = contextOf(input);
  const stop = stopReason(
    state,
    {
      maxTrials: context.maxTrials,
      plateau: context.plateau,
      ...(context.maxWallTime ? { maxWallTime: context.maxWallTime } : {}),
    },
    elapsedSince(input, now),
  );
  if (stop)
    return { state, continue: false, reason: stop.reason, message: `${message}; stopping: ${stop.message}` };
  return { state, continue: true, message };
}

/** Seconds since the step's first trial started, from the baseline's record. */
function elapsedSince(input: AttemptInput, now: Date): number {
  const startedAt = input.iteration?.startedAt;
  return startedAt ? (now.getTime() - Date.parse(startedAt)) / 1000 : 0;
}

const iteration: AgentIteration = {
  initialArtifact(input) {
    return withHeader('baseline', 'the starting Job, as the run step left it', contextOf(input).manifest);
  },
  maxAttempts(input) {
    // The baseline, the trials, and room for a failed baseline's fix is not given: it ends the step.
    return contextOf(input).maxTrials + 1;
  },
  succeeded(input, artifact, log, now) {
    const state = structuredClone(stateOf(input));
    state.startedAt ??= now.toISOString();
    const spec = contextOf(input).figureOfMerit;
    const runs = splitRepetitions(log);
    const figures: number[] = [];
    for (const [i, run] of runs.entries()) {
      const figure = parseFigure(spec, run);
      if (!figure.ok)
        return iteration.failed(
          input,
          'NoFigure',
          `run ${i + 1} of attempt ${input.attempt}: ${figure.error}`,
          now,
        );
      figures.push(figure.figure.value);
    }
    const { change, reason } = readHeader(artifact);
    const trialNumber = state.trials.length;
    const best = bestTrial(state);
    if (!best) {
      const m = judge({ trial: 0, attempt: 1, figures, outcome: 'baseline' }, figures, state.direction);
      const baseline: OptimizationTrial = {
        trial: 0,
        attempt: input.attempt,
        figures,
        median: m.median,
        spread: m.spread,
        outcome: 'baseline',
        message: `baseline ${figureText(m.median)} ${state.figure} (spread ${figureText(m.spread)})`,
      };
      state.trials.push(baseline);
      Object.assign(state, { baseline: m.median, best: m.median, bestAttempt: input.attempt, ratio: 1 });
      return decideNext(state, input, now, `Baseline: ${figureText(m.median)} ${state.figure}`);
    }
    const verdict = judge(best, figures, state.direction);
    const record: OptimizationTrial = {
      trial: trialNumber,
      attempt: input.attempt,
      from: best.attempt,
      ...(change ? { change } : {}),
      ...(reason ? { reason } : {}),
      figures,
      median: verdict.median,
      spread: verdict.spread,
      outcome: verdict.kept ? 'kept' : 'reverted',
      message: verdict.kept
        ? `kept: ${figureText(verdict.median)} beats ${figureText(best.median)} by ${figureText(verdict.margin)}, more than the noise ${figureText(verdict.noise)}`
        : `reverted: ${figureText(verdict.median)} against the best ${figureText(best.median)} (a gain of ${figureText(verdict.margin)} is within the noise ${figureText(verdict.noise)})`,
    };
    state.trials.push(record);
    if (verdict.kept) {
      state.best = verdict.median;
      state.bestAttempt = input.attempt;
      const r =
        state.baseline !== undefined ? ratio(verdict.median, state.baseline, state.direction) : undefined;
      if (r !== undefined) state.ratio = r;
    }
    return decideNext(state, input, now, `Trial ${trialNumber} (${change ?? 'a change'}): ${record.message}`);
  },
  failed(input, reason, error, now, artifact) {
    const state = structuredClone(stateOf(input));
    if (!bestTrial(state))
      return {
        state,
        continue: false,
        failedReason: reason,
        reason: reason === 'NoFigure' ? 'NoFigureOfMerit' : 'BaselineFailed',
        message: `The starting Job could not be measured: ${error.slice(0, 600)}`,
      };
    const trialNumber = state.trials.length;
    // What the trial tried: the stored Job's header, or the model's JSON when it was refused unstored.
    const header = artifact ? readHeader(artifact) : {};
    const proposal = !header.change && artifact ? parseProposal(artifact) : undefined;
    const tried = proposal?.ok && !proposal.proposal.stop ? proposal.proposal : header;
    state.trials.push({
      trial: trialNumber,
      attempt: input.attempt,
      from: bestTrial(state)!.attempt,
      ...(tried.change ? { change: tried.change } : {}),
      ...(tried.reason ? { reason: tried.reason } : {}),
      figures: [],
      outcome: 'failed',
      message: `${reason}: ${error}`.slice(0, 1000),
    });
    return {
      ...decideNext(
        state,
        input,
        now,
        `Trial ${trialNumber} failed (${reason}); the next starts from the best`,
      ),
      failedReason: reason,
    };
  },
  stopped(input, why) {
    const state = structuredClone(stateOf(input));
    return { state, continue: false, reason: 'ModelStopped', message: `The model stopped: ${why}` };
  },
  finish(state, bestArtifact): Success | undefined {
    if (state.best === undefined || !bestArtifact) return undefined;
    const manifest = withoutHeader(bestArtifact);
    const rows = historyRows(state)
      .map(
        (r) =>
          `${String(r.trial).padStart(3)}  ${r.outcome.padEnd(8)}  ${r.figure.padStart(10)} ±${r.spread.padEnd(8)}  ${r.change}`,
      )
      .join('\n');
    return {
      result: `Best ${figureText(state.best)} ${state.figure} (baseline ${figureText(state.baseline)}, ratio ${state.ratio ?? 1})\n${rows}\n`,
      outputs: {
        manifest,
        figure: String(state.best),
        baseline: String(state.baseline),
        ratio: String(state.ratio ?? 1),
      },
    };
  },
};

export const optimizeDriver: AgentDriver = {
  agent: 'optimize',
  trial: 'job',
  artifactName: 'job.yaml',
  debug: {
    artifactKind: 'Kubernetes Job (a trial of an optimisation)',
    artifactLanguage: 'yaml',
    rules: OPTIMIZE_RULES,
  },
  fixedContext: runFixedContext,
  preflight: runPreflight,
  trialSeconds: (context, perRun) => perRun * Number((context as OptimizeContext).repetitions ?? 1),
  prompt(input) {
    const context = contextOf(input);
    const state = stateOf(input);
    const last = state.trials.at(-1);
    const best = bestTrial(state);
    return optimizePrompt({
      container: context.container,
      ...(context.environment ? { environment: context.environment } : {}),
      ...(context.details ? { details: context.details } : {}),
      figure: state.figure,
      direction: state.direction,
      repetitions: context.repetitions,
      ...(input.cluster.nodes ? { nodes: input.cluster.nodes } : {}),
      bestManifest: best ? withoutHeader(input.bestArtifact ?? context.manifest) : context.manifest,
      history: historyRows(state),
      ...(last?.outcome === 'failed'
        ? { lastFailure: [last.message, input.previous?.advice].filter(Boolean).join('\nAdvice: ') }
        : {}),
    });
  },
  accept,
  succeed: (artifact) => ({ result: '', outputs: { manifest: withoutHeader(artifact) } }),
  iteration,
};
