// Which model drives a step: the step's spec.model, over the operator's flags. API keys come from a
// Secret (or the environment) and are held in memory only: never in status, events, logs or prompts.
// Every model of a provider shares that provider's limiter (--model-concurrency,
// --model-tokens-per-minute): the quota is the provider's, whichever model or key a plan names.
import type { ModelSpec } from '../api/common.ts';
import { isNotFound, type KubeClient, type KubeObject } from '../kube/client.ts';
import { SECRETS, type SecretRedactor } from '../kube/redact.ts';
import { RESOURCES } from '../kube/resources.ts';
import { createModel, type ModelConfig } from '../llm/index.ts';
import { type LimiterObserver, ModelLimiter } from '../llm/limiter.ts';
import type { LanguageModel } from '../llm/types.ts';
import type { OperatorConfig } from '../runtime/config.ts';

export class ModelSetupError extends Error {
  override name = 'ModelSetupError';
}

type Secret = KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> };

export interface ModelResolverOptions {
  config: Pick<
    OperatorConfig,
    'provider' | 'model' | 'script' | 'apiKeySecret' | 'baseUrl' | 'leaseNamespace'
  > &
    Partial<Pick<OperatorConfig, 'modelTimeout' | 'modelConcurrency' | 'modelTokensPerMinute'>>;
  client: KubeClient;
  env?: NodeJS.ProcessEnv;
  /** A model to use for every step (tests, the demo); spec.model is then ignored. It is limited too. */
  fixed?: LanguageModel;
  /** Where the limiters report their queues (the operator's metrics). */
  observer?: LimiterObserver;
  /** Where the keys read are registered for redaction; default: the process's (SECRETS). */
  redactor?: SecretRedactor;
}

/** Resolves and caches models per provider, model name and key source. */
export class ModelResolver {
  private readonly options: ModelResolverOptions;
  private readonly models = new Map<string, LanguageModel>();
  private readonly limiters = new Map<string, ModelLimiter>();
  private fixed: LanguageModel | undefined;

  constructor(options: ModelResolverOptions) {
    this.options = options;
  }

  /** The limiter of a provider's calls, made on first use. */
  limiter(provider: string): ModelLimiter {
    let limiter = this.limiters.get(provider);
    if (!limiter) {
      const { config, observer } = this.options;
      limiter = new ModelLimiter({
        provider,
        ...(config.modelConcurrency !== undefined ? { concurrency: config.modelConcurrency } : {}),
        ...(config.modelTokensPerMinute !== undefined
          ? { tokensPerMinute: config.modelTokensPerMinute }
          : {}),
        ...(observer ? { observer } : {}),
      });
      this.limiters.set(provider, limiter);
    }
    return limiter;
  }

  async forSpec(namespace: string, spec: ModelSpec | undefined): Promise<LanguageModel> {
    if (this.options.fixed) {
      this.fixed ??= this.limiter(this.options.fixed.provider).wrap(this.options.fixed);
      return this.fixed;
    }
    const { config } = this.options;
    const env = this.options.env ?? process.env;
    const provider = spec?.provider ?? config.provider;
    const model = spec?.name ?? (provider === config.provider ? config.model : undefined);
    const secret = spec?.apiKeySecretRef
      ? { namespace, name: spec.apiKeySecretRef.name, key: spec.apiKeySecretRef.key ?? 'api-key' }
      : config.apiKeySecret
        ? {
            namespace: config.leaseNamespace,
            name: config.apiKeySecret.split(':')[0]!,
            key: config.apiKeySecret.split(':')[1] ?? 'api-key',
          }
        : undefined;
    const cacheKey = JSON.stringify({ provider, model, secret });
    const cached = this.models.get(cacheKey);
    if (cached) return cached;
    let apiKey: string | undefined;
    if (provider !== 'scripted') {
      apiKey = secret
        ? await this.readSecret(secret)
        : provider === 'gemini'
          ? env['GEMINI_API_KEY']
          : env['OPENAI_API_KEY'];
      // Known from now on to the redaction of logs, diagnostics and what is stored or sent.
      (this.options.redactor ?? SECRETS).add(apiKey);
    }
    const baseUrl =
      config.baseUrl ??
      (provider === 'gemini'
        ? env['GEMINI_BASE_URL']
        : provider === 'openai'
          ? env['OPENAI_BASE_URL']
          : undefined);
    const modelConfig: ModelConfig = {
      provider,
      ...(model ? { model } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(baseUrl ? { baseUrl } : {}),
      ...(config.modelTimeout && provider !== 'scripted' ? { timeoutMs: config.modelTimeout * 1000 } : {}),
      ...(provider === 'scripted' && config.script ? { script: config.script } : {}),
    };
    const created = this.limiter(provider).wrap(
      createModel(modelConfig, { otherKeySource: 'give --api-key-secret <secret[:key]>' }),
    );
    this.models.set(cacheKey, created);
    return created;
  }

  private async readSecret(ref: { namespace: string; name: string; key: string }): Promise<string> {
    let secret: Secret;
    try {
      secret = await this.options.client.get<Secret>(RESOURCES.secrets, ref.namespace, ref.name);
    } catch (error) {
      if (isNotFound(error)) {
        throw new ModelSetupError(
          `the API key Secret ${ref.namespace}/${ref.name} does not exist: kubectl create secret generic ${ref.name} -n ${ref.namespace} --from-literal=${ref.key}=<your key>`,
        );
      }
      throw new ModelSetupError(
        `cannot read the API key Secret ${ref.namespace}/${ref.name}: ${(error as Error).message}`,
      );
    }
    const encoded = secret.data?.[ref.key];
    if (!encoded)
      throw new ModelSetupError(`the Secret ${ref.namespace}/${ref.name} has no key "${ref.key}"`);
    return Buffer.from(encoded, 'base64').toString('utf8').trim();
  }
}
