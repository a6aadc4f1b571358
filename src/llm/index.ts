// The model layer: one LanguageModel interface, three providers, and a factory that picks one.

import { z } from 'zod';
import { GeminiModel } from './gemini.ts';
import { OpenAIModel } from './openai.ts';
import type { ModelDeps } from './retry.ts';
import { ScriptedModel } from './scripted.ts';
import type { LanguageModel } from './types.ts';

export { DEFAULT_GEMINI_BASE_URL, DEFAULT_GEMINI_MODEL, GeminiModel, type GeminiOptions } from './gemini.ts';
export {
  ConversationStore,
  type ConversationStoreOptions,
  conversationConfigMapName,
  type StepRef,
} from './history.ts';
export {
  DEFAULT_ANSWER_ALLOWANCE,
  DEFAULT_MODEL_CONCURRENCY,
  describeWait,
  type LimitedCall,
  type LimiterObserver,
  ModelLimiter,
  type ModelLimiterOptions,
  TOKEN_WINDOW_MS,
} from './limiter.ts';
export { DEFAULT_OPENAI_BASE_URL, OpenAIModel, type OpenAIOptions } from './openai.ts';
export {
  abortableSleep,
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type ModelDeps,
  type RetryPolicy,
} from './retry.ts';
export {
  MODEL_AGENTS,
  type ModelAgent,
  parseScript,
  type Script,
  type ScriptEntry,
  ScriptError,
  ScriptedModel,
  type ScriptState,
} from './scripted.ts';
export {
  type ChatTurn,
  estimateTokens,
  type GenerateRequest,
  type Generation,
  isModelError,
  type LanguageModel,
  MODEL_ERROR_KINDS,
  ModelError,
  type ModelErrorKind,
  type ModelWait,
  redact,
  type Usage,
} from './types.ts';

export const MODEL_PROVIDERS = ['gemini', 'openai', 'scripted'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

export const modelConfigSchema = z
  .object({
    provider: z.enum(MODEL_PROVIDERS),
    model: z.string().min(1).optional(),
    apiKey: z.string().optional(),
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Path of the YAML script (scripted provider). */
    script: z.string().min(1).optional(),
    timeoutMs: z.int().positive().optional(),
    maxRetries: z.int().min(0).max(20).optional(),
    baseDelayMs: z.int().min(0).optional(),
    maxDelayMs: z.int().min(0).optional(),
    maxRetryAfterMs: z.int().min(0).optional(),
  })
  .strict();
export type ModelConfig = z.input<typeof modelConfigSchema>;

/** A model configuration that cannot work; the message says what to set. */
export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

export interface ModelFactoryDeps extends ModelDeps {
  /** Where GEMINI_API_KEY, GEMINI_BASE_URL, OPENAI_API_KEY and OPENAI_BASE_URL are read; default process.env. */
  env?: Record<string, string | undefined>;
  /** How else the caller takes a key, for the error when there is none (the operator: its Secret flag). */
  otherKeySource?: string;
}

/**
 * Builds the configured model. Values in `config` win over the environment; an API key is only ever
 * passed to the provider, never into an error message.
 */
export function createModel(config: ModelConfig, deps: ModelFactoryDeps = {}): LanguageModel {
  const { env = process.env, otherKeySource, ...modelDeps } = deps;
  // The environment fills what the caller left out, and is validated like the rest.
  const prefix =
    config.provider === 'gemini' ? 'GEMINI' : config.provider === 'openai' ? 'OPENAI' : undefined;
  const merged: ModelConfig = prefix
    ? {
        ...config,
        apiKey: config.apiKey || env[`${prefix}_API_KEY`] || undefined,
        baseUrl: config.baseUrl || env[`${prefix}_BASE_URL`] || undefined,
      }
    : config;
  const parsed = modelConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(config)';
      const hint = field === 'baseUrl' && !config.baseUrl && prefix ? ` (from ${prefix}_BASE_URL)` : '';
      return `${field}${hint}: ${issue.message}`;
    });
    throw new ModelConfigError(`invalid model configuration: ${problems.join('; ')}`);
  }
  const { provider, model, apiKey, baseUrl, script, ...retry } = parsed.data;
  switch (provider) {
    case 'gemini':
      if (!apiKey)
        throw new ModelConfigError(
          `no Gemini API key: set GEMINI_API_KEY${otherKeySource ? ` or ${otherKeySource}` : ''}`,
        );
      return new GeminiModel({ apiKey, model, baseUrl, ...retry }, modelDeps);
    case 'openai':
      if (!model) throw new ModelConfigError('no model name for the openai provider: give --model');
      return new OpenAIModel({ apiKey, model, baseUrl, ...retry }, modelDeps);
    case 'scripted':
      if (!script)
        throw new ModelConfigError('no script for the scripted provider: give --script <file.yaml>');
      return ScriptedModel.fromFile(script, { name: model }, modelDeps);
  }
}
