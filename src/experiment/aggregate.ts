// An experiment's results: every ended plan's results document with its place in the matrix, one
// gzip key per plan in ConfigMaps `<experiment>-results-<n>` owned by the experiment. A ConfigMap is
// filled up to the API server's 1 MiB limit, then the next one is started, so an experiment of any
// size keeps all of its documents, and its report needs nothing else (plans may be deleted).
import { gunzipSync, gzipSync } from 'node:zlib';
import type { RunRecord } from '../analysis/types.ts';
import { LABELS, MANAGED_BY } from '../api/names.ts';
import { isAlreadyExists, type KubeClient, type KubeObject, type OwnerReference } from '../kube/client.ts';
import { childName, labelValue } from '../kube/names.ts';
import { RESOURCES } from '../kube/resources.ts';
import { MAX_STORED_BYTES } from '../results/writer.ts';

// binaryData holds `<plan>.json.gz` (the run); data holds `<plan>`: its outcome, readable without decoding.
type ConfigMap = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

/** The label that marks an experiment's results ConfigMaps (its value is the experiment's name). */
export const RESULTS_LABEL = `${LABELS.experiment}-results`;

export const aggregateName = (experiment: string, index: number) => childName(experiment, `results-${index}`);
const keyOf = (plan: string) => `${plan}.json.gz`;

export const encodeRun = (run: RunRecord) => gzipSync(JSON.stringify(run)).toString('base64');
export const decodeRun = (value: string): RunRecord =>
  JSON.parse(gunzipSync(Buffer.from(value, 'base64')).toString('utf8'));

const sizeOf = (cm: ConfigMap) =>
  [...Object.entries(cm.binaryData ?? {}), ...Object.entries(cm.data ?? {})].reduce(
    (n, [k, v]) => n + k.length + v.length,
    0,
  );

/** Reads every run stored for an experiment (for reports). */
export async function readExperimentRuns(
  client: KubeClient,
  namespace: string,
  experiment: string,
): Promise<RunRecord[]> {
  const list = await client.list<ConfigMap>(RESOURCES.configMaps, namespace, {
    labelSelector: `${RESULTS_LABEL}=${labelValue(experiment)}`,
  });
  return list.items.flatMap((cm) => Object.values(cm.binaryData ?? {}).map(decodeRun));
}

/**
 * The stored plans of each experiment this process works on: listed once, then known from its own
 * writes (the operator is the only writer; a replica that takes over lists again).
 */
export class ExperimentResults {
  private readonly client: KubeClient;
  private readonly known = new Map<string, ConfigMap[]>();

  constructor(client: KubeClient) {
    this.client = client;
  }

  private async chunks(namespace: string, experiment: string): Promise<ConfigMap[]> {
    const key = `${namespace}/${experiment}`;
    let chunks = this.known.get(key);
    if (!chunks) {
      const list = await this.client.list<ConfigMap>(RESOURCES.configMaps, namespace, {
        labelSelector: `${RESULTS_LABEL}=${labelValue(experiment)}`,
      });
      chunks = list.items.sort((a, b) => indexOf(a) - indexOf(b));
      this.known.set(key, chunks);
    }
    return chunks;
  }

  /** The plans whose results are stored with their outcome (Succeeded, Failed), and the ConfigMaps holding them. */
  async stored(
    namespace: string,
    experiment: string,
  ): Promise<{ plans: Map<string, string>; refs: string[] }> {
    const chunks = await this.chunks(namespace, experiment);
    const plans = new Map<string, string>();
    for (const cm of chunks)
      for (const key of Object.keys(cm.binaryData ?? {})) {
        const plan = key.replace(/\.json\.gz$/, '');
        plans.set(plan, cm.data?.[plan] ?? 'Unknown');
      }
    return { plans, refs: chunks.map((cm) => cm.metadata.name!) };
  }

  /** The ConfigMaps holding the experiment's results, in order. */
  async refs(namespace: string, experiment: string): Promise<string[]> {
    return (await this.chunks(namespace, experiment)).map((cm) => cm.metadata.name!);
  }

  /** Stores a run's results in the last ConfigMap with room, or a new one. Storing twice changes nothing. */
  async store(namespace: string, experiment: string, owner: OwnerReference, run: RunRecord): Promise<void> {
    const chunks = await this.chunks(namespace, experiment);
    const key = keyOf(run.plan);
    if (chunks.some((cm) => cm.binaryData?.[key] !== undefined)) return;
    const value = encodeRun(run);
    const outcome = run.results.status;
    const last = chunks.at(-1);
    if (
      last &&
      sizeOf(last) + key.length + value.length + run.plan.length + outcome.length <= MAX_STORED_BYTES
    ) {
      const patched = await this.client.patch<ConfigMap>(
        RESOURCES.configMaps,
        namespace,
        last.metadata.name!,
        { data: { [run.plan]: outcome }, binaryData: { [key]: value } },
      );
      chunks[chunks.length - 1] = patched;
      return;
    }
    const index = last ? indexOf(last) + 1 : 1;
    const object: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: aggregateName(experiment, index),
        namespace,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.experiment]: labelValue(experiment),
          [RESULTS_LABEL]: labelValue(experiment),
        },
        annotations: { [`${LABELS.experiment}-results-index`]: String(index) },
        ownerReferences: [owner],
      },
      data: { [run.plan]: outcome },
      binaryData: { [key]: value },
    };
    try {
      chunks.push(await this.client.create<ConfigMap>(RESOURCES.configMaps, object));
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      // Made by an earlier process whose list this one did not see: read the truth again.
      this.forget(namespace, experiment);
      await this.store(namespace, experiment, owner, run);
    }
  }

  forget(namespace: string, experiment: string): void {
    this.known.delete(`${namespace}/${experiment}`);
  }
}

function indexOf(cm: ConfigMap): number {
  const index = Number(cm.metadata.annotations?.[`${LABELS.experiment}-results-index`]);
  return Number.isFinite(index) ? index : 0;
}
