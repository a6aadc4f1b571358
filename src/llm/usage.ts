// Adding model calls up into the `usage` of an AgentStep's or AgentPlan's status.
import type { Usage } from '../api/common.ts';
import type { Generation } from './types.ts';

export const emptyUsage = (): Usage => ({
  modelCalls: 0,
  promptTokens: 0,
  outputTokens: 0,
  totalTokens: 0,
  modelSeconds: 0,
  seconds: 0,
});

/** The usage with one more model call counted. */
export function addGeneration(usage: Usage | undefined, generation: Generation): Usage {
  const sum = { ...(usage ?? emptyUsage()) };
  sum.modelCalls += 1;
  sum.promptTokens += generation.usage.promptTokens;
  sum.outputTokens += generation.usage.outputTokens;
  sum.totalTokens += generation.usage.totalTokens;
  sum.modelSeconds = Math.round((sum.modelSeconds + generation.latencyMs / 1000) * 1000) / 1000;
  return sum;
}

/** The usage with `seconds` set to the time from start to end (or now), to a tenth of a second. */
export function withElapsed(
  usage: Usage | undefined,
  startTime: string,
  endTime: string | undefined,
  now: Date,
): Usage {
  const end = endTime ? Date.parse(endTime) : now.getTime();
  return {
    ...(usage ?? emptyUsage()),
    seconds: Math.max(0, Math.round((end - Date.parse(startTime)) / 100) / 10),
  };
}
