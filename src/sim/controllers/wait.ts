import type { KubeObject, Store } from '../store.ts';

/**
 * Resolves with the object once `predicate` holds for it (or for its absence: `undefined`), reading
 * the current state first and then every watch event on it. Rejects after `timeoutMs` with the
 * last state seen, so a failing test says where the object got stuck.
 */
export function waitFor(
  store: Store,
  resource: string,
  namespace: string | undefined,
  name: string,
  predicate: (object: KubeObject | undefined) => boolean,
  options: { timeoutMs?: number } = {},
): Promise<KubeObject | undefined> {
  const current = store.get(resource, namespace, name);
  if (predicate(current)) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    let last: KubeObject | undefined = current;
    const timer = setTimeout(() => {
      unwatch();
      reject(
        new Error(
          `Timed out waiting for ${resource} ${namespace ? `${namespace}/` : ''}${name}; last seen: ${JSON.stringify(last?.['status'] ?? last ?? null)}`,
        ),
      );
    }, options.timeoutMs ?? 10_000);
    const unwatch = store.watch(
      resource,
      (event) => {
        if (event.object.metadata.name !== name) return;
        const object = event.type === 'DELETED' ? undefined : event.object;
        last = object;
        if (predicate(object)) {
          clearTimeout(timer);
          // Unsubscribing inside a listener is safe only after the store finishes delivering.
          queueMicrotask(unwatch);
          resolve(object ? structuredClone(object) : undefined);
        }
      },
      { namespace },
    );
  });
}
