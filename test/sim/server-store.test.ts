import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, StatusError, Store, type WatchEvent } from '../../src/sim/store.ts';

const root = join(import.meta.dirname, '../..');
const CRDS = 'apiextensions.k8s.io/v1/customresourcedefinitions';
const PLANS = 'fractale.dev/v1alpha1/agentplans';

function installCrds(store: Store): void {
  for (const file of [
    join(root, 'crds/fractale.dev_agentplans.yaml'),
    join(root, 'crds/fractale.dev_agentsteps.yaml'),
    '/work/shared/reference/flux-operator-minicluster-crd.yaml',
  ]) {
    store.create(CRDS, parse(readFileSync(file, 'utf8')));
  }
}

function plan(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'fractale.dev/v1alpha1', kind: 'AgentPlan', metadata: { name }, spec };
}

const DEPLOYMENTS = 'apps/v1/deployments';

/** A Deployment whose pod template has the given spec (strategic merge patches act on it as on a pod). */
function deployment(
  name: string,
  extra: Partial<KubeObject['metadata']> = {},
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...extra },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
      },
    },
  };
}

const podSpecOf = (o: KubeObject) => (o['spec'] as { template: { spec: unknown } }).template.spec;

function pod(
  name: string,
  extra: Partial<KubeObject['metadata']> = {},
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
  };
}

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('expected a StatusError');
}

let store: Store;
beforeEach(() => {
  store = new Store();
  installCrds(store);
});

describe('custom resources', () => {
  it('serves CRD resources at once, with their names and categories', () => {
    const t = store.resolve('ap');
    expect(t?.name).toBe(PLANS);
    expect(store.resolve('AgentPlan')?.plural).toBe('agentplans');
    expect(store.resolve('minicluster')?.name).toBe('flux-framework.org/v1alpha2/miniclusters');
    const crd = store.get(CRDS, undefined, 'agentplans.fractale.dev')!;
    const conditions = (crd['status'] as { conditions: { type: string; status: string }[] }).conditions;
    expect(conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      'NamesAccepted=True',
      'Established=True',
    ]);
  });

  it('applies defaults and prunes unknown fields, keeping preserve-unknown-fields subtrees', () => {
    const warnings: string[] = [];
    const created = store.create(
      PLANS,
      plan('p', {
        steps: [{ name: 'a', agent: 'build', bogus: 1, context: { anything: { nested: true } } }],
        extra: 'x',
      }),
      { fieldValidation: 'Warn', warnings },
    );
    const spec = created['spec'] as Record<string, unknown>;
    expect(spec['maxAttempts']).toBe(10);
    expect(spec['useCache']).toBe(false);
    expect(spec['extra']).toBeUndefined();
    expect(spec['steps']).toEqual([{ name: 'a', agent: 'build', context: { anything: { nested: true } } }]);
    expect(warnings.sort()).toEqual(['unknown field "spec.extra"', 'unknown field "spec.steps[0].bogus"']);
  });

  it('refuses unknown fields under Strict field validation with the decoder wording', () => {
    const err = statusOf(() =>
      store.create(PLANS, plan('p', { steps: [{ name: 'a', agent: 'build' }], foo: 1 }), {
        fieldValidation: 'Strict',
      }),
    );
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'AgentPlan in version "v1alpha1" cannot be handled as a AgentPlan: strict decoding error: unknown field "spec.foo"',
    );
  });

  it('reports schema violations with field paths and real wording', () => {
    const err = statusOf(() =>
      store.create(PLANS, plan('p', { steps: [{ name: 'a', agent: 'nope' }], maxAttempts: 0 })),
    );
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.status.details?.kind).toBe('AgentPlan');
    expect(err.status.details?.causes).toEqual([
      {
        reason: 'FieldValueNotSupported',
        field: 'spec.steps[0].agent',
        message:
          'Unsupported value: "nope": supported values: "build", "kubernetes-job", "minicluster", "cost", "flux-batch", "optimize"',
      },
      {
        reason: 'FieldValueInvalid',
        field: 'spec.maxAttempts',
        message: 'Invalid value: 0: spec.maxAttempts in body should be greater than or equal to 1',
      },
      {
        reason: 'FieldValueInvalid',
        field: '<nil>',
        message:
          'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      },
    ]);
    expect(err.message).toMatch(
      /^AgentPlan\.fractale\.dev "p" is invalid: \[spec\.steps\[0\]\.agent: Unsupported value/,
    );
  });

  it('evaluates the CEL rule on unique step names', () => {
    const err = statusOf(() =>
      store.create(
        PLANS,
        plan('dup', {
          steps: [
            { name: 'a', agent: 'build' },
            { name: 'a', agent: 'cost' },
          ],
        }),
      ),
    );
    expect(err.message).toBe(
      'AgentPlan.fractale.dev "dup" is invalid: spec.steps: Invalid value: "object": step names must be unique within a plan',
    );
    expect(() =>
      store.create(
        PLANS,
        plan('ok', {
          steps: [
            { name: 'a', agent: 'build' },
            { name: 'b', agent: 'cost' },
          ],
        }),
      ),
    ).not.toThrow();
  });

  it('refuses a CRD whose CEL rule the evaluator cannot compile', () => {
    const crd = parse(readFileSync(join(root, 'crds/fractale.dev_agentplans.yaml'), 'utf8'));
    crd.metadata.name = 'widgets.example.com';
    crd.spec.group = 'example.com';
    crd.spec.names = { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' };
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [
      { rule: 'isURL(self.goal)' },
    ];
    const err = statusOf(() => store.create(CRDS, crd));
    expect(err.code).toBe(422);
    // A one-version CRD's schema is reported at spec.validation, as the real server hoists it.
    expect(err.status.details?.causes?.[0]?.field).toBe(
      'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule',
    );
    expect(err.status.details?.causes?.[0]?.message).toMatch(
      /^Invalid value: \{"Rule":"isURL\(self\.goal\)","Message":"",.*\}: compilation failed: /,
    );
    expect(store.resolve('widget')).toBeUndefined();
  });

  it('reports type, required, pattern and size errors', () => {
    const err = statusOf(() =>
      store.create(
        PLANS,
        plan('p', { steps: [{ name: 'Bad_Name', agent: 'build', maxAttempts: 'x' }, { agent: 'build' }] }),
      ),
    );
    const causes = err.status.details?.causes?.map((c) => `${c.field}: ${c.message}`);
    expect(causes).toContain(
      `spec.steps[0].name: Invalid value: "Bad_Name": spec.steps[0].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'`,
    );
    expect(causes).toContain(
      'spec.steps[0].maxAttempts: Invalid value: "string": spec.steps[0].maxAttempts in body must be of type integer: "string"',
    );
    expect(causes).toContain('spec.steps[1].name: Required value');
    const long = statusOf(() =>
      store.create(
        PLANS,
        plan('p', { description: 'x'.repeat(5000), steps: [{ name: 'a', agent: 'build' }] }),
      ),
    );
    expect(long.status.details?.causes?.[0]).toEqual({
      reason: 'FieldValueTooLong',
      field: 'spec.description',
      message: 'Too long: may not be more than 4096 bytes',
    });
  });

  it('validates MiniClusters against the Flux Operator schema (int-or-string, defaults, no CEL note)', () => {
    const MINICLUSTERS = 'flux-framework.org/v1alpha2/miniclusters';
    const created = store.create(MINICLUSTERS, {
      apiVersion: 'flux-framework.org/v1alpha2',
      kind: 'MiniCluster',
      metadata: { name: 'mc' },
      spec: { size: 2, containers: [{ image: 'lammps', resources: { limits: { cpu: 1, memory: '2Gi' } } }] },
    });
    expect(created['spec']).toMatchObject({
      size: 2,
      cleanup: false,
      containers: [{ image: 'lammps', pullAlways: false }],
    });
    const err = statusOf(() =>
      store.create(MINICLUSTERS, {
        apiVersion: 'flux-framework.org/v1alpha2',
        kind: 'MiniCluster',
        metadata: { name: 'bad' },
        spec: { size: 'four', containers: [{ image: 'x' }] },
      }),
    );
    // The MiniCluster schema has no x-kubernetes-validations, so no "rules were not checked" cause.
    expect(err.message).toBe(
      'MiniCluster.flux-framework.org "bad" is invalid: spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
    );
  });

  it('ignores status on the main resource and spec on /status; bumps generation on spec changes only', () => {
    const created = store.create(PLANS, {
      ...plan('p', { steps: [{ name: 'a', agent: 'build' }] }),
      status: { phase: 'Running' },
    });
    expect(created['status']).toBeUndefined();
    expect(created.metadata.generation).toBe(1);

    const withStatus = store.updateStatus(PLANS, {
      ...created,
      spec: { steps: [{ name: 'changed', agent: 'build' }] },
      status: { phase: 'Running' },
    });
    expect((withStatus['status'] as { phase: string }).phase).toBe('Running');
    expect((withStatus['spec'] as { steps: { name: string }[] }).steps[0]!.name).toBe('a');
    expect(withStatus.metadata.generation).toBe(1);

    const relabeled = store.update(PLANS, {
      ...withStatus,
      metadata: { ...withStatus.metadata, labels: { a: 'b' } },
      status: {},
    });
    expect(relabeled.metadata.generation).toBe(1);
    expect((relabeled['status'] as { phase: string }).phase).toBe('Running');

    const respecced = store.patch(PLANS, 'default', 'p', 'merge', { spec: { maxAttempts: 3 } });
    expect(respecced.metadata.generation).toBe(2);
    expect(Number(respecced.metadata.resourceVersion)).toBeGreaterThan(
      Number(relabeled.metadata.resourceVersion),
    );
  });

  it('does not bump the resourceVersion for a write that changes nothing', () => {
    const created = store.create(PLANS, plan('p', { steps: [{ name: 'a', agent: 'build' }] }));
    const same = store.update(PLANS, created);
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });
});

describe('optimistic concurrency and names', () => {
  it('answers 409 Conflict with the real wording for a stale resourceVersion', () => {
    const created = store.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: '1' },
    });
    store.update('v1/configmaps', { ...created, data: { a: '2' } });
    const err = statusOf(() => store.update('v1/configmaps', { ...created, data: { a: '3' } }));
    expect(err.code).toBe(409);
    expect(err.message).toBe(
      'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('answers AlreadyExists, NotFound and generates names', () => {
    store.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    expect(
      statusOf(() =>
        store.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }),
      ).message,
    ).toBe('configmaps "c" already exists');
    expect(statusOf(() => store.patch('batch/v1/jobs', 'default', 'nope', 'merge', {})).message).toBe(
      'jobs.batch "nope" not found',
    );
    const generated = store.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'cm-' },
    });
    expect(generated.metadata.name).toMatch(/^cm-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(
      statusOf(() =>
        store.create('v1/configmaps', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { namespace: 'missing', name: 'x' },
        }),
      ).message,
    ).toBe('namespaces "missing" not found');
  });
});

describe('selectors', () => {
  beforeEach(() => {
    store.create('v1/pods', pod('a', { labels: { app: 'x', tier: 'web' } }, { nodeName: 'n1' }));
    store.create('v1/pods', pod('b', { labels: { app: 'y' } }));
    store.create('v1/pods', pod('c', { labels: { app: 'x' } }));
  });
  const names = (labelSelector?: string, fieldSelector?: string) =>
    store.list('v1/pods', 'default', { labelSelector, fieldSelector }).items.map((o) => o.metadata.name);

  it('supports every label selector operator', () => {
    expect(names('app=x')).toEqual(['a', 'c']);
    expect(names('app==y')).toEqual(['b']);
    expect(names('app!=x')).toEqual(['b']);
    expect(names('app in (x, y),tier')).toEqual(['a']);
    expect(names('app notin (x)')).toEqual(['b']);
    expect(names('!tier')).toEqual(['b', 'c']);
    expect(statusOf(() => names('app in x')).code).toBe(400);
  });

  it('supports field selectors the resource declares, and refuses others', () => {
    expect(names(undefined, 'metadata.name=b')).toEqual(['b']);
    expect(names(undefined, 'spec.nodeName=n1')).toEqual(['a']);
    expect(names(undefined, 'status.phase=Pending,metadata.name!=a')).toEqual(['b', 'c']);
    expect(statusOf(() => names(undefined, 'spec.bogus=1')).message).toBe(
      'field label not supported: spec.bogus',
    );
  });

  it('selects events by involvedObject', () => {
    for (const [name, kind] of [
      ['e1', 'Pod'],
      ['e2', 'Job'],
    ] as const) {
      store.create('v1/events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name },
        involvedObject: { kind, name: 'a', namespace: 'default', uid: 'u1' },
        reason: 'Test',
      });
    }
    const selected = store.list('v1/events', 'default', {
      fieldSelector:
        'involvedObject.name=a,involvedObject.namespace=default,involvedObject.kind=Job,involvedObject.uid=u1',
    });
    expect(selected.items.map((e) => e.metadata.name)).toEqual(['e2']);
  });
});

describe('patches', () => {
  // On Deployments: a pod's spec is fixed once created (the real server refuses such patches).
  it('merges containers, env and volumes by name with strategic merge patch', () => {
    store.create(
      DEPLOYMENTS,
      deployment(
        'p',
        {},
        {
          containers: [
            {
              name: 'a',
              image: 'one',
              env: [
                { name: 'X', value: '1' },
                { name: 'Y', value: '2' },
              ],
            },
            { name: 'b', image: 'two' },
          ],
          volumes: [{ name: 'v1', emptyDir: {} }],
        },
      ),
    );
    const patched = store.patch(DEPLOYMENTS, 'default', 'p', 'strategic', {
      metadata: { finalizers: ['x/y'] },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'a',
                image: 'three',
                env: [
                  { name: 'Y', value: '3' },
                  { name: 'X', $patch: 'delete' },
                ],
              },
            ],
            volumes: [{ name: 'v2', emptyDir: {} }],
          },
        },
      },
    });
    const spec = podSpecOf(patched) as {
      containers: { name: string; image: string; env?: unknown[] }[];
      volumes: { name: string }[];
    };
    expect(spec.containers.map((c) => `${c.name}:${c.image}`)).toEqual(['a:three', 'b:two']);
    expect(spec.containers[0]!.env).toEqual([{ name: 'Y', value: '3' }]);
    expect(spec.volumes.map((v) => v.name)).toEqual(['v1', 'v2']);
    const ordered = store.patch(DEPLOYMENTS, 'default', 'p', 'strategic', {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } } },
    });
    expect((podSpecOf(ordered) as { containers: { name: string }[] }).containers.map((c) => c.name)).toEqual([
      'b',
      'a',
    ]);
  });

  it('honours $retainKeys, $deleteFromPrimitiveList and $patch: replace in strategic merge patches', () => {
    store.create(
      DEPLOYMENTS,
      deployment(
        'd',
        { finalizers: ['a/x', 'b/y'] },
        { volumes: [{ name: 'v', emptyDir: {} }], nodeSelector: { a: '1', b: '2' } },
      ),
    );
    const patched = store.patch(DEPLOYMENTS, 'default', 'd', 'strategic', {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a/x'] },
      spec: {
        template: {
          spec: {
            volumes: [{ name: 'v', $retainKeys: ['name', 'configMap'], configMap: { name: 'cm' } }],
            nodeSelector: { $patch: 'replace', c: '3' },
          },
        },
      },
    });
    expect(patched.metadata.finalizers).toEqual(['b/y']);
    const spec = podSpecOf(patched) as { volumes: unknown[]; nodeSelector: unknown };
    expect(spec.volumes).toEqual([{ name: 'v', configMap: { name: 'cm' } }]);
    expect(spec.nodeSelector).toEqual({ c: '3' });
  });

  it('applies JSON patch and merge patch, and refuses strategic merge on custom resources with 415', () => {
    store.create(PLANS, plan('p', { steps: [{ name: 'a', agent: 'build' }] }));
    const jp = store.patch(PLANS, 'default', 'p', 'json', [
      { op: 'add', path: '/spec/steps/-', value: { name: 'b', agent: 'cost' } },
      { op: 'replace', path: '/spec/maxAttempts', value: 5 },
      { op: 'test', path: '/spec/steps/0/name', value: 'a' },
    ]);
    expect((jp['spec'] as { steps: unknown[]; maxAttempts: number }).steps).toHaveLength(2);
    const mp = store.patch(PLANS, 'default', 'p', 'merge', { spec: { description: 'd', useCache: null } });
    expect((mp['spec'] as Record<string, unknown>)['description']).toBe('d');
    // Removed by the patch, then defaulted again by the schema.
    expect((mp['spec'] as Record<string, unknown>)['useCache']).toBe(false);
    const err = statusOf(() => store.patch(PLANS, 'default', 'p', 'strategic', { spec: {} }));
    expect(err.code).toBe(415);
    expect(
      statusOf(() =>
        store.patch(PLANS, 'default', 'p', 'json', [{ op: 'test', path: '/spec/maxAttempts', value: 1 }]),
      ).code,
    ).toBe(422);
  });

  it('removes, on the next apply, the fields a manager applied before and no longer applies', () => {
    const config = (data: Record<string, string>, labels?: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned', ...(labels ? { labels } : {}) },
      data,
    });
    store.patch('v1/configmaps', 'default', 'owned', 'apply', config({ a: '1', b: '2' }, { team: 'x' }), {
      fieldManager: 'tool',
    });
    // Another writer's field survives the tool's next apply.
    store.patch('v1/configmaps', 'default', 'owned', 'merge', { data: { c: '3' } });
    const second = store.patch('v1/configmaps', 'default', 'owned', 'apply', config({ a: '1' }), {
      fieldManager: 'tool',
    });
    expect(second['data']).toEqual({ a: '1', c: '3' });
    expect(second.metadata.labels).toBeUndefined();
    expect(second.metadata.managedFields).toEqual([
      expect.objectContaining({
        manager: 'tool',
        operation: 'Apply',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {} } },
      }),
    ]);
    const again = store.patch('v1/configmaps', 'default', 'owned', 'apply', config({ a: '1' }), {
      fieldManager: 'tool',
    });
    expect(again.metadata.resourceVersion).toBe(second.metadata.resourceVersion);
  });

  it('creates the object when server-side apply finds none', () => {
    const applied = store.patch('v1/configmaps', 'default', 'applied', 'apply', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied' },
      data: { k: 'v' },
    });
    expect(applied.metadata.uid).toBeTruthy();
    expect(store.get('v1/configmaps', 'default', 'applied')?.['data']).toEqual({ k: 'v' });
  });
});

describe('deletion', () => {
  function job(name: string): KubeObject {
    return store.create('batch/v1/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
  }
  const ownedBy = (owner: KubeObject) => ({
    ownerReferences: [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: owner.metadata.name!,
        uid: owner.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  });

  it('collects dependents in the background after the owner goes', async () => {
    const owner = job('j');
    store.create('v1/pods', pod('child', ownedBy(owner)));
    store.create(
      'v1/pods',
      pod('grandchild', {
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            name: 'child',
            uid: store.get('v1/pods', 'default', 'child')!.metadata.uid!,
          },
        ],
      }),
    );
    expect(
      store.delete('batch/v1/jobs', 'default', 'j', { propagationPolicy: 'Background' }),
    ).toBeUndefined();
    expect(store.get('v1/pods', 'default', 'child')).toBeDefined();
    await store.settled();
    expect(store.get('v1/pods', 'default', 'child')).toBeUndefined();
    expect(store.get('v1/pods', 'default', 'grandchild')).toBeUndefined();
  });

  it('orphans dependents when asked (the Job default), removing the owner reference', async () => {
    const owner = job('j');
    store.create('v1/pods', pod('child', ownedBy(owner)));
    store.delete('batch/v1/jobs', 'default', 'j');
    await store.settled();
    expect(store.get('batch/v1/jobs', 'default', 'j')).toBeUndefined();
    expect(store.get('v1/pods', 'default', 'child')?.metadata.ownerReferences).toBeUndefined();
  });

  it('keeps a foreground-deleted owner until its dependents are gone', async () => {
    const owner = job('j');
    store.create('v1/pods', pod('child', { ...ownedBy(owner), finalizers: ['test/hold'] }));
    const pending = store.delete('batch/v1/jobs', 'default', 'j', { propagationPolicy: 'Foreground' });
    expect(pending?.metadata.deletionTimestamp).toBeTruthy();
    expect(pending?.metadata.finalizers).toEqual(['foregroundDeletion']);
    await store.settled();
    const child = store.get('v1/pods', 'default', 'child')!;
    expect(child.metadata.deletionTimestamp).toBeTruthy();
    expect(store.get('batch/v1/jobs', 'default', 'j')).toBeDefined();
    store.update('v1/pods', { ...child, metadata: { ...child.metadata, finalizers: [] } });
    await store.settled();
    expect(store.get('v1/pods', 'default', 'child')).toBeUndefined();
    expect(store.get('batch/v1/jobs', 'default', 'j')).toBeUndefined();
  });

  it('holds an object with finalizers until they are removed, then deletes it', () => {
    const created = store.create(PLANS, {
      ...plan('p', { steps: [{ name: 'a', agent: 'build' }] }),
      metadata: { name: 'p', finalizers: ['fractale.dev/cleanup'] },
    });
    const events: WatchEvent[] = [];
    store.watch(PLANS, (e) => events.push(e));
    const held = store.delete(PLANS, 'default', 'p');
    expect(held?.metadata.deletionTimestamp).toBeTruthy();
    expect(held?.metadata.generation).toBe(2);
    const current = store.get(PLANS, 'default', 'p')!;
    store.update(PLANS, { ...current, metadata: { ...current.metadata, finalizers: [] } });
    expect(store.get(PLANS, 'default', 'p')).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    expect(Number(events[1]!.object.metadata.resourceVersion)).toBeGreaterThan(
      Number(created.metadata.resourceVersion),
    );
  });

  it('empties a deleted namespace before removing it', async () => {
    store.create('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tmp' } });
    store.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'tmp' },
    });
    store.delete('v1/namespaces', undefined, 'tmp');
    expect(store.get('v1/namespaces', undefined, 'tmp')?.['status']).toEqual({ phase: 'Terminating' });
    expect(
      statusOf(() =>
        store.create('v1/configmaps', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'd', namespace: 'tmp' },
        }),
      ).code,
    ).toBe(403);
    await store.settled();
    expect(store.get('v1/configmaps', 'tmp', 'c')).toBeUndefined();
    expect(store.get('v1/namespaces', undefined, 'tmp')).toBeUndefined();
  });
});

describe('watch', () => {
  it('resumes after a resourceVersion, filters by selector transitions, and expires old versions', () => {
    const small = new Store({ watchWindow: 3 });
    const first = small.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', labels: { w: 'y' } },
    });
    small.patch('v1/configmaps', 'default', 'a', 'merge', { metadata: { labels: { w: 'n' } } });
    const seen: string[] = [];
    small.watch('v1/configmaps', (e) => seen.push(`${e.type} ${e.object.metadata.labels?.['w']}`), {
      resourceVersion: first.metadata.resourceVersion!,
      labelSelector: 'w=y',
    });
    expect(seen).toEqual(['DELETED n']);
    small.patch('v1/configmaps', 'default', 'a', 'merge', { metadata: { labels: { w: 'y' } } });
    expect(seen).toEqual(['DELETED n', 'ADDED y']);
    for (let i = 0; i < 300; i++)
      small.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `x${i}` } });
    const expired = statusOf(() =>
      small.watch('v1/configmaps', () => {}, { resourceVersion: first.metadata.resourceVersion! }),
    );
    expect(expired.code).toBe(410);
    expect(expired.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('delivers events in resourceVersion order even when a listener writes', () => {
    const order: string[] = [];
    store.watch('v1/configmaps', (e) => {
      if (e.object.metadata.name === 'a' && e.type === 'ADDED') {
        store.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } });
      }
    });
    store.watch('v1/configmaps', (e) =>
      order.push(`${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`),
    );
    store.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    const versions = order.map((o) => Number(o.split(' ')[2]));
    expect(order.map((o) => o.split(' ').slice(0, 2).join(' '))).toEqual(['ADDED a', 'ADDED b']);
    expect(versions[1]).toBeGreaterThan(versions[0]!);
  });

  it('sends synthetic ADDED events for resourceVersion 0', () => {
    store.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    const seen: string[] = [];
    const stop = store.watch('v1/configmaps', (e) => seen.push(`${e.type} ${e.object.metadata.name}`), {
      resourceVersion: '0',
    });
    store.delete('v1/configmaps', 'default', 'a');
    stop();
    store.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } });
    // What exists first comes as ADDED: each namespace's kube-root-ca.crt too.
    expect(seen.filter((e) => !e.endsWith('kube-root-ca.crt'))).toEqual(['ADDED a', 'DELETED a']);
    expect(seen).toContain('ADDED kube-root-ca.crt');
  });
});

describe('built-in defaults', () => {
  it('defaults pod requests from limits and derives the QoS class', () => {
    const limited = store.create(
      'v1/pods',
      pod(
        'limited',
        {},
        {
          containers: [{ name: 'c', image: 'busybox:1', resources: { limits: { cpu: '1', memory: '1Gi' } } }],
        },
      ),
    );
    const spec = limited['spec'] as { containers: { resources: unknown; imagePullPolicy: string }[] };
    expect(spec.containers[0]!.resources).toEqual({
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '1', memory: '1Gi' },
    });
    expect(spec.containers[0]!.imagePullPolicy).toBe('IfNotPresent');
    expect(limited['status']).toEqual({ phase: 'Pending', qosClass: 'Guaranteed' });
    const burstable = store.create(
      'v1/pods',
      pod(
        'burstable',
        {},
        { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
      ),
    );
    expect((burstable['status'] as { qosClass: string }).qosClass).toBe('Burstable');
    expect((store.create('v1/pods', pod('best'))['status'] as { qosClass: string }).qosClass).toBe(
      'BestEffort',
    );
  });

  it('defaults Jobs the way the batch strategy does, and validates the pod template', () => {
    const j = store.create('batch/v1/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const spec = j['spec'] as Record<string, unknown>;
    expect(spec['backoffLimit']).toBe(6);
    expect(spec['selector']).toEqual({
      matchLabels: { 'batch.kubernetes.io/controller-uid': j.metadata.uid },
    });
    expect(j.metadata.labels?.['job-name']).toBe('j');
    const err = statusOf(() =>
      store.create('batch/v1/jobs', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'k' },
        spec: { template: { spec: { containers: [{ name: 'c', image: 'b' }] } } },
      }),
    );
    // Pod defaulting fills in Always first, which a Job does not accept.
    expect(err.message).toBe(
      'Job.batch "k" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );
  });
});

describe('LogStore', () => {
  it('follows appended text until the container ends', () => {
    const logs = new LogStore();
    expect(logs.has('default', 'p', 'c')).toBe(false);
    logs.append('default', 'p', 'c', 'one\n');
    const chunks: string[] = [];
    let ended = false;
    logs.follow(
      'default',
      'p',
      'c',
      (c) => chunks.push(c),
      () => {
        ended = true;
      },
    );
    logs.append('default', 'p', 'c', 'two\n');
    logs.end('default', 'p', 'c');
    expect(chunks).toEqual(['two\n']);
    expect(ended).toBe(true);
    expect(logs.read('default', 'p', 'c')).toBe('one\ntwo\n');
    logs.delete('default', 'p');
    expect(logs.read('default', 'p', 'c')).toBe('');
  });
});
