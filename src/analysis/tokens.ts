// What the model calls cost: one record per call a step made, tokens and dollars per cell, and the
// price table (defaults, or a user's file given with --prices).
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { answeringModel, dollarsFor, priceOf } from './attempts.ts';
import type { CallRecord, PriceTable, RunRecord, TokenSummary } from './types.ts';
import { managerUsage, runKey, stepUsage } from './walk.ts';

/**
 * List prices in dollars per million tokens: the standard paid tier, text, prompts up to 200k tokens
 * (gemini-2.5-pro charges more above). From the providers' pricing pages
 * (ai.google.dev/gemini-api/docs/pricing, platform.openai.com/docs/pricing) as current price guides
 * quote them, checked 2026-12-04; gemini-2.0-flash is deprecated. Prices change: --prices FILE.
 */
export const DEFAULT_PRICES: PriceTable = {
  'gemini-2.5-pro': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gemini-2.5-flash': { inputPerMillion: 0.3, outputPerMillion: 2.5 },
  'gemini-2.0-flash': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
};

/** One record per model call the steps recorded (their agents and the debug helper), by step run. */
export function callRecords(runs: readonly RunRecord[]): CallRecord[] {
  const records: CallRecord[] = [];
  for (const run of runs) {
    const key = runKey(run);
    for (const step of run.results.steps)
      for (const call of step.metadata.ask_gemini)
        records.push({
          ...key,
          planStatus: run.results.status,
          step: step.step,
          // The step run, so the calls of `<plan>-build` and `<plan>-build-r2` stay apart.
          stepRun: step.name,
          agent: call.agent,
          attempt: call.attempt,
          promptTokens: call.prompt_token_count,
          outputTokens: call.candidates_token_count,
          totalTokens: call.total_token_count,
          seconds: call.time_seconds,
        });
  }
  return records;
}

/**
 * Tokens per cell, runs in the cell's order. The manager's calls are not recorded one by one (only
 * their sum, in the plan's usage), so they count here and in the runs' tokens but have no CallRecord.
 */
export function tokenSummaries(
  cells: readonly { name: string; runs: readonly RunRecord[] }[],
  prices?: PriceTable,
): TokenSummary[] {
  return cells.map(({ name, runs }) => {
    let calls = 0;
    let promptTokens = 0;
    let outputTokens = 0;
    let totalTokens = 0;
    let dollars: number | undefined = 0;
    for (const run of runs) {
      const usages = [managerUsage(run), ...run.results.steps.map(stepUsage)];
      let runPrompt = 0;
      let runOutput = 0;
      for (const u of usages) {
        calls += u.calls;
        runPrompt += u.promptTokens;
        runOutput += u.outputTokens;
        totalTokens += u.totalTokens;
      }
      promptTokens += runPrompt;
      outputTokens += runOutput;
      // A run at an unknown price leaves the cell without dollars rather than with too few.
      const runDollars = dollarsFor(priceOf(run, prices), runPrompt, runOutput);
      dollars = dollars === undefined || runDollars === undefined ? undefined : dollars + runDollars;
    }
    if (runs.length === 0) dollars = undefined;
    const succeeded = runs.filter((r) => r.results.status === 'Succeeded').length;
    const modelNames = new Set(runs.map((r) => r.modelName ?? answeringModel(r)));
    const [only] = modelNames;
    const price = modelNames.size === 1 && only !== undefined ? prices?.[only] : undefined;
    return {
      cell: name,
      calls,
      promptTokens,
      outputTokens,
      totalTokens,
      succeeded,
      ...(succeeded > 0 ? { tokensPerSuccess: totalTokens / succeeded } : {}),
      ...(dollars !== undefined ? { dollars } : {}),
      ...(dollars !== undefined && succeeded > 0 ? { dollarsPerSuccess: dollars / succeeded } : {}),
      ...(price ? { price: { ...price } } : {}),
    };
  });
}

export class PriceTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceTableError';
  }
}

const price = z
  .object({
    inputPerMillion: z.number().min(0, 'must be 0 or more'),
    outputPerMillion: z.number().min(0, 'must be 0 or more'),
  })
  .strict();

const priceTable = z.record(z.string().min(1, 'a model name must not be empty'), price);

/**
 * A price table from YAML or JSON (JSON is YAML), e.g.
 *   gemini-2.5-pro: { inputPerMillion: 1.25, outputPerMillion: 10 }
 * Errors name the source and the field: `prices.yaml: gemini-2.5-pro.outputPerMillion: ...`.
 */
export function parsePriceTable(text: string, source = 'prices'): PriceTable {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new PriceTableError(`${source}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  const parsed = priceTable.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return `${path || '(top level)'}: ${issue.message}`;
    });
    throw new PriceTableError(`${source}: ${issues.join('; ')}`);
  }
  return parsed.data;
}
