// `fractale agent ...` against the simulated cluster with the operator running in-process: steps and
// plans are created, followed to the end, and their artifacts and results written.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/index.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import type { ResultsDocument } from '../../src/results/document.ts';
import { startTestOperator, type TestOperator } from '../helpers/operator.ts';
import { fractale, tempDir, testIO } from './io.ts';

const plans = join(import.meta.dirname, '../../plans');

const WITH_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cd /opt/lammps && cmake cmake && make install\nWORKDIR /opt/lammps/examples/reaxff/HNS';
const NO_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps';

const block = (lang: string, text: string) =>
  `|\n      \`\`\`${lang}\n${text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n      \`\`\``;

const JOB = `apiVersion: batch/v1
kind: Job
metadata: { name: lammps }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: lammps
          command: ["lmp", "-in", "in.reaxff.hns"]`;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

const kc = () => ['--kubeconfig', operator!.sim.kubeconfigPath];

describe('fractale agent build', () => {
  it('builds until the Dockerfile works, writes it to --outfile and exits 0', async () => {
    operator = await startTestOperator({
      script: `responses:\n  - agent: build\n    text: ${block('dockerfile', WITH_CERTS)}\n`,
    });
    const dir = tempDir();
    const io = testIO({ cwd: dir });
    const result = await fractale(
      ['agent', 'build', 'lammps', '--environment', 'google cloud CPU', '--outfile', 'Dockerfile', ...kc()],
      io,
    );
    expect(result.stderr).toMatch(/Created AgentStep build-lammps-[a-z0-9]{5} in namespace default/);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toContain('ca-certificates');
    expect(result.stderr).toMatch(/succeeded on attempt 1/);
    expect(result.stderr).toContain('Image: registry.fractale.test:5000/lammps:');
    // The plain view prints a line per change, ending with the success.
    expect(result.stdout).toMatch(/build-lammps-\w+\s+build\s+Succeeded\s+attempt 1\/10/);
    const name = /Created AgentStep (\S+)/.exec(result.stderr)![1]!;
    const step = await operator.client.get<AgentStep & { metadata: { name: string } }>(
      RESOURCES.agentSteps,
      'default',
      name,
    );
    expect(step.spec.context).toEqual({ application: 'lammps', environment: 'google cloud CPU' });
  });

  it('exits non-zero with the reason when the step gives up', async () => {
    operator = await startTestOperator({
      script: `responses:
  - agent: build
    text: ${block('dockerfile', NO_CERTS)}
  - agent: debug
    text: Install ca-certificates before cloning.
`,
    });
    const result = await fractale([
      'agent',
      'build',
      'lammps',
      '--max-attempts',
      '1',
      '--name',
      'nocerts',
      ...kc(),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: AgentStep nocerts failed after 1 attempt(s)');
    expect(result.stderr).toContain('server certificate verification failed');
  });
});

describe('fractale agent kubernetes-job', () => {
  it('puts the --context-file into the context and writes the manifest to --outfile', async () => {
    operator = await startTestOperator({
      script: `responses:\n  - agent: kubernetes-job\n    text: ${block('yaml', JOB)}\n`,
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'Dockerfile'), WITH_CERTS);
    const io = testIO({ cwd: dir });
    const result = await fractale(
      [
        'agent',
        'kubernetes-job',
        'ghcr.io/lammps/lammps:stable',
        '--context-file',
        'Dockerfile',
        '--max-runtime',
        '5m',
        '--details',
        'Run in.reaxff.hns in the pwd with lmp',
        '--outfile',
        'job.yaml',
        '--name',
        'run',
        ...kc(),
      ],
      io,
    );
    const step = await operator.client.get<AgentStep & { metadata: { name: string } }>(
      RESOURCES.agentSteps,
      'default',
      'run',
    );
    expect(step.spec.context).toEqual({
      container: 'ghcr.io/lammps/lammps:stable',
      dockerfile: WITH_CERTS,
      details: 'Run in.reaxff.hns in the pwd with lmp',
      maxRuntime: '5m',
    });
    expect(result.code, result.stderr + JSON.stringify(step.status, null, 1)).toBe(0);
    const manifest = readFileSync(join(dir, 'job.yaml'), 'utf8');
    expect(manifest).toContain('kind: Job');
    expect(manifest).toContain('image: ghcr.io/lammps/lammps:stable');
    expect(result.stdout).toContain('LAMMPS');
  });
});

describe('fractale agent cost', () => {
  it('writes the validated estimates as JSON to --outfile', async () => {
    operator = await startTestOperator({
      script: `responses:
  - agent: cost
    text: |
      \`\`\`json
      [{"application": "lammps", "environment": "google cloud", "instance": "c2-standard-8", "type": "cpu", "reason": "MPI on CPUs", "estimate": 1.25}]
      \`\`\`
`,
    });
    const dir = tempDir();
    const result = await fractale(
      ['agent', 'cost', 'LAMMPS reaxff on 2 nodes', '--outfile', 'cost.json', ...kc()],
      testIO({ cwd: dir }),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Created AgentStep cost-[a-z0-9]{5} /);
    expect(JSON.parse(readFileSync(join(dir, 'cost.json'), 'utf8'))).toEqual([
      expect.objectContaining({ instance: 'c2-standard-8', type: 'cpu', estimate: 1.25 }),
    ]);
  });
});

describe('fractale agent --plan', () => {
  it('converts a seed plan, runs it, and writes the results JSON in the seed layout', async () => {
    operator = await startTestOperator({
      script: `responses:
  - agent: build
    text: ${block('dockerfile', WITH_CERTS)}
  - agent: kubernetes-job
    text: ${block('yaml', JOB)}
`,
    });
    const results = tempDir();
    const result = await fractale([
      'agent',
      '--plan',
      join(plans, 'seed/run-lammps.yaml'),
      '--results',
      results,
      '--incremental',
      ...kc(),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Created AgentPlan build-and-deploy-lammps in namespace default');
    expect(result.stderr).toContain('AgentPlan build-and-deploy-lammps succeeded');
    const files = readdirSync(results);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^results-\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.json$/);
    const doc = JSON.parse(readFileSync(join(results, files[0]!), 'utf8')) as ResultsDocument;
    expect(doc.status).toBe('Succeeded');
    expect(doc.steps.map((s) => [s.agent, s.attempts, s.status])).toEqual([
      ['build', 1, 'Succeeded'],
      ['kubernetes-job', 1, 'Succeeded'],
    ]);
    expect(doc.steps[1]!.result).toContain('Total wall time');
    // --incremental keeps every attempt's artifact.
    expect(doc.steps[0]!.metadata.assets.attempts?.[0]?.artifact).toContain('ca-certificates');
    expect(Object.keys(doc.manager)).toEqual(expect.arrayContaining(['times', 'recovery']));
    // The view listed both steps of the plan as they went.
    expect(result.stdout).toMatch(/build-and-deploy-lammps-build\s+build\s+Succeeded/);
    expect(result.stdout).toMatch(/build-and-deploy-lammps-kubernetes-job\s+kubernetes-job\s+Succeeded/);

    // Applying it again says it has finished and how to rerun it, without creating anything.
    const again = await fractale(['agent', '--plan', join(plans, 'seed/run-lammps.yaml'), ...kc()]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already exists and finished (Succeeded');
    expect(again.stderr).toContain('kubectl delete agentplan build-and-deploy-lammps -n default');

    // `fractale results` writes the same document.
    const out = tempDir();
    const exported = await fractale(['results', 'build-and-deploy-lammps', '-o', out, ...kc()]);
    expect(exported.code, exported.stderr).toBe(0);
    const written = exported.stdout.trim();
    expect(existsSync(written)).toBe(true);
    expect(JSON.parse(readFileSync(written, 'utf8')).steps).toHaveLength(2);

    const listed = await fractale(['get', 'plans', ...kc()]);
    expect(listed.stdout).toMatch(/^NAME\s+PHASE\s+STEP\s+RECOVERIES\s+AGE\s+MESSAGE/);
    expect(listed.stdout).toMatch(/build-and-deploy-lammps\s+Succeeded/);
  });

  it('names the field of an invalid plan file', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'plan.yaml'),
      'apiVersion: fractale.dev/v1alpha1\nkind: AgentPlan\nmetadata: { name: broken }\nspec:\n  steps:\n    - { name: build, agent: compile, context: { application: lammps } }\n',
    );
    const result = await fractale(['agent', '--plan', join(dir, 'plan.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is invalid');
    expect(result.stderr).toContain('spec.steps[0].agent');
  });
});
