// Fuzzed model output: good Dockerfiles, Job and MiniCluster manifests, cost JSON and flux batch
// scripts, mutated (cut short, wrong types, unknown fields, hostile fields, unicode, huge strings,
// nested and unclosed code fences, random YAML), through the real acceptors the agents use. Properties:
// nothing throws; every answer is either accepted and, checked again, inside the policy, or refused
// with a message the next prompt carries whole; memory stays bounded.
//
// Seeds are fixed so `npm test` is deterministic; FRACTALE_FUZZ_SEED and FRACTALE_FUZZ_RUNS explore
// further (a failure prints the seed and the shrunk counterexample).

import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { instructions } from '../../src/agents/build/dockerfile.ts';
import { buildDriver } from '../../src/agents/build/driver.ts';
import { costDriver } from '../../src/agents/cost/driver.ts';
import { fluxBatchDriver } from '../../src/agents/flux-batch/driver.ts';
import { checkFluxBatchScript } from '../../src/agents/flux-batch/validate.ts';
import { kubernetesJobDriver } from '../../src/agents/kubernetes-job/driver.ts';
import { parseRecovery } from '../../src/agents/manager/recovery.ts';
import { miniclusterDriver } from '../../src/agents/minicluster/driver.ts';
import { miniclusterSchemaOutline } from '../../src/agents/minicluster/schema.ts';
import { codeBlocks, parseDebugAdvice, parseJson } from '../../src/agents/parse.ts';
import { applyManifestPolicy, type ManifestPolicy } from '../../src/kube/policy.ts';
import type { Acceptance, AgentDriver, AttemptInput } from '../../src/step/driver.ts';

const SEED = Number(process.env['FRACTALE_FUZZ_SEED'] ?? 20251);
const RUNS = Number(process.env['FRACTALE_FUZZ_RUNS'] ?? 300);
const options = (offset: number) => ({ seed: SEED + offset, numRuns: RUNS });

/** What the next prompt carries of an attempt's error (the history entry's message). */
const CARRIED = 2000;

const IMAGE = 'ghcr.io/example/lammps:1';
const crd = parse(readFileSync(new URL('../fixtures/crds/minicluster.yaml', import.meta.url), 'utf8'));
const SCHEMA_OUTLINE = miniclusterSchemaOutline(crd);

const INPUT: AttemptInput = {
  namespace: 'hpc',
  stepName: 'demo-run',
  planName: 'demo',
  agent: 'kubernetes-job',
  context: { container: IMAGE, application: 'lammps', instruction: 'estimate', secrets: ['input-data'] },
  attempt: 2,
  avoid: [],
  settings: {
    registry: 'registry.fractale:5000',
    insecureRegistry: false,
    kanikoImage: 'cgr.dev/chainguard/kaniko:latest',
    runServiceAccount: 'runner',
    defaultMaxRuntime: 600,
    logBudgetTokens: 4000,
    maxCpuRequest: '64',
    maxMemoryRequest: '256Gi',
  },
  // As the operator reads them from the installed Flux Operator CRD.
  cluster: {
    ...(SCHEMA_OUTLINE ? { miniClusterSchema: SCHEMA_OUTLINE } : {}),
    miniClusterCrdSchema: crd.spec.versions[0].schema.openAPIV3Schema,
  },
  objectName: 'demo-run-2',
  labels: { 'app.kubernetes.io/managed-by': 'fractale', 'fractale.dev/step': 'demo-run' },
  ownerReference: {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentStep',
    name: 'demo-run',
    uid: '11111111-2222-4333-8444-555555555555',
    controller: true,
    blockOwnerDeletion: true,
  },
  maxRuntimeSeconds: 1800,
};

// ---- Good artifacts -------------------------------------------------------------------------------

const DOCKERFILE = `FROM ubuntu:24.04
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && \\
    apt-get install -y --no-install-recommends ca-certificates git cmake g++ && \\
    rm -rf /var/lib/apt/lists/*
RUN git clone --depth 1 https://github.com/lammps/lammps.git /opt/lammps
WORKDIR /opt/lammps/examples/reaxff/HNS
ENV PATH=/opt/lammps/build:$PATH
`;
const JOB = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'lammps', namespace: 'default', labels: { app: 'lammps' } },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'lammps',
            image: IMAGE,
            workingDir: '/opt/lammps/examples/reaxff/HNS',
            command: ['lmp', '-in', 'in.reaxff.hns'],
            env: [{ name: 'OMP_NUM_THREADS', value: '1' }],
            resources: { requests: { cpu: '2', memory: '4Gi' } },
          },
        ],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
    },
  },
};
const MINICLUSTER = {
  apiVersion: 'flux-framework.org/v1alpha2',
  kind: 'MiniCluster',
  metadata: { name: 'lammps' },
  spec: {
    size: 2,
    tasks: 4,
    logging: { quiet: true },
    containers: [
      { image: IMAGE, workingDir: '/opt/lammps/examples/reaxff/HNS', command: 'lmp -in in.reaxff.hns' },
    ],
  },
};
const COST = [
  {
    application: 'lammps',
    environment: 'Google Cloud',
    instance: 'c2d-standard-56',
    type: 'cpu',
    reason: 'reaxff scales with cores',
    estimate: 4.2,
  },
];
const FLUX = `#!/bin/bash
#FLUX: -N 2
#FLUX: -n 8
#FLUX: --time-limit=1h
#FLUX: --job-name=lammps

cd /opt/lammps/examples/reaxff/HNS
flux run -N 2 -n 8 lmp -in in.reaxff.hns
`;
const RECOVERY = { agent_name: 'build', task_description: 'You MUST install lmp on the PATH.' };

// ---- Mutations ------------------------------------------------------------------------------------

const hostileValues = fc.constantFrom<unknown>(
  { hostPath: { path: '/' } },
  { privileged: true },
  { capabilities: { add: ['SYS_ADMIN'] } },
  true,
  0,
  -1,
  1e308,
  '',
  null,
  [],
  {},
  '/',
  'kube-system',
  '100000',
  '10Ti',
  { secretKeyRef: { name: 'admin', key: 'k' } },
  { serviceAccountToken: { path: 't' } },
  [{ operator: 'Exists' }],
  { csi: { driver: 'x' } },
  { type: 'Unconfined' },
  { '<<': { a: 1 } },
  '\u202e\u0000\ufeff',
);
const shortText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '```',
    '````yaml',
    '~~~',
    '---',
    '...',
    '\n',
    '\r\n',
    '\t',
    '&a',
    '*a',
    '!!binary',
    '# ',
    ': ',
    '- ',
    '{',
    '[',
    '"',
    "'",
    '\\',
    '\u0000',
    '\ufeff',
    '\u2028',
    '$(rm -rf /)',
  ),
);
/** Occasionally huge: up to twice the 256 KiB an answer may be. */
const hugeText = fc
  .tuple(fc.integer({ min: 10_000, max: 520_000 }), fc.constantFrom('x', 'é', '#\n', '- a\n', '[', '`', ' '))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));
const values: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileValues },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  { weight: 2, arbitrary: shortText },
);

type Json = Record<string, unknown> | unknown[];
/** Every path to a value inside a JSON-like object. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      paths(v, [...prefix, i], out);
    });
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

type Edit = { path: number; op: 'set' | 'delete' | 'add' | 'wrap'; key: string; value: unknown };
const edit: fc.Arbitrary<Edit> = fc.record({
  path: fc.nat(),
  op: fc.constantFrom('set', 'delete', 'add', 'wrap'),
  key: fc.oneof(
    fc.constantFrom(
      'hostPath',
      'privileged',
      'hostNetwork',
      'nodeName',
      'namespace',
      'kind',
      'image',
      'ports',
      'tolerations',
      'automountServiceAccountToken',
      'securityContext',
      'volumes',
      'resources',
      'initContainers',
      'items',
    ),
    fc.string({ maxLength: 12 }),
  ),
  value: values,
});

function copy(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

function applyEdits(base: Json, edits: Edit[]): unknown {
  let root: unknown = structuredClone(base);
  for (const edit of edits) {
    // Constants are shared between runs: edit copies, or they would grow (and cycle) across runs.
    const e = { ...edit, value: copy(edit.value) };
    const all = paths(root);
    const path = all[e.path % all.length]!;
    if (path.length === 0) {
      if (e.op === 'set') root = e.value;
      else if (e.op === 'wrap') root = [root];
      continue;
    }
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k as string], root) as Record<
      string | number,
      unknown
    >;
    const last = path.at(-1)!;
    if (e.op === 'set') parent[last] = e.value;
    else if (e.op === 'delete')
      Array.isArray(parent) ? parent.splice(last as number, 1) : delete parent[last];
    else if (e.op === 'wrap') parent[last] = [parent[last]];
    else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target))
        (target as Record<string, unknown>)[e.key] = e.value;
      else parent[e.key] = e.value;
    }
  }
  return root;
}

type TextEdit =
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'line'; at: number; text: string }
  | { op: 'duplicate'; at: number; times: number };
const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof({ weight: 9, arbitrary: shortText }, { weight: 1, arbitrary: hugeText }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ op: fc.constant('line' as const), at: fc.nat(), text: shortText }),
  fc.record({
    op: fc.constant('duplicate' as const),
    at: fc.nat(),
    times: fc.integer({ min: 2, max: 2000 }),
  }),
);

function applyTextEdits(text: string, edits: TextEdit[]): string {
  for (const e of edits) {
    const at = text.length === 0 ? 0 : e.at % (text.length + 1);
    if (e.op === 'cut') text = text.slice(0, at);
    else if (e.op === 'insert') text = text.slice(0, at) + e.text + text.slice(at);
    else if (e.op === 'delete') text = text.slice(0, at) + text.slice(at + e.length);
    else {
      const lines = text.split('\n');
      const i = e.at % lines.length;
      if (e.op === 'line') lines[i] = e.text;
      // Repeated up to about 600 KB: enough to cross the answer limit, not to exhaust memory.
      else
        lines.splice(
          i,
          1,
          ...Array(Math.min(e.times, Math.ceil(600_000 / ((lines[i]?.length ?? 0) + 1)))).fill(lines[i]),
        );
      text = lines.join('\n');
    }
  }
  return text;
}

/** The ways a model wraps an artifact: fenced, bare, in prose, unclosed, nested, twice, indented. */
const wrappers = (language: string) =>
  fc.constantFrom<(s: string) => string>(
    (s) => `\`\`\`${language}\n${s}\n\`\`\``,
    (s) => s,
    (s) => `Here is the ${language}:\n\n\`\`\`${language}\n${s}\n\`\`\`\n\nIt should work.`,
    (s) => `\`\`\`${language}\n${s}`,
    (s) => `\`\`\`\`markdown\n\`\`\`${language}\n${s}\n\`\`\`\n\`\`\`\``,
    (s) => `\`\`\`text\nnotes\n\`\`\`\n\`\`\`${language}\n${s}\n\`\`\`\n\`\`\`${language}\n${s}\n\`\`\``,
    (s) => `1. The file:\n   \`\`\`${language}\n${s.replace(/^/gm, '   ')}\n   \`\`\``,
    (s) => `~~~${language}\r\n${s.replace(/\n/g, '\r\n')}\r\n~~~`,
    (s) => `\`\`\`${language}\n\`\`\`${language}\n${s}\n\`\`\`\n\`\`\``,
  );

/** Answers around a structured artifact: edited as data, written as YAML (or JSON), then as text. */
function structuredAnswers(base: Json, language: 'yaml' | 'json'): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(edit, { maxLength: 4 }),
      fc.constantFrom('yaml', 'json', 'flow'),
      fc.array(textEdit, { maxLength: 2 }),
      wrappers(language),
    )
    .map(([edits, format, textEdits, wrap]) => {
      const value = applyEdits(base, edits);
      let text: string;
      try {
        text =
          format === 'json' || language === 'json'
            ? (JSON.stringify(value) ?? 'undefined')
            : stringify(value, format === 'flow' ? { collectionStyle: 'flow' } : {});
      } catch {
        text = String(value);
      }
      return wrap(applyTextEdits(text ?? String(value), textEdits));
    });
}

function textAnswers(base: string, language: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(textEdit, { maxLength: 4 }), wrappers(language))
    .map(([edits, wrap]) => wrap(applyTextEdits(base, edits)));
}

/** Anything at all a model might send instead. */
const noise: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.anything({ maxDepth: 3 }).map((v) => {
    try {
      return stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  }),
  hugeText,
);

// ---- Checks ---------------------------------------------------------------------------------------

/** Each refusal is a message the model can act on, carried whole into the next prompt. */
function refusalIsUsable(result: Acceptance): void {
  if (result.ok) return;
  expect(typeof result.error).toBe('string');
  expect(result.error.trim().length).toBeGreaterThan(0);
  expect(result.error.length, result.error.slice(0, 300)).toBeLessThanOrEqual(CARRIED);
  expect(result.reason).toMatch(/^[A-Z][A-Za-z]+$/);
}

/** Fields whose keys are the writer's own (label names, resource names, variables), not fields. */
const MAPS = new Set([
  'labels',
  'annotations',
  'requests',
  'limits',
  'nodeSelector',
  'environment',
  'commands',
  'jobLabels',
  'nodeAffinity',
]);

/** Every value under a field anywhere in the object (keys of free-form maps are not fields). */
function collect(value: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const v of value) collect(v, key, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === key) out.push(v);
      if (!MAPS.has(k)) collect(v, key, out);
    }
  return out;
}

const policyOf = (kind: 'Job' | 'MiniCluster'): ManifestPolicy => ({
  kind,
  namespace: INPUT.namespace,
  name: INPUT.objectName,
  image: IMAGE,
  labels: INPUT.labels,
  ownerReference: INPUT.ownerReference,
  activeDeadlineSeconds: INPUT.maxRuntimeSeconds,
  serviceAccountName: 'runner',
  allowedSecrets: ['input-data'],
  maxRequests: { cpu: '64', memory: '256Gi' },
});

/** An accepted manifest, checked again from scratch: inside the policy, and a fixed point of it. */
function manifestInsidePolicy(kind: 'Job' | 'MiniCluster', result: Acceptance): void {
  if (!result.ok) return;
  // biome-ignore lint/suspicious/noExplicitAny: the accepted object is re-read field by field
  const object = result.objects[0] as any;
  expect(result.objects).toHaveLength(1);
  expect(object.kind).toBe(kind);
  expect(object.metadata.name).toBe(INPUT.objectName);
  expect(object.metadata.namespace).toBe(INPUT.namespace);
  expect(object.metadata.ownerReferences).toEqual([INPUT.ownerReference]);
  expect(object.metadata.labels).toMatchObject(INPUT.labels);
  for (const key of [
    'hostPath',
    'csi',
    'csiDriver',
    'claimName',
    'ephemeral',
    'persistentVolumeClaim',
    'serviceAccountToken',
    'nodeName',
    'hostPort',
    'hostIP',
    'flexVolume',
    'gitRepo',
  ])
    expect(collect(object, key), key).toEqual([]);
  for (const key of [
    'privileged',
    'allowPrivilegeEscalation',
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'hostProcess',
    'automountServiceAccountToken',
  ])
    expect(
      collect(object, key).filter((v) => v === true),
      key,
    ).toEqual([]);
  for (const add of collect(object, 'add')) expect(add, 'capabilities.add').toEqual([]);
  for (const name of [
    ...collect(object, 'secretName'),
    ...collect(collect(object, 'secretKeyRef'), 'name'),
    ...collect(collect(object, 'secretRef'), 'name'),
  ])
    expect(['input-data']).toContain(name);
  if (kind === 'Job') {
    const pod = object.spec.template.spec;
    expect(pod.containers[0].image).toBe(IMAGE);
    expect(pod.restartPolicy).toBe('Never');
    expect(object.spec.activeDeadlineSeconds).toBe(INPUT.maxRuntimeSeconds);
    expect(object.spec.backoffLimit).toBeLessThanOrEqual(1);
    expect([undefined, 'runner']).toContain(pod.serviceAccountName);
    expect(pod.serviceAccount).toBeUndefined();
  } else {
    expect(object.spec.containers).toHaveLength(1);
    expect(object.spec.containers[0].image).toBe(IMAGE);
    expect(object.spec.deadlineSeconds).toBe(INPUT.maxRuntimeSeconds);
    expect(object.spec.logging.strict).toBe(true);
  }
  // The policy's own output passes it again unchanged.
  const again = applyManifestPolicy(stringify(object), {
    ...policyOf(kind),
    ...(kind === 'MiniCluster' ? { miniclusterSchema: INPUT.cluster.miniClusterCrdSchema } : {}),
  });
  // (Written out again it may have grown past the line limit by the fields the policy added.)
  if (!again.ok && again.reason === 'TooLarge') return;
  expect(again.ok, again.ok ? '' : again.explanation).toBe(true);
  if (again.ok) {
    expect(again.changes).toEqual([]);
    expect(again.object).toEqual(object);
  }
}

/** Accepted and refused answers of the property running now: both must occur, or it proves little. */
let counts = { ok: 0, refused: 0 };
function tally<T extends { ok: boolean }>(result: T): T {
  if (result.ok) counts.ok++;
  else counts.refused++;
  return result;
}
/** Runs a property and checks it saw both accepted and refused answers. */
function assertBoth(property: fc.IProperty<[string]>, offset: number) {
  counts = { ok: 0, refused: 0 };
  fc.assert(property, options(offset));
  expect(counts.ok, 'accepted answers').toBeGreaterThan(0);
  expect(counts.refused, 'refused answers').toBeGreaterThan(0);
}

const attempt = (driver: AgentDriver, agent: AttemptInput['agent']) => (answer: string) =>
  driver.accept(answer, { ...INPUT, agent });

describe('fuzzed model output through the agents’ acceptors', () => {
  it('Dockerfiles: accepted ones are single-stage with no local COPY/ADD, built as checked; refusals are usable', () => {
    const accept = attempt(buildDriver, 'build');
    assertBoth(
      fc.property(
        fc.oneof(
          { weight: 5, arbitrary: textAnswers(DOCKERFILE, 'dockerfile') },
          { weight: 1, arbitrary: noise },
        ),
        (answer) => {
          const result = tally(accept(answer));
          refusalIsUsable(result);
          if (!result.ok) return;
          const all = instructions(result.artifact);
          expect(all.find((i) => i.keyword !== 'ARG')?.keyword).toBe('FROM');
          expect(all.filter((i) => i.keyword === 'FROM')).toHaveLength(1);
          for (const i of all) {
            expect(i.keyword).not.toBe('COPY');
            if (i.keyword === 'ADD') expect(i.args).toMatch(/(^|\s)(https?:\/\/|git@)/);
          }
          // biome-ignore lint/suspicious/noExplicitAny: the build's objects, read back
          const [configMap, job] = result.objects as any[];
          expect(configMap.data.Dockerfile).toBe(result.artifact);
          expect(job.metadata.name).toBe(INPUT.objectName);
          expect(collect(job, 'privileged').filter((v) => v === true)).toEqual([]);
          expect(Buffer.byteLength(result.artifact)).toBeLessThanOrEqual(256 * 1024);
        },
      ),
      1,
    );
  });

  it.each([
    {
      kind: 'Job' as const,
      driver: kubernetesJobDriver,
      agent: 'kubernetes-job' as const,
      base: JOB,
      offset: 2,
    },
    {
      kind: 'MiniCluster' as const,
      driver: miniclusterDriver,
      agent: 'minicluster' as const,
      base: MINICLUSTER,
      offset: 3,
    },
  ])(
    '$kind manifests: accepted ones are inside the policy and a fixed point of it; refusals are usable',
    ({ kind, driver, agent, base, offset }) => {
      const accept = attempt(driver, agent);
      assertBoth(
        fc.property(
          fc.oneof(
            { weight: 6, arbitrary: structuredAnswers(base, 'yaml') },
            { weight: 1, arbitrary: noise },
          ),
          (answer) => {
            const result = tally(accept(answer));
            refusalIsUsable(result);
            manifestInsidePolicy(kind, result);
          },
        ),
        offset,
      );
    },
  );

  it('cost answers: accepted ones are typed estimates; refusals are usable', () => {
    const accept = attempt(costDriver, 'cost');
    assertBoth(
      fc.property(
        fc.oneof({ weight: 5, arbitrary: structuredAnswers(COST, 'json') }, { weight: 1, arbitrary: noise }),
        (answer) => {
          const result = tally(accept(answer));
          refusalIsUsable(result);
          if (!result.ok) return;
          const estimates = JSON.parse(result.artifact) as Record<string, unknown>[];
          expect(estimates.length).toBeGreaterThan(0);
          for (const e of estimates) {
            for (const key of ['application', 'environment', 'instance', 'reason'])
              expect(typeof e[key] === 'string' && (e[key] as string).trim() !== '').toBe(true);
            expect(['cpu', 'gpu']).toContain(e['type']);
            expect(Number.isFinite(e['estimate']) && (e['estimate'] as number) >= 0).toBe(true);
          }
          expect(() => costDriver.succeed(result.artifact, INPUT, '')).not.toThrow();
        },
      ),
      4,
    );
  });

  it('flux batch scripts: accepted ones pass the checker again; refusals are usable', () => {
    const accept = attempt(fluxBatchDriver, 'flux-batch');
    assertBoth(
      fc.property(
        fc.oneof({ weight: 5, arbitrary: textAnswers(FLUX, 'bash') }, { weight: 1, arbitrary: noise }),
        (answer) => {
          const result = tally(accept(answer));
          refusalIsUsable(result);
          if (!result.ok) return;
          expect(result.artifact.startsWith('#!')).toBe(true);
          expect(checkFluxBatchScript(result.artifact).ok).toBe(true);
          expect(Buffer.byteLength(result.artifact)).toBeLessThanOrEqual(256 * 1024);
        },
      ),
      5,
    );
  });

  it('manager answers: a choice is a step of the plan; errors are usable', () => {
    const steps = [
      { name: 'build', agent: 'build', description: 'Build LAMMPS' },
      { name: 'run', agent: 'kubernetes-job', description: 'Run LAMMPS' },
    ];
    assertBoth(
      fc.property(
        fc.oneof(
          { weight: 5, arbitrary: structuredAnswers(RECOVERY, 'json') },
          { weight: 1, arbitrary: noise },
        ),
        (answer) => {
          const result = tally(parseRecovery(answer, steps));
          if (result.ok) {
            expect(steps.map((s) => s.name)).toContain(result.choice.step);
            expect(result.choice.instruction.trim()).not.toBe('');
          } else {
            expect(result.error.trim()).not.toBe('');
            expect(result.error.length, result.error.slice(0, 200)).toBeLessThanOrEqual(CARRIED);
          }
        },
      ),
      6,
    );
  });

  it('debug answers and code blocks: always read, never thrown', () => {
    const answers = fc.oneof(
      textAnswers('Install ca-certificates.\nRETURN TO HUMAN: Which input?\nRETURN TO MANAGER', 'text'),
      noise,
    );
    fc.assert(
      fc.property(answers, fc.boolean(), fc.boolean(), (answer, human, manager) => {
        const advice = parseDebugAdvice(answer, { allowReturnToHuman: human, allowReturnToManager: manager });
        expect(typeof advice.advice).toBe('string');
        if (advice.returnToHuman) expect(advice.question?.trim()).not.toBe('');
        expect(advice.returnToHuman && advice.returnToManager).toBe(false);
        for (const block of codeBlocks(answer)) expect(typeof block.body).toBe('string');
        const json = parseJson(answer);
        expect(json.ok || json.error.length > 0).toBe(true);
      }),
      options(7),
    );
  });

  it('the MiniCluster schema outline reads any CRD without throwing', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 5, withNullPrototype: true }), (value) => {
        expect(typeof (miniclusterSchemaOutline(value) ?? '')).toBe('string');
        const wrapped = { spec: { versions: [{ name: 'v1alpha2', schema: { openAPIV3Schema: value } }] } };
        expect(typeof (miniclusterSchemaOutline(wrapped) ?? '')).toBe('string');
      }),
      options(8),
    );
  });
});

describe('memory under large hostile answers', () => {
  it('stays bounded: many answers near and far beyond the size limit leave the heap where it was', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const answers = [
      // Just under the limit: long, deeply nested, alias-heavy and line-heavy answers, fenced.
      `\`\`\`yaml\n${stringify(JOB)}      x: ${'['.repeat(60_000)}${']'.repeat(60_000)}\n\`\`\``,
      `\`\`\`yaml\n${stringify(JOB)}${Array.from({ length: 90 }, (_, i) => `a${i}: &a${i} [${'*a0,'.repeat(i ? 1 : 0)}1]`).join('\n')}\n\`\`\``,
      `\`\`\`yaml\n${stringify(JOB)}${'# comment\n'.repeat(25_000)}\`\`\``,
      `\`\`\`dockerfile\n${DOCKERFILE}${'RUN true \\\n'.repeat(20_000)}\n\`\`\``,
      `\`\`\`json\n${JSON.stringify(Array.from({ length: 1500 }, () => COST[0]))}\n\`\`\``,
      `\`\`\`bash\n${FLUX}${'#FLUX: -N 1\n'.repeat(100)}${'echo x\n'.repeat(30_000)}\`\`\``,
      // Far beyond it.
      'x'.repeat(5 * 1024 * 1024),
      `\`\`\`yaml\n${'- a\n'.repeat(1_300_000)}\`\`\``,
    ];
    const drivers: [AgentDriver, AttemptInput['agent']][] = [
      [buildDriver, 'build'],
      [kubernetesJobDriver, 'kubernetes-job'],
      [miniclusterDriver, 'minicluster'],
      [costDriver, 'cost'],
      [fluxBatchDriver, 'flux-batch'],
    ];
    const run = () => {
      for (const answer of answers)
        for (const [driver, agent] of drivers) refusalIsUsable(driver.accept(answer, { ...INPUT, agent }));
    };
    run();
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    for (let round = 0; round < 5; round++) {
      run();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    gc();
    const after = process.memoryUsage().heapUsed;
    // Generous: nothing is kept between answers, and no answer expands far beyond its size.
    expect(after - before).toBeLessThan(64 * 1024 * 1024);
    expect(peak - before).toBeLessThan(1024 * 1024 * 1024);
  }, 120_000);
});
