// The attempt ConfigMaps `<step>-<attempt>` of the steps this operator works on: read once, then
// known from its own writes. The operator is their only writer (a leader writes, other replicas
// wait), and a pass reads its step's ConfigMap several times per attempt, so each read was a GET:
// most of the operator's requests under load. An informer would cache every attempt of every
// finished plan too; this keeps only the steps in progress, and forgets a step when it finishes.

import { isAlreadyExists, isNotFound, type KubeClient, type KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';

export type ConfigMap = KubeObject & { data?: Record<string, string> };

/** A bound on the ConfigMaps kept, far above the steps one replica works on at once. */
const MAX_KNOWN = 20_000;

export class AttemptConfigMaps {
  private readonly client: KubeClient;
  /** By namespace/name: the newest version this process read or wrote; null when it does not exist. */
  private readonly known = new Map<string, ConfigMap | null>();

  constructor(client: KubeClient) {
    this.client = client;
  }

  /** The ConfigMap, or undefined when it does not exist; read from the API the first time only. */
  async get(namespace: string, name: string): Promise<ConfigMap | undefined> {
    const key = `${namespace}/${name}`;
    const known = this.known.get(key);
    if (known !== undefined) return known ?? undefined;
    const read = await this.client.find<ConfigMap>(RESOURCES.configMaps, namespace, name);
    // A write that finished while the GET was in flight is newer than what it read.
    if (!this.known.has(key)) this.remember(key, read ?? null);
    return this.known.get(key) ?? undefined;
  }

  /**
   * Merges `data` into the ConfigMap, creating it from `template` when it does not exist. A
   * ConfigMap deleted by hand meanwhile is made again.
   */
  async write(template: ConfigMap, data: Record<string, string>): Promise<void> {
    const namespace = template.metadata.namespace!;
    const name = template.metadata.name!;
    const key = `${namespace}/${name}`;
    const known = this.known.get(key);
    // Nothing new: no write (a pass that saves what a task already saved, a trial's keys stored with its artifact).
    if (known && Object.entries(data).every(([k, v]) => known.data?.[k] === v)) return;
    const patch = () =>
      this.client.patch<ConfigMap>(RESOURCES.configMaps, namespace, name, { data }) as Promise<ConfigMap>;
    if (known) {
      try {
        this.remember(key, await patch());
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    try {
      this.remember(
        key,
        await this.client.create<ConfigMap>(RESOURCES.configMaps, {
          ...template,
          data: { ...template.data, ...data },
        }),
      );
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      this.remember(key, await patch());
    }
  }

  /**
   * Records that a ConfigMap does not exist yet, when this process moves a step to a new attempt:
   * its first read then needs no GET. (Should it exist after all, the first write finds it.)
   */
  markAbsent(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (!this.known.has(key)) this.remember(key, null);
  }

  /** Forgets the ConfigMaps of a step (finished or deleted): they are not read again. */
  forget(namespace: string, step: string): void {
    const prefix = `${namespace}/${step}-`;
    for (const key of this.known.keys()) if (key.startsWith(prefix)) this.known.delete(key);
  }

  /** How many ConfigMaps are known (for tests). */
  get size(): number {
    return this.known.size;
  }

  private remember(key: string, object: ConfigMap | null): void {
    const before = this.known.get(key);
    // Two writes of one ConfigMap can answer out of order: keep the newer (etcd's revisions grow).
    if (before && object && newer(before, object)) return;
    this.known.delete(key);
    this.known.set(key, object);
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
  }
}

/** True when `a` is a later version than `b`, as far as their resourceVersions tell. */
function newer(a: ConfigMap, b: ConfigMap): boolean {
  const x = Number(a.metadata.resourceVersion);
  const y = Number(b.metadata.resourceVersion);
  return Number.isFinite(x) && Number.isFinite(y) && x > y;
}
