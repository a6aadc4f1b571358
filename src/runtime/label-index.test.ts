import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/client.ts';
import { type Cache, type InformerHandler, LabelIndex } from './informer.ts';

/** A cache driven by the test: its handlers get the events the test sends. */
function fakeCache(initial: KubeObject[]): Cache & { send: InformerHandler<KubeObject> } {
  const handlers: InformerHandler<KubeObject>[] = [];
  return {
    on(handler) {
      handlers.push(handler);
      return this;
    },
    get: () => undefined,
    list: () => initial,
    waitForSync: async () => {},
    hasSynced: true,
    send: (event, object, old) => {
      for (const h of handlers) h(event, object, old);
    },
  };
}

const pod = (name: string, job?: string, namespace = 'ns'): KubeObject => ({
  metadata: { name, namespace, ...(job ? { labels: { 'job-name': job } } : {}) },
});
const names = (objects: KubeObject[]) => objects.map((o) => o.metadata.name).sort();

describe('LabelIndex', () => {
  it('groups by namespace and label value, following adds, relabels and deletes', () => {
    const cache = fakeCache([pod('a', 'j1'), pod('b', 'j1', 'other')]);
    const index = new LabelIndex(cache, 'job-name');
    expect(names(index.get('ns', 'j1'))).toEqual(['a']);
    expect(names(index.get('other', 'j1'))).toEqual(['b']);
    cache.send('add', pod('c', 'j1'));
    cache.send('add', pod('d'));
    expect(names(index.get('ns', 'j1'))).toEqual(['a', 'c']);
    cache.send('update', pod('c', 'j2'), pod('c', 'j1'));
    expect(names(index.get('ns', 'j1'))).toEqual(['a']);
    expect(names(index.get('ns', 'j2'))).toEqual(['c']);
    cache.send('delete', pod('a', 'j1'));
    expect(index.get('ns', 'j1')).toEqual([]);
  });
});
