/**
 * What the simulated world (scheduler, kubelets, Kaniko, Flux Operator) needs of an API server, so
 * the same controllers run inside the sim (on its Store, synchronously) or against any real
 * kube-apiserver (through informers and HTTP, see remote.ts), as KWOK does for nodes and pods.
 *
 * Reads come from a cache and are synchronous; writes are intents (bind a pod, write its status,
 * confirm its deletion) because a real server allows some changes only through their own verbs: a
 * pod is bound through `pods/binding`, never by writing `spec.nodeName`.
 */
import type { KubeObject, Store, WatchEvent } from '../store.ts';

export interface WorldCluster {
  /** Events for one resource ("v1/pods", "batch/v1/jobs", ...); ADDED for what exists first. */
  watch(resource: string, listener: (event: WatchEvent) => void): () => void;
  /** The cached object (read-only), or undefined. */
  getRaw(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** A copy of the cached object, to change and write back. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: string, namespace?: string): KubeObject[];
  /** Whether the resource is served (a CRD such as the Flux Operator's may be installed later). */
  serves(plural: string, group: string): boolean;
  /** Creates an object; one that exists already is left as it is. */
  create(resource: string, object: KubeObject): void;
  /** Replaces an object (events; objects without a status subresource). */
  update(resource: string, object: KubeObject): void;
  /** Writes the object's status. */
  updateStatus(resource: string, object: KubeObject): void;
  /** Binds a pending pod to a node, as the scheduler does through `pods/binding`. */
  bind(pod: KubeObject, node: string): void;
  /** A kubelet's last word on a pod being deleted: its containers stopped, the pod may go. */
  podTerminated(pod: KubeObject): void;
}

/** The world on the sim's own Store: every write lands at once, as before the split. */
export function storeCluster(store: Store): WorldCluster {
  return {
    watch: (resource, listener) => store.watch(resource, listener, { resourceVersion: '0' }),
    getRaw: (resource, namespace, name) => store.getRaw(resource, namespace, name),
    get: (resource, namespace, name) => store.get(resource, namespace, name),
    list: (resource, namespace) => store.listRaw(resource, namespace).items,
    serves: (plural, group) => store.resolve(plural, group) !== undefined,
    create: (resource, object) => {
      store.create(resource, object);
    },
    update: (resource, object) => {
      store.update(resource, object);
    },
    updateStatus: (resource, object) => {
      store.updateStatus(resource, object);
    },
    bind: (pod, node) => {
      store.bindPod(pod.metadata.namespace ?? 'default', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      } as KubeObject);
    },
    // The sim's store removes a deleted pod itself once its finalizers are gone.
    podTerminated: () => {},
  };
}

/** Sets a pod condition, keeping lastTransitionTime when the status does not change. */
export function setPodCondition(
  pod: KubeObject,
  condition: Record<string, unknown> & { type: string; status: string },
): void {
  pod['status'] ??= {};
  const status = pod['status'] as Record<string, unknown>;
  const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []) as Record<
    string,
    unknown
  >[];
  const index = conditions.findIndex((existing) => existing['type'] === condition.type);
  const previous = conditions[index];
  const next = { ...condition };
  if (previous && previous['status'] === condition.status)
    next['lastTransitionTime'] = previous['lastTransitionTime'];
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
  status['conditions'] = conditions;
}
