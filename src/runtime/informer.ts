// An informer: list, then watch from the list's resourceVersion, keeping an in-memory cache that
// reconcilers read. A closed watch resumes from the last resourceVersion seen (no event is lost); an
// expired one (410 Gone) re-lists and reconciles the cache with the list; any other error backs off
// and retries, forever — unlike client-node's ListWatch, which stops for good after an error.
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { ApiError, KubeClient, type KubeObject } from '../kube/client.ts';
import { type Resource, resourcePath } from '../kube/resources.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, object: T, old?: T) => void;

export interface InformerOptions {
  resource: Resource;
  /** Watch one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  /** Backoff after errors: base and cap in milliseconds. */
  backoffMs?: { base: number; max: number };
  onError?: (error: unknown, retryInMs: number) => void;
}

export const objectKey = (o: { metadata: { namespace?: string; name?: string } }) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata.name ?? '');

class GoneError extends Error {}

/** What controllers read: a synced cache of one resource, with change notifications. */
export interface Cache<T extends KubeObject = KubeObject> {
  on(handler: InformerHandler<T>): this;
  get(namespace: string | undefined, name: string): T | undefined;
  list(filter?: (object: T) => boolean): T[];
  waitForSync(): Promise<void>;
  readonly hasSynced: boolean;
}

export class Informer<T extends KubeObject = KubeObject> implements Cache<T> {
  readonly options: InformerOptions;
  private readonly client: KubeClient;
  private readonly watcher: Watch;
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private resourceVersion: string | undefined;
  private stopped = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  /** Counts for tests and metrics: how often the informer listed and watched. */
  readonly stats = { lists: 0, watches: 0, errors: 0 };

  constructor(config: KubeConfig, options: InformerOptions) {
    this.options = options;
    this.client = new KubeClient(config);
    this.watcher = new Watch(config);
  }

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(filter?: (object: T) => boolean): T[] {
    const all = [...this.cache.values()];
    return filter ? all.filter(filter) : all;
  }

  /** Starts the list-watch loop; resolves once the first list is in the cache. */
  start(): Promise<void> {
    void this.loop();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    const { base, max } = this.options.backoffMs ?? { base: 200, max: 30_000 };
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        const started = Date.now();
        const events = await this.watchOnce();
        // A watch the server closes at once, again and again, must not turn into a hot loop.
        failures = events > 0 || Date.now() - started > 1000 ? 0 : failures + 1;
        if (failures > 0) await this.sleep(Math.min(base * 2 ** (failures - 1), max));
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof GoneError) {
          this.resourceVersion = undefined;
          continue;
        }
        failures++;
        this.stats.errors++;
        const delay = Math.min(base * 2 ** (failures - 1), max);
        this.options.onError?.(error, delay);
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async relist(): Promise<void> {
    this.stats.lists++;
    const { resource, namespace, labelSelector } = this.options;
    const list = await this.client.list<T>(resource, namespace, labelSelector ? { labelSelector } : {});
    const seen = new Set<string>();
    for (const item of list.items) {
      item.apiVersion ??= resource.group ? `${resource.group}/${resource.version}` : resource.version;
      item.kind ??= resource.kind;
      seen.add(objectKey(item));
      this.upsert(item);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** Watches until the stream ends; returns how many events arrived. */
  private watchOnce(): Promise<number> {
    this.stats.watches++;
    const { resource, namespace, labelSelector } = this.options;
    let events = 0;
    return new Promise<number>((resolve, reject) => {
      let gone = false;
      const params: Record<string, string | boolean> = {
        allowWatchBookmarks: true,
        resourceVersion: this.resourceVersion ?? '',
      };
      if (labelSelector) params['labelSelector'] = labelSelector;
      this.watcher
        .watch(
          resourcePath(resource, namespace),
          params,
          (type: string, object: T & { code?: number }) => {
            events++;
            if (type === 'ERROR') {
              if (object.code === 410) gone = true;
              return;
            }
            const rv = object.metadata?.resourceVersion;
            if (type === 'BOOKMARK') {
              if (rv) this.resourceVersion = rv;
              return;
            }
            if (type === 'DELETED') {
              const key = objectKey(object);
              const old = this.cache.get(key);
              this.cache.delete(key);
              this.emit('delete', old ?? object);
            } else if (type === 'ADDED' || type === 'MODIFIED') {
              this.upsert(object);
            }
            if (rv) this.resourceVersion = rv;
          },
          (error: unknown) => {
            this.abort = undefined;
            const status = (error as { statusCode?: number } | null)?.statusCode;
            if (gone || status === 410) reject(new GoneError('resource version expired'));
            else if (error && !this.stopped)
              reject(
                error instanceof Error ? error : new ApiError(status ?? 0, 'WatchFailed', String(error)),
              );
            else resolve(events);
          },
        )
        .then((controller) => {
          this.abort = controller;
          if (this.stopped) controller.abort();
        }, reject);
    });
  }

  private upsert(object: T): void {
    const key = objectKey(object);
    const old = this.cache.get(key);
    if (old && old.metadata.resourceVersion === object.metadata.resourceVersion) return;
    this.cache.set(key, object);
    this.emit(old ? 'update' : 'add', object, old);
  }

  private emit(event: InformerEvent, object: T, old?: T): void {
    for (const handler of this.handlers) handler(event, object, old);
  }
}

/** Several informers of one resource (one per watched namespace) read as one cache. */
export class InformerGroup<T extends KubeObject = KubeObject> implements Cache<T> {
  readonly informers: Informer<T>[];
  constructor(informers: Informer<T>[]) {
    this.informers = informers;
  }
  on(handler: InformerHandler<T>): this {
    for (const informer of this.informers) informer.on(handler);
    return this;
  }
  get(namespace: string | undefined, name: string): T | undefined {
    for (const informer of this.informers) {
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }
  list(filter?: (object: T) => boolean): T[] {
    return this.informers.flatMap((informer) => informer.list(filter));
  }
  get hasSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced);
  }
  async waitForSync(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.waitForSync()));
  }
  async start(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.start()));
  }
  stop(): void {
    for (const informer of this.informers) informer.stop();
  }
}

/**
 * A cache's objects grouped by namespace and the value of one label, kept up to date from its
 * events, as client-go's indexers are: finding a Job's pods by scanning every pod was linear in the
 * pods cached, on every pass.
 */
export class LabelIndex<T extends KubeObject = KubeObject> {
  private readonly label: string;
  private readonly groups = new Map<string, Map<string, T>>();

  constructor(cache: Cache<T>, label: string) {
    this.label = label;
    cache.on((event, object, old) => {
      if (old) this.remove(old);
      if (event === 'delete') this.remove(object);
      else this.add(object);
    });
    for (const object of cache.list()) this.add(object);
  }

  /** The objects in `namespace` whose label has `value`. */
  get(namespace: string | undefined, value: string): T[] {
    return [...(this.groups.get(`${namespace ?? ''}/${value}`)?.values() ?? [])];
  }

  private groupOf(object: T): string | undefined {
    const value = object.metadata.labels?.[this.label];
    return value === undefined ? undefined : `${object.metadata.namespace ?? ''}/${value}`;
  }

  private add(object: T): void {
    const group = this.groupOf(object);
    if (group === undefined) return;
    let members = this.groups.get(group);
    if (!members) {
      members = new Map();
      this.groups.set(group, members);
    }
    members.set(objectKey(object), object);
  }

  private remove(object: T): void {
    const group = this.groupOf(object);
    const members = group === undefined ? undefined : this.groups.get(group);
    if (!members) return;
    members.delete(objectKey(object));
    if (members.size === 0) this.groups.delete(group!);
  }
}
