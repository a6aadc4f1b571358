// Stores a plan's results document in a ConfigMap owned by the plan, gzip-compressed when large and
// trimmed (incremental artifacts first, oldest first) when even that would pass the 1 MiB limit.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AgentPlan } from '../api/agentplan.ts';
import type { AgentStep } from '../api/agentstep.ts';
import { LABELS, MANAGED_BY } from '../api/names.ts';
import { isAlreadyExists, type KubeClient, type KubeObject } from '../kube/client.ts';
import { childName, controllerReference, labelValue } from '../kube/names.ts';
import { RESOURCES } from '../kube/resources.ts';
import { type AttemptRecord, buildResults, type ModelCallRecord, type ResultsDocument } from './document.ts';

/** Room left under the API server's 1 MiB object limit for metadata. */
export const MAX_STORED_BYTES = 1_000_000 - 16_384;
/** Above this, the document is stored gzip-compressed. */
export const COMPRESS_ABOVE_BYTES = 256 * 1024;
export const RESULTS_KEY = 'results.json';
export const RESULTS_GZ_KEY = 'results.json.gz';

type ConfigMap = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

/** Encodes a document for a ConfigMap: plain JSON, else gzip; trimming artifacts until it fits. */
export function encodeResults(document: ResultsDocument): {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
} {
  let doc = document;
  for (;;) {
    const json = JSON.stringify(doc, null, 1);
    if (Buffer.byteLength(json) <= COMPRESS_ABOVE_BYTES) return { data: { [RESULTS_KEY]: json } };
    const gz = gzipSync(json).toString('base64');
    if (gz.length <= MAX_STORED_BYTES) return { binaryData: { [RESULTS_GZ_KEY]: gz } };
    const trimmed = trimOldestAsset(doc);
    if (!trimmed) return { binaryData: { [RESULTS_GZ_KEY]: gz } };
    doc = trimmed;
  }
}

function trimOldestAsset(doc: ResultsDocument): ResultsDocument | undefined {
  const copy = structuredClone(doc);
  for (const step of copy.steps) {
    const assets = step.metadata.assets.attempts;
    const victim = assets?.find((a) => a.log || a.artifact || a.diagnostics);
    if (victim) {
      delete victim.log;
      delete victim.diagnostics;
      delete victim.artifact;
      copy.truncated = true;
      return copy;
    }
  }
  for (const step of copy.steps) {
    if (step.result && step.result.length > 1024) {
      step.result = `…${step.result.slice(-1024)}`;
      copy.truncated = true;
      return copy;
    }
  }
  return undefined;
}

/** Reads a results document back from its ConfigMap. */
export function decodeResults(cm: {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}): ResultsDocument {
  const plain = cm.data?.[RESULTS_KEY];
  if (plain) return JSON.parse(plain);
  const gz = cm.binaryData?.[RESULTS_GZ_KEY];
  if (!gz) throw new Error('the ConfigMap holds no results document');
  return JSON.parse(gunzipSync(Buffer.from(gz, 'base64')).toString('utf8'));
}

export const resultsConfigMapName = (plan: string) => childName(plan, 'results');

/** Reads the attempt ConfigMaps of a plan's steps: artifacts, logs, diagnostics, model calls. */
export async function readAttempts(
  client: KubeClient,
  namespace: string,
  plan: string,
): Promise<Map<string, AttemptRecord[]>> {
  const list = await client.list<ConfigMap>(RESOURCES.configMaps, namespace, {
    labelSelector: `${LABELS.plan}=${labelValue(plan)},${LABELS.attempt}`,
  });
  const byStep = new Map<string, AttemptRecord[]>();
  for (const cm of list.items) {
    const step = cm.metadata.labels?.[LABELS.step];
    const attempt = Number(cm.metadata.labels?.[LABELS.attempt]);
    if (!step || !Number.isFinite(attempt)) continue;
    const data = cm.data ?? {};
    const calls: ModelCallRecord[] = (data['calls'] ?? '')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as ModelCallRecord];
        } catch {
          return [];
        }
      });
    const record: AttemptRecord = { attempt, calls };
    if (data['artifact'] !== undefined) record.artifact = data['artifact'];
    if (data['log']) record.log = data['log'];
    if (data['diagnostics']) record.diagnostics = data['diagnostics'];
    const records = byStep.get(step) ?? [];
    records.push(record);
    byStep.set(step, records);
  }
  return byStep;
}

export class ResultsWriter {
  private readonly client: KubeClient;
  private readonly now: () => Date;
  constructor(client: KubeClient, now: () => Date = () => new Date()) {
    this.client = client;
    this.now = now;
  }

  /** Writes (or rewrites) the plan's results ConfigMap; returns the reference for status. */
  async write(
    plan: AgentPlan & KubeObject,
    steps: readonly AgentStep[],
  ): Promise<{ name: string; key: string }> {
    const namespace = plan.metadata.namespace!;
    const attempts = await readAttempts(this.client, namespace, plan.metadata.name!);
    const encoded = encodeResults(buildResults(plan, steps, attempts, this.now()));
    const name = resultsConfigMapName(plan.metadata.name!);
    const object: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace,
        labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.plan]: labelValue(plan.metadata.name!) },
        ownerReferences: [controllerReference(plan)],
      },
      ...encoded,
    };
    try {
      await this.client.create(RESOURCES.configMaps, object);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const existing = await this.client.get<ConfigMap>(RESOURCES.configMaps, namespace, name);
      await this.client.replace(RESOURCES.configMaps, {
        ...object,
        metadata: { ...object.metadata, resourceVersion: existing.metadata.resourceVersion },
      });
    }
    return { name, key: encoded.data ? RESULTS_KEY : RESULTS_GZ_KEY };
  }
}
