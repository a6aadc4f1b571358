// What the analysis reads (one results document per plan, with where the plan sits in an experiment)
// and what it computes (the Summary a report draws and summary.json holds). Every figure is a pure
// function of the results documents: the same documents give the same summary.
import type { ResultsDocument } from '../results/document.ts';
import type { FailureCategory } from './taxonomy.ts';

/** One plan's results with its place in the experiment (or, for a plan on its own, its own name). */
export interface RunRecord {
  plan: string;
  namespace?: string;
  experiment?: string;
  /** The cell: `<application>[-<variant>][-<model>]`. */
  cell: string;
  application: string;
  variant?: string;
  /** The model's label in the experiment's matrix. */
  model?: string;
  /** The model name the plan ran with, for the price table (e.g. gemini-2.5-pro). */
  modelName?: string;
  provider?: string;
  /** 1-based. */
  repetition: number;
  results: ResultsDocument;
}

/** Dollars per million tokens, by model name. */
export type PriceTable = Record<string, { inputPerMillion: number; outputPerMillion: number }>;

/** A model-written label of a change between two attempts, by the change's key (ChangeRecord.key). */
export type ChangeLabels = Record<string, string>;

export interface AnalysisOptions {
  prices?: PriceTable;
  labels?: ChangeLabels;
  /** When the summary is made (ISO); default now. */
  generated?: string;
}

/** A distribution of numbers: quartiles by linear interpolation (as numpy's default), and a histogram of integer values. */
export interface Distribution {
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
  histogram: { value: number; count: number }[];
}

/** Where a row sits: repeated on every tidy row so a CSV needs no join. */
export interface RunKey {
  plan: string;
  cell: string;
  application: string;
  variant: string;
  model: string;
  repetition: number;
}

export interface RunSummary extends RunKey {
  status: string;
  /** Attempts of every step run of the plan (recoveries included). */
  attempts: number;
  recoveries: number;
  returnsToHuman: number;
  tokens: number;
  dollars?: number;
  seconds: number;
}

export interface CellSummary {
  name: string;
  application: string;
  variant: string;
  model: string;
  runs: number;
  succeeded: number;
  failed: number;
  successRate: number;
  /** Attempts to success: the attempts of the successful runs. */
  attempts: Distribution;
  recoveries: number;
  returnsToHuman: number;
  tokens: number;
  tokensPerSuccess?: number;
  dollars?: number;
  dollarsPerSuccess?: number;
}

/** The same figures over every cell with one value of an axis. */
export interface GroupSummary {
  axis: 'application' | 'variant' | 'model';
  value: string;
  runs: number;
  succeeded: number;
  successRate: number;
  attempts: Distribution;
  recoveries: number;
  returnsToHuman: number;
}

/** One attempt of one step run: the row of attempts.csv. */
export interface AttemptRow extends RunKey {
  /**
   * How the plan ended (its results' `status`: Succeeded or Failed), as on RunSummary.status, so a
   * row can be kept or dropped by its run's outcome without a join. Always set by src/analysis;
   * optional only so summaries built by hand need not carry it.
   */
  planStatus?: string;
  step: string;
  /** The AgentStep that ran it (`<plan>-<step>`, `-r2` after a recovery). */
  stepRun: string;
  agent: string;
  attempt: number;
  outcome: 'Succeeded' | 'Failed';
  reason: string;
  /** The failure category, for failed attempts. */
  category?: FailureCategory;
  seconds: number;
  tokens: number;
  modelCalls: number;
  /** Lines changed from the previous attempt's artifact of the same step run. */
  changedLines?: number;
}

export interface FailureRecord extends RunKey {
  /** As in AttemptRow. */
  planStatus?: string;
  step: string;
  stepRun: string;
  agent: string;
  attempt: number;
  reason: string;
  category: FailureCategory;
  /** CATEGORY_LABELS[category]. */
  label: string;
  evidence: string;
  message: string;
}

export interface ChangeRecord extends RunKey {
  /** A stable key of the change (sha256 of both artifacts, first 16 hex), for labels. */
  key: string;
  step: string;
  stepRun: string;
  agent: string;
  fromAttempt: number;
  toAttempt: number;
  linesChanged: number;
  /** The first Dockerfile instruction (or manifest line) that differs, e.g. "RUN apt-get install ...". */
  firstChanged?: string;
  /** The instruction keyword (FROM, RUN, ...) of firstChanged, for Dockerfiles. */
  firstChangedInstruction?: string;
  /** 0-based index of the first changed instruction among the artifact's instructions. */
  firstChangedIndex?: number;
  /** A model-written label ("added a library"), with --analyze. */
  label?: string;
}

export interface CellConsistency {
  cell: string;
  step: string;
  agent: string;
  /** The plans whose successful artifacts are compared, in repetition order. */
  plans: string[];
  /** Jaccard similarity of normalised line sets, plans × plans (1 on the diagonal). */
  matrix: number[][];
  /** Mean of the off-diagonal similarities; undefined with fewer than two artifacts. */
  mean?: number;
  /** The most common lines of the final artifacts, with how many of them have it. */
  commonLines: { line: string; count: number }[];
}

export type Stage = 'generate' | 'build' | 'deploy' | 'run' | 'validate' | 'diagnose' | 'human';

export interface StageRecord extends RunKey {
  /** As in AttemptRow. */
  planStatus?: string;
  step: string;
  stepRun: string;
  agent: string;
  attempt: number;
  stage: Stage;
  seconds: number;
}

/** A build attempt's time against where its Dockerfile first changed: the layer cache effect. */
export interface BuildCacheRecord extends RunKey {
  stepRun: string;
  attempt: number;
  firstChangedIndex: number;
  instructions: number;
  buildSeconds: number;
}

export interface CallRecord extends RunKey {
  /** As in AttemptRow. */
  planStatus?: string;
  step: string;
  /**
   * The AgentStep the call was made for (`<plan>-<step>`, `-r2` after a recovery): with `attempt`,
   * the attempt of attempts.csv it belongs to. Always set by src/analysis; optional only so
   * summaries built by hand need not carry it.
   */
  stepRun?: string;
  agent: string;
  attempt: number;
  promptTokens: number;
  outputTokens: number;
  totalTokens: number;
  seconds: number;
}

export interface TokenSummary {
  cell: string;
  calls: number;
  promptTokens: number;
  outputTokens: number;
  totalTokens: number;
  succeeded: number;
  tokensPerSuccess?: number;
  dollars?: number;
  dollarsPerSuccess?: number;
  /** The price used, when the model is in the table. */
  price?: { inputPerMillion: number; outputPerMillion: number };
}

export type TrialOutcome = 'baseline' | 'kept' | 'reverted' | 'failed';

/** One trial of an optimize step run: the row of optimization.csv and a point of its chart. */
export interface OptimizationPointRow extends RunKey {
  /** As in AttemptRow. */
  planStatus?: string;
  step: string;
  stepRun: string;
  /** What is measured, e.g. "timesteps/s". */
  figure: string;
  /** Whether higher or lower is better. */
  direction: 'higher' | 'lower';
  /** 0 is the baseline, the starting manifest as it is. */
  trial: number;
  /** The attempt of the step run that ran the trial. */
  attempt: number;
  /** The attempt whose manifest (the best so far) the trial changed; none for the baseline. */
  from?: number;
  outcome: TrialOutcome;
  /** How many repetitions gave a figure (0 for a failed trial). */
  repetitions: number;
  /** Each repetition's figure, in order. */
  figures: number[];
  /** The trial's figure: the median of its repetitions. */
  median?: number;
  /** The repetitions' range (max - min): the noise. */
  spread?: number;
  /** The lowest and highest repetition. */
  min?: number;
  max?: number;
  /**
   * The best figure after this trial, as the step judged it: the median of the baseline or of the
   * last kept trial up to and including this one. A reverted trial does not move it, even one whose
   * median is better by less than the noise; a failed one neither.
   */
  bestSoFar?: number;
  /** The model's one change, in its words (for a failed trial, as its manifest's header has it). */
  change?: string;
  /** Why the model expected the change to help. */
  reason?: string;
  /** Why the trial was kept, reverted or failed. */
  message?: string;
  /** The unified diff of the trial's manifest from the one it changed (`from`). */
  diff?: string;
}

/** One optimize step run: where it started, where it got, how its trials went, why it stopped. */
export interface OptimizationSummaryRow extends RunKey {
  /** As in AttemptRow. */
  planStatus?: string;
  step: string;
  stepRun: string;
  /** How the step run ended (Succeeded, Failed). */
  status: string;
  figure: string;
  direction: 'higher' | 'lower';
  /** The baseline's figure. */
  baseline?: number;
  /** The best figure. */
  best?: number;
  /** How much better the best is than the baseline: above 1 is better, whichever the direction. */
  ratio?: number;
  /** The attempt whose manifest is the best (the step's output). */
  bestAttempt?: number;
  /** Trials after the baseline: kept + reverted + failed. */
  trials: number;
  kept: number;
  reverted: number;
  failed: number;
  stopReason?: string;
}

export interface FinalArtifact {
  cell: string;
  plan: string;
  repetition: number;
  step: string;
  agent: string;
  artifact: string;
}

export interface Summary {
  experiment?: string;
  generated: string;
  axes: { applications: string[]; variants: string[]; models: string[] };
  headline: {
    runs: number;
    succeeded: number;
    successRate: number;
    medianAttempts: number;
    tokens: number;
    dollars?: number;
    topFailure?: { category: FailureCategory; label: string; count: number };
  };
  runs: RunSummary[];
  cells: CellSummary[];
  groups: GroupSummary[];
  attempts: AttemptRow[];
  failures: FailureRecord[];
  failureCounts: { application: string; category: FailureCategory; label: string; count: number }[];
  repeatedMistakes: {
    cell: string;
    /** The step whose first attempts these are (a cell's steps are counted apart). */
    step?: string;
    category: FailureCategory;
    label: string;
    repetitions: number;
    of: number;
  }[];
  changes: ChangeRecord[];
  consistency: CellConsistency[];
  stages: StageRecord[];
  buildCache: BuildCacheRecord[];
  calls: CallRecord[];
  tokens: TokenSummary[];
  artifacts: FinalArtifact[];
  /** Every trial of every optimize step run (empty when no run has an optimize step). */
  optimization: OptimizationPointRow[];
  /** Every optimize step run (empty when no run has one). */
  optimizations: OptimizationSummaryRow[];
}
