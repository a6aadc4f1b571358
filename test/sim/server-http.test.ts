import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LogStore } from '../../src/sim/logs.ts';
import { type ApiServer, startApiServer } from '../../src/sim/server/index.ts';
import { Store } from '../../src/sim/store.ts';

const root = join(import.meta.dirname, '../..');
const TABLE_ACCEPT =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const PLAN_PATH = '/apis/fractale.dev/v1alpha1/namespaces/default/agentplans';

let store: Store;
let server: ApiServer;

beforeAll(async () => {
  store = new Store();
  for (const file of ['crds/fractale.dev_agentplans.yaml', 'crds/fractale.dev_agentsteps.yaml']) {
    store.create(
      'apiextensions.k8s.io/v1/customresourcedefinitions',
      parse(readFileSync(join(root, file), 'utf8')),
    );
  }
  server = await startApiServer({ store, logs: new LogStore(), port: 0, bookmarkIntervalMs: 50 });
});

afterAll(async () => {
  await server?.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const init: RequestInit = { method, headers: { 'Content-Type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  return {
    status: res.status,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

/** Reads NDJSON watch events until `stop` says enough (or the server ends the stream). */
function watch(
  path: string,
  stop: (events: { type: string; object: Record<string, unknown> }[]) => boolean,
  accept = 'application/json',
): Promise<{ events: { type: string; object: Record<string, unknown> }[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(server.url + path, { headers: { Accept: accept } }, (res) => {
      const events: { type: string; object: Record<string, unknown> }[] = [];
      let buffer = '';
      let done = false;
      const finish = (ended: boolean) => {
        if (done) return;
        done = true;
        req.destroy();
        resolve({ events, ended });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) events.push(JSON.parse(line));
        if (stop(events)) finish(false);
      });
      res.on('end', () => finish(true));
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

const plan = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentPlan',
  metadata: { name, ...extra },
  spec: { steps: [{ name: 'a', agent: 'build' }] },
});

describe('discovery and OpenAPI', () => {
  it('serves legacy discovery with kinds, verbs, short names, categories and subresources', async () => {
    const api = await call('GET', '/api');
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = await call('GET', '/api/v1');
    const resources = core.json['resources'] as Record<string, unknown>[];
    expect(resources.find((r) => r['name'] === 'pods')).toMatchObject({
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      shortNames: ['po'],
      categories: ['all'],
    });
    expect(resources.find((r) => r['name'] === 'pods/log')).toEqual({
      name: 'pods/log',
      singularName: '',
      namespaced: true,
      kind: 'Pod',
      verbs: ['get'],
    });
    const groups = (await call('GET', '/apis')).json['groups'] as { name: string }[];
    expect(groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(['batch', 'coordination.k8s.io', 'apiextensions.k8s.io', 'fractale.dev']),
    );
    const fractale = await call('GET', '/apis/fractale.dev/v1alpha1');
    expect((fractale.json['resources'] as Record<string, unknown>[]).map((r) => r['name'])).toEqual([
      'agentplans',
      'agentplans/status',
      'agentsteps',
      'agentsteps/status',
    ]);
    expect((await call('GET', '/version')).json['gitVersion']).toMatch(/^v1\.34\./);
  });

  it('serves aggregated discovery only to clients that ask for it, with the exact Content-Type', async () => {
    const accept =
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const apis = await call('GET', '/apis', undefined, { Accept: accept });
    expect(apis.headers.get('content-type')).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const items = apis.json['items'] as {
      metadata: { name: string };
      versions: { resources: Record<string, unknown>[] }[];
    }[];
    const batch = items.find((i) => i.metadata.name === 'batch')!;
    expect(batch.versions[0]!.resources[0]).toEqual({
      resource: 'jobs',
      singularResource: 'job',
      scope: 'Namespaced',
      responseKind: { group: 'batch', version: 'v1', kind: 'Job' },
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: [],
      categories: ['all'],
      subresources: [
        {
          subresource: 'status',
          responseKind: { group: 'batch', version: 'v1', kind: 'Job' },
          verbs: ['get', 'patch', 'update'],
        },
      ],
    });
    const core = await call('GET', '/api', undefined, { Accept: accept });
    expect((core.json['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual([
      '',
    ]);
    const legacy = await call('GET', '/apis', undefined, { Accept: 'application/json, */*' });
    expect(legacy.json['kind']).toBe('APIGroupList');
  });

  it('publishes OpenAPI v3 documents whose PATCH operations enable server-side field validation', async () => {
    const rootDoc = await call('GET', '/openapi/v3');
    const paths = rootDoc.json['paths'] as Record<string, { serverRelativeURL: string }>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        'api/v1',
        'apis/batch/v1',
        'apis/apiextensions.k8s.io/v1',
        'apis/coordination.k8s.io/v1',
        'apis/fractale.dev/v1alpha1',
      ]),
    );
    const doc = await call('GET', paths['apis/fractale.dev/v1alpha1']!.serverRelativeURL);
    const item = (doc.json['paths'] as Record<string, Record<string, Record<string, unknown>>>)[
      '/apis/fractale.dev/v1alpha1/namespaces/{namespace}/agentplans/{name}'
    ]!;
    expect(item['patch']!['x-kubernetes-group-version-kind']).toEqual({
      group: 'fractale.dev',
      version: 'v1alpha1',
      kind: 'AgentPlan',
    });
    expect(item['patch']!['parameters']).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
    expect(Object.keys((item['patch']!['requestBody'] as { content: object }).content).sort()).toEqual([
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
    ]);
    const schema = (doc.json['components'] as { schemas: Record<string, Record<string, unknown>> }).schemas[
      'dev.fractale.v1alpha1.AgentPlan'
    ]!;
    expect(schema['x-kubernetes-group-version-kind']).toEqual([
      { group: 'fractale.dev', version: 'v1alpha1', kind: 'AgentPlan' },
    ]);
    expect((await call('GET', '/openapi/v2')).status).toBe(404);
  });
});

describe('errors', () => {
  it('answers with Status bodies worded as the real server', async () => {
    const missing = await call('GET', `${PLAN_PATH}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'agentplans.fractale.dev "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'fractale.dev', kind: 'agentplans' },
      code: 404,
    });
    expect((await call('POST', PLAN_PATH, plan('e1'))).status).toBe(201);
    const exists = await call('POST', PLAN_PATH, plan('e1'));
    expect(exists.status).toBe(409);
    expect(exists.json['reason']).toBe('AlreadyExists');
    expect(exists.json['message']).toBe('agentplans.fractale.dev "e1" already exists');
    const stale = await call('PUT', `${PLAN_PATH}/e1`, { ...plan('e1', { resourceVersion: '1' }) });
    expect(stale.json).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on agentplans.fractale.dev "e1": the object has been modified; please apply your changes to the latest version and try again',
    });
    const invalid = await call('POST', PLAN_PATH, { ...plan('e2'), spec: { steps: [] } });
    expect(invalid.status).toBe(422);
    expect(invalid.json['details']).toMatchObject({ name: 'e2', group: 'fractale.dev', kind: 'AgentPlan' });
    expect(invalid.json['message']).toBe(
      'AgentPlan.fractale.dev "e2" is invalid: spec.steps: Invalid value: 0: spec.steps in body should have at least 1 items',
    );
    const strict = await call('POST', `${PLAN_PATH}?fieldValidation=Strict`, {
      ...plan('e3'),
      spec: { steps: [{ name: 'a', agent: 'build' }], x: 1 },
    });
    expect(strict.json).toMatchObject({ code: 400, reason: 'BadRequest' });
    const warned = await call('POST', PLAN_PATH, {
      ...plan('e4'),
      spec: { steps: [{ name: 'a', agent: 'build' }], x: 1 },
    });
    expect(warned.status).toBe(201);
    expect(warned.headers.get('warning')).toBe('299 - "unknown field \\"spec.x\\""');
    const smp = await call(
      'PATCH',
      `${PLAN_PATH}/e1`,
      { spec: {} },
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
    expect(smp.json).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    const unknownPath = await call('GET', '/apis/nope.dev/v1/things');
    expect(unknownPath.json).toMatchObject({
      code: 404,
      message: 'the server could not find the requested resource',
    });
  });
});

describe('updates over HTTP', () => {
  it('creates a missing Lease on PUT, as its strategy allows, but not a missing ConfigMap', async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    };
    const created = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/default/leases/leader', lease);
    expect(created.status).toBe(201);
    const renewed = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/default/leases/leader', {
      ...lease,
      metadata: created.json['metadata'],
      spec: { ...lease.spec, holderIdentity: 'b' },
    });
    expect(renewed.status).toBe(200);
    expect((renewed.json['spec'] as { holderIdentity: string }).holderIdentity).toBe('b');
    const missing = await call('PUT', '/api/v1/namespaces/default/configmaps/none', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'none' },
    });
    expect(missing.json).toMatchObject({ code: 404, message: 'configmaps "none" not found' });
  });
});

describe('deletion over HTTP', () => {
  it('returns a Success Status when the object goes, and the object while finalizers hold it', async () => {
    const created = await call('POST', PLAN_PATH, plan('d1'));
    const gone = await call('DELETE', `${PLAN_PATH}/d1`, { propagationPolicy: 'Background' });
    expect(gone.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: 'd1',
        group: 'fractale.dev',
        kind: 'agentplans',
        uid: (created.json['metadata'] as { uid: string }).uid,
      },
    });
    await call('POST', PLAN_PATH, plan('d2', { finalizers: ['fractale.dev/hold'] }));
    const held = await call('DELETE', `${PLAN_PATH}/d2`, { propagationPolicy: 'Foreground' });
    expect(held.json['kind']).toBe('AgentPlan');
    expect(
      (held.json['metadata'] as { deletionTimestamp?: string; finalizers: string[] }).finalizers,
    ).toEqual(['fractale.dev/hold', 'foregroundDeletion']);
  });
});

describe('collections and dry runs', () => {
  it('deletes a collection by label selector, and stores nothing on dryRun=All', async () => {
    const cm = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels },
    });
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('dc1', { batch: 'one' }));
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('dc2', { batch: 'one' }));
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('dc3', { batch: 'two' }));
    const deleted = await call('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Done');
    expect(deleted.json['kind']).toBe('ConfigMapList');
    expect((deleted.json['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual([
      'dc1',
      'dc2',
    ]);
    expect(store.get('v1/configmaps', 'default', 'dc3')).toBeDefined();
    const dry = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry', {}));
    expect(dry.status).toBe(201);
    expect(store.get('v1/configmaps', 'default', 'dry')).toBeUndefined();
  });
});

describe('tables', () => {
  it('prints built-in columns with humanized ages', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 't1' },
      data: { a: '1', b: '2' },
    });
    const table = await call('GET', '/api/v1/namespaces/default/configmaps?limit=500', undefined, {
      Accept: TABLE_ACCEPT,
    });
    expect(table.json['kind']).toBe('Table');
    expect((table.json['columnDefinitions'] as { name: string }[]).map((c) => c.name)).toEqual([
      'Name',
      'Data',
      'Age',
    ]);
    const row = (
      table.json['rows'] as { cells: unknown[]; object: { kind: string; metadata: { name: string } } }[]
    ).find((r) => r.cells[0] === 't1')!;
    expect(row.cells.slice(0, 2)).toEqual(['t1', 2]);
    expect(row.cells[2]).toMatch(/^\d+s$/);
    expect(row.object).toMatchObject({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 't1' },
    });
    expect((table.json['metadata'] as { resourceVersion: string }).resourceVersion).toBe(
      store.resourceVersion(),
    );
    const namespaces = await call('GET', '/api/v1/namespaces', undefined, { Accept: TABLE_ACCEPT });
    expect(
      (namespaces.json['rows'] as { cells: unknown[] }[]).map((r) => r.cells.slice(0, 2)),
    ).toContainEqual(['default', 'Active']);
    await call('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/worker': '' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.34.0' } },
    });
    const nodes = await call('GET', '/api/v1/nodes', undefined, { Accept: TABLE_ACCEPT });
    expect((nodes.json['rows'] as { cells: unknown[] }[])[0]!.cells.slice(0, 3)).toEqual([
      'n1',
      'Ready',
      'worker',
    ]);
  });
});

describe('ages', () => {
  it('humanizes ages on the store clock', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clocked = new Store({ clock: () => new Date(now) });
    const clockedServer = await startApiServer({ store: clocked, logs: new LogStore(), port: 0 });
    try {
      clocked.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old' } });
      const ages: string[] = [];
      for (const seconds of [59, 5 * 60 + 7, 3 * 3600 + 5 * 60, 3 * 86400 + 4 * 3600]) {
        now = Date.parse('2026-01-01T00:00:00Z') + seconds * 1000;
        const res = await fetch(`${clockedServer.url}/api/v1/namespaces/default/configmaps/old`, {
          headers: { Accept: TABLE_ACCEPT },
        });
        const table = (await res.json()) as { rows: { cells: string[] }[] };
        ages.push(table.rows[0]!.cells[2]!);
      }
      expect(ages).toEqual(['59s', '5m7s', '3h5m', '3d4h']);
    } finally {
      await clockedServer.close();
    }
  });
});

describe('pod logs over HTTP', () => {
  it('serves sinceSeconds, timestamps, tailLines and limitBytes from the log clock', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const logs = new LogStore({ clock: () => new Date(now) });
    const logServer = await startApiServer({ store, logs, port: 0 });
    try {
      store.create('v1/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'logger' },
        spec: { containers: [{ name: 'main', image: 'busybox' }] },
      });
      logs.append('default', 'logger', 'main', 'old 1\nold 2\n');
      now += 2 * 3600 * 1000;
      logs.append('default', 'logger', 'main', 'new 1\nnew ');
      logs.append('default', 'logger', 'main', '2');
      const get = async (query: string) =>
        (
          await fetch(`${logServer.url}/api/v1/namespaces/default/pods/logger/log?container=main&${query}`)
        ).text();
      expect(await get('')).toBe('old 1\nold 2\nnew 1\nnew 2');
      expect(await get('sinceSeconds=3600')).toBe('new 1\nnew 2');
      expect(await get('tailLines=2&timestamps=true')).toBe(
        '2026-01-01T02:00:00.000000000Z new 1\n2026-01-01T02:00:00.000000000Z new 2',
      );
      expect(await get('limitBytes=8')).toBe('old 1\nol');
      const waiting = await fetch(
        `${logServer.url}/api/v1/namespaces/default/pods/logger/log?container=side`,
      );
      expect(await waiting.json()).toMatchObject({
        code: 400,
        message: 'container side is not valid for pod logger',
      });
    } finally {
      await logServer.close();
    }
  });
});

describe('watch over HTTP', () => {
  it('streams events from a resourceVersion, with bookmarks when allowed', async () => {
    const start = store.resourceVersion();
    const pending = watch(
      `${PLAN_PATH}?watch=true&resourceVersion=${start}&allowWatchBookmarks=true`,
      (events) => events.some((e) => e.type === 'BOOKMARK') && events.some((e) => e.type === 'MODIFIED'),
    );
    await call('POST', PLAN_PATH, plan('w1'));
    await call(
      'PATCH',
      `${PLAN_PATH}/w1`,
      { metadata: { labels: { a: 'b' } } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    const { events } = await pending;
    const changes = events.filter((e) => e.type !== 'BOOKMARK');
    expect(changes.map((e) => `${e.type} ${(e.object['metadata'] as { name: string }).name}`)).toEqual([
      'ADDED w1',
      'MODIFIED w1',
    ]);
    const bookmark = events.find((e) => e.type === 'BOOKMARK')!;
    expect(bookmark.object).toMatchObject({
      kind: 'AgentPlan',
      apiVersion: 'fractale.dev/v1alpha1',
      metadata: { resourceVersion: expect.any(String) },
    });
  });

  it('sends an ERROR event with code 410 for an expired resourceVersion, then closes', async () => {
    const small = new Store({ watchWindow: 2 });
    const smallServer = await startApiServer({ store: small, logs: new LogStore(), port: 0 });
    try {
      for (let i = 0; i < 10; i++)
        small.create('v1/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } });
      const res = await new Promise<string>((resolve) => {
        request(
          `${smallServer.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2`,
          (r) => {
            let text = '';
            r.on('data', (d: Buffer) => {
              text += d.toString();
            });
            r.on('end', () => resolve(`${r.statusCode} ${text}`));
          },
        ).end();
      });
      expect(res).toMatch(
        /^200 \{"type":"ERROR","object":\{"kind":"Status","apiVersion":"v1","metadata":\{\},"status":"Failure","message":"too old resource version: 2 \(\d+\)","reason":"Expired","code":410\}\}\n$/,
      );
    } finally {
      await smallServer.close();
    }
  });

  it('ends a watch after timeoutSeconds, and sends one-row Tables to Table watchers', async () => {
    const timed = await watch(`${PLAN_PATH}?watch=true&timeoutSeconds=1`, () => false);
    expect(timed.ended).toBe(true);
    const rv = store.resourceVersion();
    const pending = watch(
      `${PLAN_PATH}?watch=true&resourceVersion=${rv}`,
      (events) => events.length >= 2,
      TABLE_ACCEPT,
    );
    await call('POST', PLAN_PATH, plan('tw1'));
    await call('POST', PLAN_PATH, plan('tw2'));
    const { events } = await pending;
    const tables = events.map(
      (e) => e.object as { kind: string; columnDefinitions: unknown[]; rows: { cells: unknown[] }[] },
    );
    expect(tables.map((t) => [t.kind, t.rows.length, t.rows[0]!.cells[0]])).toEqual([
      ['Table', 1, 'tw1'],
      ['Table', 1, 'tw2'],
    ]);
    expect(tables[0]!.columnDefinitions.length).toBeGreaterThan(0);
    expect(tables[1]!.columnDefinitions).toEqual([]);
  });
});
