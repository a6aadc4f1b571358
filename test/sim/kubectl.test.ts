import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { toolsDir } from '../../scripts/fetch-tools.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type ApiServer, startApiServer } from '../../src/sim/server/index.ts';
import { Store } from '../../src/sim/store.ts';

const root = join(import.meta.dirname, '../..');
const kubectlBin = join(toolsDir, 'kubectl');
const PLANS = 'fractale.dev/v1alpha1/agentplans';

let store: Store;
let logs: LogStore;
let server: ApiServer;
let dir: string;
let kubeconfig: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; output: () => Result; exited: Promise<Result> } {
  const child = spawn(
    kubectlBin,
    [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'cache')}`, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<Result>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, output: () => ({ code: child.exitCode, stdout, stderr }), exited };
}

/** Runs kubectl to completion (asynchronously: the API server shares this process). */
function kubectl(...args: string[]): Promise<Result> {
  return start(args).exited;
}

/** Resolves when `check` passes on the output of a running kubectl. */
async function outputMatches(run: ReturnType<typeof start>, pattern: RegExp): Promise<string> {
  for (;;) {
    const out = run.output().stdout;
    if (pattern.test(out)) return out;
    if (run.child.exitCode !== null) throw new Error(`kubectl exited: ${JSON.stringify(run.output())}`);
    await new Promise<void>((resolve) => run.child.stdout!.once('data', () => resolve()));
  }
}

function writeFixture(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function manifestFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) files.push(...manifestFiles(path));
    else if (/\.ya?ml$/.test(entry)) {
      // Seed-format plans (no apiVersion/kind) are converted by the CLI, not applied.
      const docs = parseAllDocuments(readFileSync(path, 'utf8')).map(
        (d) => d.toJS() as Record<string, unknown> | null,
      );
      if (docs.some((d) => d && typeof d['apiVersion'] === 'string' && typeof d['kind'] === 'string'))
        files.push(path);
    }
  }
  return files;
}

const fixturePlan = `apiVersion: fractale.dev/v1alpha1
kind: AgentPlan
metadata:
  name: fixture
spec:
  description: Build an image, then run it.
  steps:
    - name: build
      agent: build
      context:
        application: lammps
    - name: run
      agent: kubernetes-job
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-kubectl-'));
  store = new Store();
  logs = new LogStore();
  server = await startApiServer({ store, logs, port: 0 });
  kubeconfig = writeFixture(
    'kubeconfig',
    `apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster:
    server: ${server.url}
    insecure-skip-tls-verify: true
users:
- name: sim
  user:
    token: dummy
contexts:
- name: sim
  context: {cluster: sim, user: sim, namespace: default}
current-context: sim
`,
  );
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against the simulated API server', () => {
  it('applies the CRDs, the plans and the MiniCluster CRD', async () => {
    for (const file of readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'))) {
      const r = await kubectl('apply', '-f', join(root, 'crds', file));
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/customresourcedefinition\.apiextensions\.k8s\.io\/\S+ created/);
    }
    const mc = await kubectl('apply', '-f', '/work/shared/reference/flux-operator-minicluster-crd.yaml');
    expect(mc.stdout).toBe(
      'customresourcedefinition.apiextensions.k8s.io/miniclusters.flux-framework.org created\n',
    );
    for (const file of [...manifestFiles(join(root, 'plans')), writeFixture('fixture.yaml', fixturePlan)]) {
      const r = await kubectl('apply', '-f', file);
      expect({ file, ...r }).toMatchObject({ code: 0, stderr: '' });
    }
    const miniCluster = writeFixture(
      'minicluster.yaml',
      `apiVersion: flux-framework.org/v1alpha2
kind: MiniCluster
metadata:
  name: lammps
spec:
  size: 2
  containers:
    - image: ghcr.io/converged-computing/metric-lammps:latest
      command: lmp -in in.reaxff.hns
`,
    );
    expect((await kubectl('apply', '-f', miniCluster)).stdout).toBe(
      'minicluster.flux-framework.org/lammps created\n',
    );
    expect((await kubectl('get', 'miniclusters')).stdout).toMatch(/^NAME\s+AGE\nlammps\s+\d+s\n$/);
    const again = await kubectl('apply', '-f', join(dir, 'fixture.yaml'));
    expect(again.stdout).toBe('agentplan.fractale.dev/fixture unchanged\n');
    expect(store.get(PLANS, 'default', 'fixture')?.['spec']).toMatchObject({
      maxAttempts: 10,
      goal: expect.any(String),
    });
    const resources = await kubectl('api-resources', '--api-group=fractale.dev');
    expect(resources.stdout).toMatch(/agentplans\s+ap,plan\s+fractale\.dev\/v1alpha1\s+true\s+AgentPlan/);
  });

  it('refuses invalid plans with the real server wording', async () => {
    const bad = writeFixture(
      'bad.yaml',
      fixturePlan.replace('name: fixture', 'name: bad').replace('agent: build', 'agent: nope'),
    );
    const r = await kubectl('apply', '-f', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The AgentPlan "bad" is invalid: \n');
    expect(r.stderr).toContain(
      '* spec.steps[0].agent: Unsupported value: "nope": supported values: "build", "kubernetes-job", "minicluster", "cost", "flux-batch", "optimize"',
    );
    const dup = writeFixture(
      'dup.yaml',
      fixturePlan.replace('name: fixture', 'name: dup').replace('name: run', 'name: build'),
    );
    const d = await kubectl('create', '-f', dup);
    expect(d.stderr).toBe(
      'The AgentPlan "dup" is invalid: spec.steps: Invalid value: "object": step names must be unique within a plan\n',
    );
    const unknown = writeFixture(
      'unknown.yaml',
      fixturePlan.replace('name: fixture', 'name: unknown').replace('  steps:', '  colour: red\n  steps:'),
    );
    const u = await kubectl('apply', '-f', unknown);
    expect(u.stderr).toContain('strict decoding error: unknown field "spec.colour"');
    expect(store.get(PLANS, 'default', 'unknown')).toBeUndefined();
  });

  it('refuses a step context with maxAttempts out of range, in either spelling', async () => {
    for (const [name, key] of [
      ['negative', 'maxAttempts'],
      ['seed-spelling', 'max_attempts'],
    ] as const) {
      const bad = writeFixture(
        `${name}.yaml`,
        fixturePlan
          .replace('name: fixture', `name: ${name}`)
          .replace('application: lammps', `application: lammps\n        ${key}: -3`),
      );
      const r = await kubectl('apply', '-f', bad);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `spec.steps[0].context.${key}: Invalid value: -3: spec.steps[0].context.${key} in body should be greater than or equal to 1`,
      );
      expect(store.get(PLANS, 'default', name)).toBeUndefined();
    }
  });

  it('prints tables with the CRD printer columns, and -o wide adds priority columns', async () => {
    const plan = store.get(PLANS, 'default', 'fixture')!;
    store.updateStatus(PLANS, {
      ...plan,
      status: { phase: 'Running', currentStep: 'build', attempts: 1, message: 'building' },
    });
    const r = await kubectl('get', 'agentplans');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+PHASE\s+STEP\s+RECOVERIES\s+AGE$/);
    expect(lines.find((l) => l.startsWith('fixture '))).toMatch(/^fixture\s+Running\s+build\s+1\s+\d+s$/);
    const wide = await kubectl('get', 'ap', 'fixture', '-o', 'wide');
    expect(wide.stdout).toMatch(/MESSAGE\n.*building\n$/);
    const yaml = await kubectl('get', 'plan', 'fixture', '-o', 'jsonpath={.status.phase}');
    expect(yaml.stdout).toBe('Running');
  });

  it('shows a change with get -w', async () => {
    // The list form watches from the list's resourceVersion, so no change between the list and the
    // watch is lost (`get ap <name> -w` watches from "0" and drops the first event, by design).
    const watch = start(['get', 'ap', '-w']);
    await outputMatches(watch, /fixture\s+Running/);
    const plan = store.get(PLANS, 'default', 'fixture')!;
    store.updateStatus(PLANS, { ...plan, status: { ...(plan['status'] as object), phase: 'Succeeded' } });
    await outputMatches(watch, /fixture\s+Succeeded/);
    watch.child.kill();
    await watch.exited;
  });

  it('describes an object with its events', async () => {
    const plan = store.get(PLANS, 'default', 'fixture')!;
    store.create('v1/events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'fixture.1' },
      involvedObject: {
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentPlan',
        name: 'fixture',
        namespace: 'default',
        uid: plan.metadata.uid!,
      },
      reason: 'StepStarted',
      message: 'step build started',
      type: 'Normal',
      source: { component: 'fractale' },
      firstTimestamp: store.now(),
      lastTimestamp: store.now(),
      count: 1,
    });
    const r = await kubectl('describe', 'agentplan', 'fixture');
    expect(r.stdout).toMatch(/^Name:\s+fixture$/m);
    expect(r.stdout).toMatch(/Normal\s+StepStarted\s+\d+s\s+fractale\s+step build started/);
    const events = await kubectl('get', 'events');
    expect(events.stdout).toMatch(/Normal\s+StepStarted\s+agentplan\/fixture\s+step build started/);
  });

  it('reads and follows pod logs, and says when a container is still waiting', async () => {
    store.create('v1/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'runner' },
      spec: { containers: [{ name: 'main', image: 'busybox' }] },
    });
    const waiting = await kubectl('logs', 'runner');
    expect(waiting.stderr).toBe(
      'Error from server (BadRequest): container "main" in pod "runner" is waiting to start: ContainerCreating\n',
    );
    const pod = store.get('v1/pods', 'default', 'runner')!;
    store.updateStatus('v1/pods', {
      ...pod,
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'main', ready: true, restartCount: 0, state: { running: { startedAt: store.now() } } },
        ],
      },
    });
    logs.append('default', 'runner', 'main', 'line 1\nline 2\nline 3\n');
    expect((await kubectl('logs', 'runner')).stdout).toBe('line 1\nline 2\nline 3\n');
    expect((await kubectl('logs', 'runner', '--tail=1')).stdout).toBe('line 3\n');
    expect((await kubectl('logs', 'runner', '--limit-bytes=4')).stdout).toBe('line');
    expect((await kubectl('logs', 'runner', '--tail=1', '--timestamps')).stdout).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/,
    );
    expect((await kubectl('logs', 'runner', '--since=1h')).stdout).toBe('line 1\nline 2\nline 3\n');
    const follow = start(['logs', '-f', 'runner']);
    await outputMatches(follow, /line 3\n$/);
    logs.append('default', 'runner', 'main', 'line 4\n');
    await outputMatches(follow, /line 4\n$/);
    logs.end('default', 'runner', 'main');
    const done = await follow.exited;
    expect(done).toMatchObject({ code: 0, stdout: 'line 1\nline 2\nline 3\nline 4\n' });
    const pods = await kubectl('get', 'pods');
    expect(pods.stdout).toMatch(
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nrunner\s+1\/1\s+Running\s+0\s+\d+s\n$/,
    );
  });

  it('creates a Job from the protobuf body of kubectl create job', async () => {
    const r = await kubectl('create', 'job', 'x', '--image=busybox');
    expect(r).toMatchObject({ code: 0, stdout: 'job.batch/x created\n' });
    const job = store.get('batch/v1/jobs', 'default', 'x')!;
    expect(job['spec']).toMatchObject({
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'busybox' }] } },
    });
    const jobs = await kubectl('get', 'jobs');
    expect(jobs.stdout).toMatch(
      /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nx\s+Running\s+0\/1\s+\d+s\n$/,
    );
    const uid = job.metadata.uid!;
    store.create('v1/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'x-abcde',
        labels: {
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': 'x',
          'job-name': 'x',
        },
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: { containers: [{ name: 'x', image: 'busybox' }], restartPolicy: 'Never' },
    });
    const pod = store.get('v1/pods', 'default', 'x-abcde')!;
    store.updateStatus('v1/pods', {
      ...pod,
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'x',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
      },
    });
    logs.append('default', 'x-abcde', 'x', 'hello from the job\n');
    expect((await kubectl('logs', 'job/x')).stdout).toBe('hello from the job\n');
    // Following a terminated container returns what it wrote, then ends.
    expect((await kubectl('logs', '-f', 'job/x')).stdout).toBe('hello from the job\n');
    const described = await kubectl('describe', 'job', 'x');
    expect(described.stdout).toMatch(/^Name:\s+x$/m);
    // The Job's status is the Job controller's to write; no controller runs here.
    expect(described.stdout).toMatch(/^Pods Statuses:\s+0 Active \/ 0 Succeeded \/ 0 Failed$/m);
    const describedPod = await kubectl('describe', 'pod', 'x-abcde');
    expect(describedPod.stdout).toMatch(/^Controlled By:\s+Job\/x$/m);
    const all = await kubectl('get', 'all');
    expect(all.stdout).toContain('pod/runner');
    expect(all.stdout).toContain('job.batch/x');
  });

  it('labels, patches and refuses strategic merge on a custom resource', async () => {
    expect((await kubectl('label', 'ap', 'fixture', 'team=hpc')).stdout).toBe(
      'agentplan.fractale.dev/fixture labeled\n',
    );
    expect(store.get(PLANS, 'default', 'fixture')?.metadata.labels).toEqual({ team: 'hpc' });
    const selected = await kubectl('get', 'ap', '-l', 'team in (hpc)', '-o', 'name');
    expect(selected.stdout).toBe('agentplan.fractale.dev/fixture\n');
    const before = store.get(PLANS, 'default', 'fixture')!.metadata.generation!;
    const patched = await kubectl(
      'patch',
      'ap',
      'fixture',
      '--type',
      'merge',
      '-p',
      '{"spec":{"maxAttempts":3}}',
    );
    expect(patched.stdout).toBe('agentplan.fractale.dev/fixture patched\n');
    const after = store.get(PLANS, 'default', 'fixture')!;
    expect((after['spec'] as { maxAttempts: number }).maxAttempts).toBe(3);
    expect(after.metadata.generation).toBe(before + 1);
    const strategic = await kubectl('patch', 'ap', 'fixture', '-p', '{"spec":{"maxAttempts":4}}');
    // kubectl words a 415 itself, quoting the server's message.
    expect(strategic.stderr).toBe(
      'error: application/strategic-merge-patch+json is not supported by fractale.dev/v1alpha1, Kind=AgentPlan: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml\n',
    );
  });

  it('explains the AgentPlan spec from the OpenAPI v3 document', async () => {
    const r = await kubectl('explain', 'agentplan.spec');
    expect(r.stdout).toMatch(/^GROUP:\s+fractale\.dev\nKIND:\s+AgentPlan\nVERSION:\s+v1alpha1\n/);
    expect(r.stdout).toMatch(/FIELD: spec <Object>/);
    expect(r.stdout).toMatch(/steps\t<\[\]Object>/);
    const job = await kubectl('explain', 'job.spec.backoffLimit');
    expect(job.stdout).toMatch(
      /^GROUP:\s+batch\nKIND:\s+Job\nVERSION:\s+v1\n\nFIELD: backoffLimit <integer>/,
    );
    const missing = await kubectl('explain', 'agentplan.spec.nope');
    expect(missing.stderr).toBe('error: field "nope" does not exist\n');
  });

  it('creates ConfigMaps and Namespaces from protobuf, and applies built-ins with strategic merge', async () => {
    expect((await kubectl('create', 'configmap', 'settings', '--from-literal=a=1')).stdout).toBe(
      'configmap/settings created\n',
    );
    expect(store.get('v1/configmaps', 'default', 'settings')?.['data']).toEqual({ a: '1' });
    expect((await kubectl('create', 'namespace', 'team')).stdout).toBe('namespace/team created\n');
    expect(
      (await kubectl('create', 'secret', 'generic', 'key', '--from-literal=api-key=s3cret')).stdout,
    ).toBe('secret/key created\n');
    expect(store.get('v1/secrets', 'default', 'key')).toMatchObject({
      type: 'Opaque',
      data: { 'api-key': Buffer.from('s3cret').toString('base64') },
    });
    expect((await kubectl('create', 'serviceaccount', 'runner')).stdout).toBe(
      'serviceaccount/runner created\n',
    );
    const job = (image: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: applied
  namespace: team
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: ${image}
          env:
            - name: A
              value: "1"
        - name: side
          image: busybox
`;
    expect((await kubectl('apply', '-f', writeFixture('job.yaml', job('busybox:1')))).stdout).toBe(
      'job.batch/applied created\n',
    );
    const r = await kubectl('apply', '-f', writeFixture('job.yaml', job('busybox:2')));
    expect(r).toMatchObject({ stdout: 'job.batch/applied configured\n', stderr: '' });
    const containers = (
      store.get('batch/v1/jobs', 'team', 'applied')!['spec'] as {
        template: { spec: { containers: { name: string; image: string }[] } };
      }
    ).template.spec.containers;
    expect(containers.map((c) => `${c.name}=${c.image}`)).toEqual(['main=busybox:2', 'side=busybox']);
  });

  it('applies server-side, creating the object when absent', async () => {
    const file = writeFixture('ssa.yaml', fixturePlan.replace('name: fixture', 'name: ssa'));
    expect((await kubectl('apply', '--server-side', '-f', file)).stdout).toBe(
      'agentplan.fractale.dev/ssa serverside-applied\n',
    );
    expect(store.get(PLANS, 'default', 'ssa')?.metadata.uid).toBeTruthy();
    const changed = writeFixture(
      'ssa.yaml',
      fixturePlan.replace('name: fixture', 'name: ssa').replace('Build an image', 'Build one image'),
    );
    expect((await kubectl('apply', '--server-side', '-f', changed)).stdout).toBe(
      'agentplan.fractale.dev/ssa serverside-applied\n',
    );
    expect((store.get(PLANS, 'default', 'ssa')!['spec'] as { description: string }).description).toBe(
      'Build one image, then run it.',
    );
    // Fields the manager applied before and no longer applies go.
    const without = writeFixture(
      'ssa.yaml',
      fixturePlan
        .replace('name: fixture', 'name: ssa')
        .replace('  description: Build an image, then run it.\n', ''),
    );
    expect((await kubectl('apply', '--server-side', '-f', without)).stdout).toBe(
      'agentplan.fractale.dev/ssa serverside-applied\n',
    );
    const spec = store.get(PLANS, 'default', 'ssa')!['spec'] as Record<string, unknown>;
    expect(spec['description']).toBeUndefined();
    expect(spec['steps']).toHaveLength(2);
  });

  it('waits for a condition and for a finalizer to go on delete', async () => {
    const wait = start(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'ap/ssa', '--timeout=20s']);
    const current = store.get(PLANS, 'default', 'ssa')!;
    store.updateStatus(PLANS, { ...current, status: { phase: 'Succeeded' } });
    expect(await wait.exited).toMatchObject({
      code: 0,
      stdout: 'agentplan.fractale.dev/ssa condition met\n',
    });

    store.patch(PLANS, 'default', 'ssa', 'merge', { metadata: { finalizers: ['fractale.dev/cleanup'] } });
    const deletion = start(['delete', 'ap', 'ssa', '--timeout=20s']);
    for (;;) {
      const held = store.get(PLANS, 'default', 'ssa');
      if (held?.metadata.deletionTimestamp) {
        store.update(PLANS, { ...held, metadata: { ...held.metadata, finalizers: [] } });
        break;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(await deletion.exited).toMatchObject({
      code: 0,
      stdout: 'agentplan.fractale.dev "ssa" deleted from default namespace\n',
    });
  });

  it('deletes objects and waits until they are gone', async () => {
    const r = await kubectl('delete', 'ap', 'fixture');
    expect(r.stdout).toBe('agentplan.fractale.dev "fixture" deleted from default namespace\n');
    expect(store.get(PLANS, 'default', 'fixture')).toBeUndefined();
    const cascade = await kubectl('delete', 'job', 'x', '--cascade=foreground');
    expect(cascade.stdout).toBe('job.batch "x" deleted from default namespace\n');
    expect(store.get('batch/v1/jobs', 'default', 'x')).toBeUndefined();
    expect(store.get('v1/pods', 'default', 'x-abcde')).toBeUndefined();
    const namespace = await kubectl('delete', 'namespace', 'team');
    expect(namespace.stdout).toBe('namespace "team" deleted\n');
    expect(store.get('v1/namespaces', undefined, 'team')).toBeUndefined();
    expect(store.get('batch/v1/jobs', 'team', 'applied')).toBeUndefined();
    const missing = await kubectl('get', 'ap', 'fixture');
    expect(missing.stderr).toBe(
      'Error from server (NotFound): agentplans.fractale.dev "fixture" not found\n',
    );
  });
});
