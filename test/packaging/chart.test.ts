// The Helm chart, rendered by the real helm v4: lint, Kubernetes schemas, the values schema, RBAC
// held to an explicit allow-set, and the settings the operator reads from its environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runHelm } from '../../scripts/render-config.ts';
import {
  chartDir,
  find,
  type Grant,
  gkeValues,
  grantKey,
  grantsOf,
  kindValues,
  type Manifest,
  only,
  operatorEnv,
  parseManifests,
  render,
  validateManifest,
} from './manifests.ts';

const NS = 'fractale-system';
const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

// What the operator may do in a namespace it watches. This list is the contract: the chart must
// render exactly these grants, no more (least privilege) and no fewer (the operator would fail).
const WATCHED_NAMESPACE_GRANTS: [group: string, resources: string[], verbs: string[]][] = [
  ['fractale.dev', ['agentexperiments', 'agentplans', 'agentsteps'], ALL],
  [
    'fractale.dev',
    ['agentexperiments/status', 'agentplans/status', 'agentsteps/status'],
    ['get', 'update', 'patch'],
  ],
  [
    'fractale.dev',
    ['agentexperiments/finalizers', 'agentplans/finalizers', 'agentsteps/finalizers'],
    ['update'],
  ],
  ['batch', ['jobs'], ['get', 'list', 'watch', 'create', 'delete']],
  ['', ['pods'], ['get', 'list', 'watch', 'delete']],
  ['', ['pods/log'], ['get']],
  ['', ['events'], ['get', 'list', 'watch', 'create', 'patch']],
  ['', ['configmaps'], ALL],
  ['flux-framework.org', ['miniclusters'], ['get', 'list', 'watch', 'create', 'delete']],
];

function grants(scope: string, group: string, resources: string[], verbs: string[], names = '*'): Grant[] {
  return resources.flatMap((resource) => verbs.map((verb) => ({ scope, group, resource, verb, names })));
}

type Expect = {
  watch?: string[];
  apiKeySecret?: string | null;
  leases?: boolean;
  extraSecrets?: string[];
};

/** The allowed grants for a configuration, built from the list above, never from the chart. */
function allowSet({
  watch = [],
  apiKeySecret = 'fractale-api-key',
  leases = true,
  extraSecrets = [],
}: Expect) {
  const scopes = watch.length ? watch : ['cluster'];
  const out: Grant[] = [];
  for (const scope of scopes) {
    for (const [group, resources, verbs] of WATCHED_NAMESPACE_GRANTS)
      out.push(...grants(scope, group, resources, verbs));
    if (extraSecrets.length)
      out.push(...grants(scope, '', ['secrets'], ['get'], [...extraSecrets].sort().join(',')));
  }
  out.push(
    ...grants(
      'cluster',
      'apiextensions.k8s.io',
      ['customresourcedefinitions'],
      ['get'],
      'miniclusters.flux-framework.org',
    ),
  );
  if (!watch.length) out.push(...grants('cluster', '', ['nodes'], ['list']));
  if (leases) {
    out.push(...grants(NS, 'coordination.k8s.io', ['leases'], ['create']));
    out.push(...grants(NS, 'coordination.k8s.io', ['leases'], ['get', 'update'], 'fractale-operator'));
  }
  if (apiKeySecret) out.push(...grants(NS, '', ['secrets'], ['get'], apiKeySecret));
  return out.map(grantKey).sort();
}

const rbacKeys = (objects: Manifest[]) => grantsOf(objects).map(grantKey).sort();

const CONFIGURATIONS: { name: string; values?: string[]; set?: string[]; expect: Expect }[] = [
  { name: 'default values', expect: {} },
  { name: 'values-kind.yaml', values: [kindValues], expect: {} },
  { name: 'values-gke.yaml', values: [gkeValues], expect: {} },
  {
    name: 'namespaced mode',
    set: ['watchNamespaces={team-a,team-b}'],
    expect: { watch: ['team-a', 'team-b'] },
  },
  {
    name: 'namespaced mode with plan Secrets and an existing API key Secret',
    set: [
      'watchNamespaces={team-a}',
      'rbac.extraSecretNames={openai-key,gemini-key}',
      'model.apiKey.existingSecret=my-model-key',
    ],
    expect: { watch: ['team-a'], extraSecrets: ['openai-key', 'gemini-key'], apiKeySecret: 'my-model-key' },
  },
  {
    name: 'scripted model without leader election',
    set: ['model.provider=scripted', 'model.script=/script/answers.yaml', 'leaderElection.enabled=false'],
    expect: { apiKeySecret: null, leases: false },
  },
];

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['values-kind.yaml', ['--values', kindValues]],
    ['values-gke.yaml', ['--values', gkeValues]],
  ])('passes with %s', (_name, args) => {
    const out = runHelm(['lint', '--strict', chartDir, ...args]);
    expect(out).toContain('0 chart(s) failed');
  });
});

describe.each(CONFIGURATIONS)('helm template with $name', ({ values, set, expect: want }) => {
  const objects = render({ values, set });

  it('renders objects that fit the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThan(4);
    for (const object of objects) validateManifest(object);
  });

  it('grants exactly the allow-set, Secrets by name only', () => {
    expect(rbacKeys(objects)).toEqual(allowSet(want));
    for (const grant of grantsOf(objects)) {
      expect(grant.verb).not.toBe('*');
      expect(grant.resource).not.toBe('*');
      if (grant.resource === 'secrets') expect(grant.names).not.toBe('*');
    }
  });

  it('binds every role to the operator service account and nothing else', () => {
    const account = only(objects, 'ServiceAccount').metadata.name;
    const bindings = [...find(objects, 'RoleBinding'), ...find(objects, 'ClusterRoleBinding')];
    const roles = [...find(objects, 'Role'), ...find(objects, 'ClusterRole')];
    expect(bindings).toHaveLength(roles.length);
    for (const binding of bindings) {
      const ref = binding['roleRef'] as { kind: string; name: string };
      const role = roles.find(
        (r) =>
          r.kind === ref.kind &&
          r.metadata.name === ref.name &&
          (r.kind === 'ClusterRole' || r.metadata.namespace === binding.metadata.namespace),
      );
      expect(role, `${binding.kind}/${binding.metadata.name} refers to a rendered role`).toBeDefined();
      expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: account, namespace: NS }]);
    }
  });

  it('runs the operator hardened: non-root, no escalation, read-only root, seccomp, /tmp emptyDir', () => {
    const pod = (only(objects, 'Deployment')['spec'] as { template: { spec: PodSpec } }).template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const container = pod.containers.find((c) => c.name === 'operator')!;
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes.find((v) => v.name === 'tmp')).toHaveProperty('emptyDir');
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.resources?.requests).toBeDefined();
    expect(pod.serviceAccountName).toBe(only(objects, 'ServiceAccount').metadata.name);
  });
});

type PodSpec = {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  volumes: { name: string; emptyDir?: unknown }[];
  containers: {
    name: string;
    image: string;
    imagePullPolicy?: string;
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string }[];
    livenessProbe?: { httpGet: unknown };
    readinessProbe?: { httpGet: unknown };
    resources?: { requests?: unknown };
    ports: { name: string; containerPort: number }[];
  }[];
  affinity?: unknown;
};

describe('the operator configuration the chart passes', () => {
  it('sets every setting from default values, the lease namespace from the downward API', () => {
    const env = operatorEnv(render());
    expect(env).toEqual({
      POD_NAME: 'from:metadata.name',
      POD_NAMESPACE: 'from:metadata.namespace',
      // FRACTALE_NAMESPACES is absent (all namespaces): an empty value would be dropped by the API server.
      FRACTALE_CONCURRENCY: '16',
      FRACTALE_LOG_LEVEL: 'info',
      FRACTALE_PROVIDER: 'gemini',
      FRACTALE_MODEL: 'gemini-2.5-pro',
      FRACTALE_MODEL_CONCURRENCY: '16',
      FRACTALE_MODEL_TOKENS_PER_MINUTE: '0',
      FRACTALE_API_KEY_SECRET: 'fractale-api-key:api-key',
      FRACTALE_KANIKO_IMAGE: 'cgr.dev/chainguard/kaniko:latest',
      FRACTALE_INSECURE_REGISTRY: 'false',
      FRACTALE_DEFAULT_MAX_ATTEMPTS: '10',
      FRACTALE_DEFAULT_MAX_RUNTIME: '600',
      FRACTALE_LOG_BUDGET: '4000',
      FRACTALE_RUN_SERVICE_ACCOUNT: 'default',
      FRACTALE_MAX_CPU_REQUEST: '64',
      FRACTALE_MAX_MEMORY_REQUEST: '256Gi',
      FRACTALE_RUN_AS_NON_ROOT: 'false',
      FRACTALE_METRICS_PORT: '8080',
      FRACTALE_HEALTH_PORT: '8081',
      FRACTALE_LEADER_ELECT: 'true',
      FRACTALE_LEASE_NAMESPACE: 'from:metadata.namespace',
      FRACTALE_LEASE_NAME: 'fractale-operator',
    });
  });

  it('passes the kind registry, plain HTTP, and the local image', () => {
    const objects = render({ values: [kindValues] });
    const env = operatorEnv(objects);
    expect(env['FRACTALE_REGISTRY']).toBe('kind-registry:5000');
    expect(env['FRACTALE_INSECURE_REGISTRY']).toBe('true');
    const pod = (only(objects, 'Deployment')['spec'] as { template: { spec: PodSpec } }).template.spec;
    expect(pod.containers[0]!.image).toBe('localhost:5001/fractale:0.1.0');
  });

  it('puts the Workload Identity annotation on the service account and pushes to Artifact Registry on GKE', () => {
    const objects = render({ values: [gkeValues] });
    expect(only(objects, 'ServiceAccount').metadata['annotations']).toEqual({
      'iam.gke.io/gcp-service-account': 'fractale-operator@PROJECT_ID.iam.gserviceaccount.com',
    });
    const env = operatorEnv(objects);
    expect(env['FRACTALE_REGISTRY']).toBe('REGION-docker.pkg.dev/PROJECT_ID/fractale');
    expect(env['FRACTALE_RUN_SERVICE_ACCOUNT']).toBe('fractale-build');
    expect((only(objects, 'Deployment')['spec'] as { replicas: number }).replicas).toBe(2);
    const budget = only(objects, 'PodDisruptionBudget');
    expect(budget['spec']).toEqual({
      minAvailable: 1,
      selector: { matchLabels: (only(objects, 'Service')['spec'] as { selector: unknown }).selector },
    });
  });

  it('joins watched namespaces and maps the other values to their variables', () => {
    const env = operatorEnv(
      render({
        set: [
          'watchNamespaces={a,b}',
          'concurrency=7',
          'logLevel=debug',
          'model.provider=openai',
          'model.name=gpt-5',
          'model.baseUrl=http://llm.example:8000/v1',
          'model.concurrency=4',
          'model.tokensPerMinute=500000',
          'build.kanikoImage=example.org/kaniko:1',
          'build.pushSecret=push-creds',
          'run.defaultMaxAttempts=3',
          'run.defaultMaxRuntime=120',
          'run.logBudget=1500',
          'run.serviceAccount=runner',
          'metrics.port=9090',
          'health.port=9091',
        ],
      }),
    );
    expect(env).toMatchObject({
      FRACTALE_NAMESPACES: 'a,b',
      FRACTALE_CONCURRENCY: '7',
      FRACTALE_LOG_LEVEL: 'debug',
      FRACTALE_PROVIDER: 'openai',
      FRACTALE_MODEL: 'gpt-5',
      OPENAI_BASE_URL: 'http://llm.example:8000/v1',
      FRACTALE_MODEL_CONCURRENCY: '4',
      FRACTALE_MODEL_TOKENS_PER_MINUTE: '500000',
      FRACTALE_KANIKO_IMAGE: 'example.org/kaniko:1',
      FRACTALE_PUSH_SECRET: 'push-creds',
      FRACTALE_DEFAULT_MAX_ATTEMPTS: '3',
      FRACTALE_DEFAULT_MAX_RUNTIME: '120',
      FRACTALE_LOG_BUDGET: '1500',
      FRACTALE_RUN_SERVICE_ACCOUNT: 'runner',
      FRACTALE_METRICS_PORT: '9090',
      FRACTALE_HEALTH_PORT: '9091',
    });
    expect(env).not.toHaveProperty('GEMINI_BASE_URL');
  });

  it('creates the API key Secret from a value, for quick starts', () => {
    const objects = render({ set: ['model.apiKey.value=sk-test'] });
    const secret = only(objects, 'Secret');
    expect(secret.metadata.name).toBe('fractale-api-key');
    expect(secret['data']).toEqual({ 'api-key': Buffer.from('sk-test').toString('base64') });
    expect(operatorEnv(objects)['FRACTALE_API_KEY_SECRET']).toBe('fractale-api-key:api-key');
    expect(find(render(), 'Secret')).toHaveLength(0);
  });

  it('leaves out the API key for the scripted model', () => {
    const env = operatorEnv(render({ set: ['model.provider=scripted', 'model.script=/s/answers.yaml'] }));
    expect(env['FRACTALE_SCRIPT']).toBe('/s/answers.yaml');
    expect(env).not.toHaveProperty('FRACTALE_API_KEY_SECRET');
  });

  it('exposes metrics through a Service, and a ServiceMonitor on request', () => {
    const objects = render({ set: ['metrics.serviceMonitor.enabled=true'] });
    const service = only(objects, 'Service');
    expect(service['spec']).toMatchObject({
      ports: [{ name: 'metrics', port: 8080, targetPort: 'metrics' }],
    });
    const monitor = only(objects, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor['spec']).toMatchObject({
      selector: { matchLabels: (service['spec'] as { selector: unknown }).selector },
      endpoints: [{ port: 'metrics', path: '/metrics' }],
    });
    expect(find(render(), 'ServiceMonitor')).toHaveLength(0);
  });

  it('includes the generated CRDs with --include-crds, valid as CustomResourceDefinitions', () => {
    const crds = find(
      parseManifests(runHelm(['template', 'fractale', chartDir, '--include-crds'])),
      'CustomResourceDefinition',
    );
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'agentexperiments.fractale.dev',
      'agentplans.fractale.dev',
      'agentsteps.fractale.dev',
    ]);
    for (const crd of crds) validateManifest(crd);
  });
});

describe('values the chart refuses', () => {
  it.each([
    [
      'a misspelt top-level key',
      ['modle.name=gemini-2.5-flash'],
      "additional properties 'modle' not allowed",
    ],
    [
      'a misspelt nested key',
      ['build.registy=kind-registry:5000'],
      "additional properties 'registy' not allowed",
    ],
    ['an unknown provider', ['model.provider=claude'], "at '/model/provider'"],
    ['a namespace that is not a DNS label', ['watchNamespaces={Team_A}'], 'watchNamespaces'],
    ['a text concurrency', ['concurrency=many'], 'concurrency'],
    ['no model calls at once', ['model.concurrency=0'], "at '/model/concurrency'"],
    ['a negative token budget', ['model.tokensPerMinute=-5'], "at '/model/tokensPerMinute'"],
  ])('%s', (_name, set, message) => {
    expect(() => render({ set })).toThrow(message);
  });

  it.each([
    [
      'two replicas without leader election',
      ['replicaCount=2', 'leaderElection.enabled=false'],
      'leaderElection',
    ],
    [
      'both an existing Secret and a key value',
      ['model.apiKey.existingSecret=a', 'model.apiKey.value=b'],
      'not both',
    ],
    ['the scripted model with no script', ['model.provider=scripted'], 'model.script'],
    ['the same port for metrics and health', ['health.port=8080'], 'must differ'],
  ])('%s', (_name, set, message) => {
    expect(() => render({ set })).toThrow(message);
  });
});

describe('chart documentation', () => {
  const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');

  /** Dotted paths of values.yaml; maps with free keys (annotations, resources, ...) count as one value. */
  function valuePaths(value: unknown, prefix = ''): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
    const entries = Object.entries(value as Record<string, unknown>);
    const free = ['resources', 'podSecurityContext', 'securityContext', 'affinity'];
    if (entries.length === 0 || free.includes(prefix)) return [prefix];
    return entries.flatMap(([key, inner]) => valuePaths(inner, prefix ? `${prefix}.${key}` : key));
  }

  it('lists every value of values.yaml in README.md', () => {
    const paths = valuePaths(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')));
    expect(paths.length).toBeGreaterThan(40);
    const missing = paths.filter(
      (path) => !new RegExp(`^\\| +\`${path.replace(/\./g, '\\.')}\` +\\|`, 'm').test(readme),
    );
    expect(missing).toEqual([]);
  });

  it('declares every value of values.yaml in values.schema.json', () => {
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
    const paths = valuePaths(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')));
    for (const path of paths) {
      let node = schema;
      for (const key of path.split('.')) {
        node = node?.properties?.[key];
        if (node?.$ref) node = schema.definitions[node.$ref.split('/').pop()];
      }
      expect(node, path).toBeDefined();
    }
  });

  it('tells in NOTES.txt how to create the API key Secret, apply a plan and watch the steps', () => {
    const notes = runHelm(['install', 'fractale', chartDir, '--dry-run=client', '--namespace', NS]);
    expect(notes).toContain(`kubectl -n ${NS} create secret generic fractale-api-key`);
    expect(notes).toContain('kubectl apply -f plans/run-lammps.yaml');
    expect(notes).toContain('kubectl get agentsteps -w');
    expect(notes).toContain('set build.registry');
    const kind = runHelm(['install', 'fractale', chartDir, '--dry-run=client', '-n', NS, '-f', kindValues]);
    expect(kind).not.toContain('set build.registry');
  });
});
