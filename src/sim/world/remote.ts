/**
 * The world's view of a real API server: informers keep the caches its controllers read
 * synchronously, and writes go out over HTTP in order, one object at a time. Writes are the real
 * verbs: a pod is bound through `pods/binding`, statuses are merge patches of `/status` computed
 * against the cached object (a kubelet owns a pod's status, whatever else changed since), and a
 * kubelet confirms a pod's deletion with a zero grace period once its containers have stopped.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, identify, KubeClient } from '../../kube/client.ts';
import { type Resource, resourcePath } from '../../kube/resources.ts';
import { Informer } from '../../runtime/informer.ts';
import type { KubeObject, WatchEvent } from '../store.ts';
import type { WorldCluster } from './cluster.ts';

/** The sim's resource names ("group/version/plural", "v1/plural") as API resources. */
function resourceOf(name: string): Resource {
  const parts = name.split('/');
  const [group, version, plural] =
    parts.length === 2 ? ['', parts[0]!, parts[1]!] : [parts[0]!, parts[1]!, parts[2]!];
  const clusterScoped = new Set(['nodes', 'namespaces', 'customresourcedefinitions']);
  return { group, version, plural, kind: plural, namespaced: !clusterScoped.has(plural) };
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An RFC 7386 merge patch that turns `from` into `to` (null removes a key; lists are replaced). */
export function mergePatch(from: Json, to: Json): Json {
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const before = from[key];
    if (JSON.stringify(before) === JSON.stringify(value)) continue;
    patch[key] = isObject(before) && isObject(value) ? mergePatch(before, value) : value;
  }
  return patch;
}

export interface RemoteCluster extends WorldCluster {
  /** Resolves once every cache the world reads has listed. */
  synced(): Promise<void>;
  /** Resolves when the writes sent so far are done (for an orderly stop). */
  settled(): Promise<void>;
  stop(): void;
}

/** Resources the world reads; MiniClusters are added once their CRD is served. */
const WATCHED = [
  'v1/pods',
  'v1/nodes',
  'v1/configmaps',
  'v1/secrets',
  'v1/services',
  'v1/events',
  'batch/v1/jobs',
  'apiextensions.k8s.io/v1/customresourcedefinitions',
];

export function remoteCluster(
  kubeConfig: KubeConfig,
  options: { onError?: (what: string, error: unknown) => void } = {},
): RemoteCluster {
  // Its requests say they are the world's, so counts of the operator's requests leave them out.
  identify(kubeConfig, 'sim-world');
  const client = new KubeClient(kubeConfig);
  const informers = new Map<string, Informer<KubeObject & { apiVersion?: string; kind?: string }>>();
  const listeners = new Map<string, Set<(event: WatchEvent) => void>>();
  const writes = new Map<string, Promise<void>>();
  const synced = new Set<string>();
  const report = options.onError ?? (() => {});
  let stopped = false;

  const informer = (name: string): Informer<KubeObject> => {
    let found = informers.get(name);
    if (!found) {
      found = new Informer<KubeObject>(kubeConfig, {
        resource: resourceOf(name),
        backoffMs: { base: 50, max: 2000 },
      });
      const subscribers = new Set<(event: WatchEvent) => void>();
      listeners.set(name, subscribers);
      found.on((event, object) => {
        const type = event === 'add' ? 'ADDED' : event === 'update' ? 'MODIFIED' : 'DELETED';
        for (const listener of [...subscribers]) listener({ type, object } as WatchEvent);
      });
      informers.set(name, found);
      void found.start();
      void found.waitForSync().then(() => synced.add(name));
    }
    return found;
  };
  for (const name of WATCHED) informer(name);

  /** Runs writes to one object in order, so a status never overtakes the one before it. */
  const enqueue = (key: string, what: string, write: () => Promise<unknown>) => {
    const previous = writes.get(key) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        if (stopped) return;
        await write();
      })
      .catch((error: unknown) => {
        // A conflict, or an object deleted meanwhile: the next event brings the controller back.
        if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return;
        report(what, error);
      });
    writes.set(key, next);
    void next.finally(() => {
      if (writes.get(key) === next) writes.delete(key);
    });
  };
  const keyOf = (resource: string, o: KubeObject) =>
    `${resource}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

  return {
    watch(resource, listener) {
      const source = informer(resource);
      listeners.get(resource)!.add(listener);
      // As a watch from resourceVersion 0: what exists first comes as ADDED. An informer still
      // listing delivers it as its own adds; one already synced is replayed.
      if (synced.has(resource))
        for (const object of source.list()) listener({ type: 'ADDED', object } as WatchEvent);
      return () => {
        listeners.get(resource)!.delete(listener);
      };
    },
    getRaw: (resource, namespace, name) => informer(resource).get(namespace, name),
    get: (resource, namespace, name) => {
      const found = informer(resource).get(namespace, name);
      return found ? structuredClone(found) : undefined;
    },
    list: (resource, namespace) =>
      informer(resource).list((o) => namespace === undefined || o.metadata.namespace === namespace),
    serves(plural, group) {
      const crd = informer('apiextensions.k8s.io/v1/customresourcedefinitions').get(
        undefined,
        `${plural}.${group}`,
      );
      const conditions = (crd?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)
        ?.conditions;
      return conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    },
    create(resource, object) {
      const r = resourceOf(resource);
      enqueue(keyOf(resource, object), `create ${resource}`, async () => {
        try {
          await client.request('POST', resourcePath(r, object.metadata.namespace), { body: object });
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 409)) throw error;
        }
      });
    },
    update(resource, object) {
      const r = resourceOf(resource);
      enqueue(keyOf(resource, object), `update ${resource}`, () =>
        client.request('PUT', resourcePath(r, object.metadata.namespace, object.metadata.name), {
          body: object,
        }),
      );
    },
    updateStatus(resource, object) {
      const r = resourceOf(resource);
      const cached = informer(resource).get(object.metadata.namespace, object.metadata.name ?? '');
      const patch = mergePatch(cached?.['status'] ?? {}, object['status'] ?? {});
      if (isObject(patch) && Object.keys(patch).length === 0) return;
      enqueue(keyOf(resource, object), `write the status of ${resource}`, () =>
        client.request(
          'PATCH',
          `${resourcePath(r, object.metadata.namespace, object.metadata.name)}/status`,
          {
            body: { status: patch },
            contentType: 'application/merge-patch+json',
          },
        ),
      );
    },
    bind(pod, node) {
      const namespace = pod.metadata.namespace ?? 'default';
      enqueue(keyOf('v1/pods', pod), 'bind a pod', () =>
        client.request('POST', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/binding`, {
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: pod.metadata.name, namespace, uid: pod.metadata.uid },
            target: { apiVersion: 'v1', kind: 'Node', name: node },
          },
        }),
      );
    },
    podTerminated(pod) {
      const namespace = pod.metadata.namespace ?? 'default';
      enqueue(keyOf('v1/pods', pod), 'remove a terminated pod', () =>
        client.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}`, {
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            gracePeriodSeconds: 0,
            preconditions: { uid: pod.metadata.uid },
          },
        }),
      );
    },
    async synced() {
      await Promise.all([...informers.values()].map((i) => i.waitForSync()));
    },
    async settled() {
      while (writes.size > 0) await Promise.all([...writes.values()]);
    },
    stop() {
      stopped = true;
      for (const i of informers.values()) i.stop();
    },
  };
}
