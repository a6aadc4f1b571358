import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { miniclusterSchemaOutline } from '../agents/minicluster/schema.ts';
import { FLUX_VIEWS } from '../agents/minicluster/views.ts';
import { parseDebugAdvice } from '../agents/parse.ts';
import { BUILD_RULES, buildGeneratePrompt, buildRegeneratePrompt } from './build.ts';
import { costPrompt } from './cost.ts';
import { debugPrompt } from './debug.ts';
import { fluxBatchGeneratePrompt, fluxBatchRegeneratePrompt } from './flux-batch.ts';
import { JOB_RULES, jobGeneratePrompt, jobRegeneratePrompt } from './kubernetes-job.ts';
import { managerPrompt } from './manager.ts';
import { miniclusterGeneratePrompt, miniclusterRegeneratePrompt } from './minicluster.ts';
import { fenced } from './render.ts';

const crd = parse(
  readFileSync(new URL('../../test/fixtures/crds/minicluster.yaml', import.meta.url), 'utf8'),
);
const schema = miniclusterSchemaOutline(crd)!;

const DOCKERFILE = `FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git cmake g++ libopenmpi-dev
RUN git clone --depth 1 --branch stable https://github.com/lammps/lammps /opt/lammps
WORKDIR /opt/lammps/examples/reaxff/HNS`;

const JOB = `apiVersion: batch/v1
kind: Job
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: registry.fractale:5000/lammps:3f2a9c1b7d4e
          command: ["lmp", "-in", "in.reaxff.hns"]`;

const run = {
  container: 'registry.fractale:5000/lammps:3f2a9c1b7d4e',
  environment: 'google cloud CPU instance in Kubernetes',
  details: 'Run in.reaxff.hns in the working directory with lmp.',
  testing: true,
  dockerfile: DOCKERFILE,
  noPull: true,
};

/** Every prompt, with every slot filled, as its golden file checks it. */
const prompts: Record<string, string> = {
  'build-generate': buildGeneratePrompt({
    application: 'lammps',
    environment: 'google cloud CPU instance in Kubernetes',
    details: 'Clone the stable branch of LAMMPS. Keep examples/reaxff/HNS in the WORKDIR.',
  }),
  'build-regenerate': buildRegeneratePrompt({
    application: 'lammps',
    details: 'Clone the stable branch of LAMMPS.',
    dockerfile: DOCKERFILE,
    advice: 'The build stops at `make`: no build directory exists. Run cmake in /opt/lammps/build first.',
    avoid: ['You MUST install the MPI development headers before configuring.'],
    managerInstruction: 'You MUST build with -DPKG_REAXFF=on.',
  }),
  'kubernetes-job-generate': jobGeneratePrompt(run),
  'kubernetes-job-regenerate': jobRegeneratePrompt({
    ...run,
    testing: 'Use a 2x2x2 box.',
    noPull: false,
    resources: { cpu: 4, memory: '8Gi' },
    manifest: JOB,
    advice: 'The pod ran out of memory: lower the box size with -v x 1 -v y 1 -v z 1.',
  }),
  'minicluster-generate': miniclusterGeneratePrompt({ ...run, schema, resources: { nodes: 2 } }),
  'minicluster-regenerate': miniclusterRegeneratePrompt({
    ...run,
    manifest: 'apiVersion: flux-framework.org/v1alpha2\nkind: MiniCluster\nspec:\n  size: 2',
    advice: 'The command used mpirun; give lmp directly.',
  }),
  debug: debugPrompt({
    artifactKind: 'Dockerfile',
    artifactLanguage: 'dockerfile',
    artifact: DOCKERFILE,
    error:
      'make: *** No targets specified and no makefile found.  Stop.\nerror building image: exit status 2',
    rules: BUILD_RULES,
    fixed: { application: 'lammps', environment: 'google cloud CPU', container: undefined },
    details: 'Clone the stable branch of LAMMPS.',
    allowReturnToManager: true,
    allowReturnToHuman: true,
  }),
  manager: managerPrompt({
    goal: 'Run the LAMMPS reaxff example on a CPU cloud node.',
    steps: [
      { name: 'build-lammps', agent: 'build', description: 'Build LAMMPS for CPU.' },
      { name: 'run-lammps', agent: 'kubernetes-job', description: 'Run the reaxff HNS example.' },
    ],
    failedStep: 'run-lammps',
    error: '/bin/sh: 1: lmp: not found',
    recoveries: [{ step: 'run-lammps', instruction: 'You MUST call lmp from /opt/lammps/build.' }],
    previousAnswerError: 'agent_name "deploy" is not a step of this plan.',
  }),
  cost: costPrompt({
    instruction: 'LAMMPS reaxff HNS, 64 million atoms, 1000 steps.',
    environment: 'Google Cloud',
    previousError: '[0].estimate: expected a number',
  }),
  'flux-batch-generate': fluxBatchGeneratePrompt({
    instruction: 'Run lmp -in in.reaxff.hns on 2 nodes with 4 tasks each for at most an hour.',
  }),
  'flux-batch-regenerate': fluxBatchRegeneratePrompt({
    instruction: 'Run lmp -in in.reaxff.hns on 2 nodes with 4 tasks each for at most an hour.',
    script: '#!/bin/bash\n#SBATCH -N 2\nmpirun lmp -in in.reaxff.hns',
    advice: 'Line 2: #SBATCH is not a Flux directive; use #FLUX: -N 2.',
  }),
};

describe('prompts', () => {
  it.each(Object.keys(prompts))('%s matches its golden file', async (name) => {
    await expect(`${prompts[name]}\n`).toMatchFileSnapshot(`../../test/fixtures/prompts/${name}.txt`);
  });

  it.each(Object.keys(prompts))('%s repeats no line', (name) => {
    // Indented lines are artifacts and schema outlines, where repeats are data.
    const lines = prompts[name]!.split('\n').filter((l) => l.length > 20 && !/^\s/.test(l));
    expect(lines.filter((l, i) => lines.indexOf(l) !== i)).toEqual([]);
  });

  it.each([
    { name: 'build', text: buildGeneratePrompt({ application: 'lammps' }) },
    { name: 'job', text: jobGeneratePrompt({ container: 'x' }) },
    { name: 'cost', text: costPrompt({ instruction: 'x' }) },
    { name: 'flux batch', text: fluxBatchGeneratePrompt({ instruction: 'x' }) },
  ])('$name leaves out the slots it was not given', ({ text }) => {
    expect(text).not.toMatch(
      /undefined|null|\[object|Details from the user|Earlier attempts|manager:|Testing:/,
    );
    expect(text).not.toMatch(/\n{3,}/);
  });

  it('falls back to the seed environment', () => {
    expect(buildGeneratePrompt({ application: 'lammps' })).toContain(
      "environment 'generic cloud environment'",
    );
  });

  it.each([
    {
      name: 'build',
      text: prompts['build-regenerate']!,
      has: ['Previous Dockerfile', 'Run cmake in /opt/lammps/build first'],
    },
    { name: 'job', text: prompts['kubernetes-job-regenerate']!, has: ['Previous Job', 'lower the box size'] },
    {
      name: 'minicluster',
      text: prompts['minicluster-regenerate']!,
      has: ['Previous MiniCluster', 'mpirun'],
    },
    { name: 'cost', text: prompts['cost']!, has: ['previous answer was refused', 'expected a number'] },
    {
      name: 'flux batch',
      text: prompts['flux-batch-regenerate']!,
      has: ['Previous script', 'not a Flux directive'],
    },
    { name: 'manager', text: prompts['manager']!, has: ['could not be used', 'is not a step of this plan'] },
  ])('the $name retry carries the earlier error and advice', ({ text, has }) => {
    for (const part of has) expect(text).toContain(part);
  });

  it.each([
    { name: 'with noPull', noPull: true, want: true },
    { name: 'without noPull', noPull: false, want: false },
  ])('the Job prompt asks for imagePullPolicy Never only $name', ({ noPull, want }) => {
    expect(jobGeneratePrompt({ container: 'x', noPull }).includes('imagePullPolicy: Never')).toBe(want);
  });

  it('asks for the resources when given, and for none otherwise', () => {
    expect(jobGeneratePrompt({ container: 'x', resources: { cpu: 2 } })).toMatch(
      /Resources: cpu 2[\s\S]*exactly the resources/,
    );
    expect(jobGeneratePrompt({ container: 'x' })).toMatch(/Do not set resource requests/);
  });

  it('puts the Job rules and the MiniCluster view list in their prompts', () => {
    for (const rule of JOB_RULES) expect(prompts['kubernetes-job-generate']).toContain(rule);
    for (const view of FLUX_VIEWS) expect(prompts['minicluster-generate']).toContain(view);
    expect(prompts['minicluster-generate']).toContain('strict: boolean (default false)');
  });

  it('tells the debug agent the exact directives the parser reads', () => {
    const text = prompts['debug']!;
    const managerLine = /write (RETURN TO MANAGER) on a line of its own/.exec(text)?.[1];
    const humanLine = /write one line: (RETURN TO HUMAN): <your question>/.exec(text)?.[1];
    expect(managerLine).toBeDefined();
    expect(humanLine).toBeDefined();
    const parsed = parseDebugAdvice(`Use a build dir.\n${humanLine}: Which branch?`, {
      allowReturnToHuman: true,
      allowReturnToManager: true,
    });
    expect(parsed).toMatchObject({ returnToHuman: true, question: 'Which branch?' });
  });

  it.each([
    { manager: false, human: false, absent: ['RETURN TO MANAGER', 'RETURN TO HUMAN'] },
    { manager: true, human: false, absent: ['RETURN TO HUMAN', 'at most one'] },
    { manager: false, human: true, absent: ['RETURN TO MANAGER', 'at most one'] },
  ])('offers only the allowed directives (manager $manager, human $human)', ({ manager, human, absent }) => {
    const text = debugPrompt({
      artifactKind: 'Kubernetes Job',
      artifactLanguage: 'yaml',
      artifact: 'kind: Job',
      error: 'Error',
      rules: JOB_RULES,
      allowReturnToManager: manager,
      allowReturnToHuman: human,
    });
    for (const word of absent) expect(text).not.toContain(word);
  });

  it('fences artifacts so that backticks inside cannot close the block', () => {
    expect(fenced('yaml', 'command: |\n  ```\n  x\n  ```')).toBe(
      '````yaml\ncommand: |\n  ```\n  x\n  ```\n````',
    );
  });
});
