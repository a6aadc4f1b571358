// Writing a reconciled object's status: once per pass, only when it changed, with the cached
// resourceVersion (a conflict means the cache is stale, and the queue retries). After a write, the
// cache shows the old version until the watch delivers the new one; acting on it would repeat work,
// so isStale() tells reconcilers to skip it.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import type { Resource } from '../kube/resources.ts';

export class StatusWriter {
  private readonly client: KubeClient;
  private readonly resource: Resource;
  /** The resourceVersion each key's last status write was based on. */
  private readonly writtenFrom = new Map<string, string>();

  constructor(client: KubeClient, resource: Resource) {
    this.client = client;
    this.resource = resource;
  }

  /** True when the object is the version our last write replaced: the cache has not caught up yet. */
  isStale(key: string, object: KubeObject): boolean {
    return this.writtenFrom.get(key) === object.metadata.resourceVersion;
  }

  forget(key: string): void {
    this.writtenFrom.delete(key);
  }

  /**
   * Writes `status` unless it equals the object's; returns whether it wrote. Equality ignores key
   * order: a real API server returns custom resources with their keys sorted, so a status built
   * in another order is the same status. A write the server finds unchanged keeps the
   * resourceVersion, and then the cache is not stale: no newer version will come to replace it.
   *
   * `refresh` brings fields that change with time alone (elapsed seconds) up to date, only when
   * the status is written anyway: a clock is no reason to write, and under load it was most writes.
   */
  async write<S>(
    key: string,
    object: KubeObject & { status?: unknown },
    status: S,
    refresh?: (status: S) => S,
  ): Promise<boolean> {
    if (canonicalJson(status) === canonicalJson(object.status ?? {})) return false;
    if (refresh) status = refresh(status);
    const written = await this.client.replaceStatus(this.resource, { ...object, status });
    const base = object.metadata.resourceVersion ?? '';
    if (written?.metadata?.resourceVersion !== base) this.writtenFrom.set(key, base);
    else this.writtenFrom.delete(key);
    return true;
  }
}

/** JSON with object keys sorted, so that two objects equal but for key order compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
