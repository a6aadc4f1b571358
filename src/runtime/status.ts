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

  /** Writes `status` unless it equals the object's; returns whether it wrote. */
  async write(key: string, object: KubeObject & { status?: unknown }, status: unknown): Promise<boolean> {
    if (JSON.stringify(status) === JSON.stringify(object.status ?? {})) return false;
    await this.client.replaceStatus(this.resource, { ...object, status });
    this.writtenFrom.set(key, object.metadata.resourceVersion ?? '');
    return true;
  }
}
