// The context cache: a finished step's outputs and result, saved in a ConfigMap whose name comes from
// the agent and the inputs that shape its result. A later step with the same inputs and useCache
// loads it and succeeds at once, as the seed's --use-cache does with files in ./.fractale/.
// Cache ConfigMaps have no owner: they outlive the step that wrote them, by design.
import { createHash } from 'node:crypto';
import type { AgentName } from '../api/names.ts';
import { LABELS, MANAGED_BY } from '../api/names.ts';
import { isAlreadyExists, type KubeClient, type KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';

/** The context keys that decide an agent's result; everything else (attempt limits, ...) does not. */
export const CACHE_INPUTS: Record<AgentName, readonly string[]> = {
  build: ['application', 'environment', 'details', 'container', 'registry', 'platforms', 'push'],
  'kubernetes-job': ['container', 'environment', 'details', 'testing', 'noPull', 'resources', 'dockerfile'],
  minicluster: ['container', 'environment', 'details', 'testing', 'noPull', 'resources', 'dockerfile'],
  cost: ['instruction', 'environment', 'details'],
  'flux-batch': ['instruction', 'environment', 'details'],
  optimize: [
    'container',
    'manifest',
    'figureOfMerit',
    'repetitions',
    'maxTrials',
    'plateau',
    'environment',
    'details',
  ],
};

export interface CachedResult {
  agent: AgentName;
  inputs: Record<string, unknown>;
  outputs: Record<string, string>;
  result: string;
  /** The step that produced it, as namespace/name. */
  source: string;
  savedAt: string;
}

/** Normalises a value so that key order and surrounding whitespace do not change the key. */
function canonical(value: unknown): unknown {
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function cacheInputs(agent: AgentName, context: Record<string, unknown>): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const key of CACHE_INPUTS[agent])
    if (context[key] !== undefined) inputs[key] = canonical(context[key]);
  return inputs;
}

/** The cache ConfigMap's name: the agent and a digest of its inputs. */
export function cacheName(agent: AgentName, context: Record<string, unknown>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ agent, inputs: cacheInputs(agent, context) }))
    .digest('hex')
    .slice(0, 16);
  return `fractale-cache-${agent}-${digest}`;
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

export class ContextCache {
  private readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }

  async load(
    namespace: string,
    agent: AgentName,
    context: Record<string, unknown>,
  ): Promise<CachedResult | undefined> {
    const name = cacheName(agent, context);
    const cm = await this.client.find<ConfigMap>(RESOURCES.configMaps, namespace, name);
    const text = cm?.data?.['cache.json'];
    if (!text) return undefined;
    try {
      const cached = JSON.parse(text) as CachedResult;
      // A digest collision is all but impossible; a hand-edited ConfigMap is not.
      if (
        cached.agent !== agent ||
        JSON.stringify(cached.inputs) !== JSON.stringify(cacheInputs(agent, context))
      ) {
        return undefined;
      }
      return cached;
    } catch {
      return undefined;
    }
  }

  /** Saves a result; an entry already there (another step got there first) is kept. Returns the name. */
  async save(
    namespace: string,
    entry: Omit<CachedResult, 'inputs' | 'savedAt'> & { context: Record<string, unknown> },
    now = new Date(),
  ): Promise<string> {
    const name = cacheName(entry.agent, entry.context);
    const cached: CachedResult = {
      agent: entry.agent,
      inputs: cacheInputs(entry.agent, entry.context),
      outputs: entry.outputs,
      result: entry.result,
      source: entry.source,
      savedAt: now.toISOString(),
    };
    try {
      await this.client.create<ConfigMap>(RESOURCES.configMaps, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace,
          labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.cache]: 'true', [LABELS.agent]: entry.agent },
        },
        data: { 'cache.json': JSON.stringify(cached, null, 1) },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    return name;
  }
}
