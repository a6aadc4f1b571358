// One model call, as the seed's "testing prompts" (GeminiAgent().ask_gemini(prompt)): for trying a
// prompt against the configured provider without a cluster.
import {
  createModel,
  type Generation,
  type LanguageModel,
  type ModelConfig,
  ModelConfigError,
  type ModelProvider,
} from '../llm/index.ts';
import { UserError } from './errors.ts';

export interface AskOptions {
  /** gemini (default), openai or scripted. */
  provider?: ModelProvider;
  model?: string;
  apiKey?: string;
  baseUrl?: string;
  /** The script file, for the scripted provider. */
  script?: string;
  system?: string;
  /** Where API keys and base URLs are read (default process.env). */
  env?: Record<string, string | undefined>;
  /** A model to use instead of building one from the options. */
  languageModel?: LanguageModel;
  signal?: AbortSignal;
}

/** Sends one prompt to the model and returns its answer with the tokens it used. */
export async function ask(prompt: string, options: AskOptions = {}): Promise<Generation> {
  let model = options.languageModel;
  if (!model) {
    const config: ModelConfig = { provider: options.provider ?? 'gemini' };
    if (options.model) config.model = options.model;
    if (options.apiKey) config.apiKey = options.apiKey;
    if (options.baseUrl) config.baseUrl = options.baseUrl;
    if (options.script) config.script = options.script;
    try {
      model = createModel(config, options.env ? { env: options.env } : {});
    } catch (error) {
      if (error instanceof ModelConfigError) throw new UserError(error.message);
      throw error;
    }
  }
  return model.generate({
    prompt,
    ...(options.system ? { system: options.system } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
