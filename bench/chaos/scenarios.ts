// The plans of the chaos harness: six kinds, each with a scripted story (its mistakes included), the
// phase that story ends in, and the model calls it takes. One script (reuse: true) answers every
// plan, selected by the agent (read from the prompt's persona) and a pattern in the prompt.

import { checkDockerfile, imageReference } from '../../src/agents/build/dockerfile.ts';
import type { BehaviorsInput } from '../../src/sim/index.ts';

export const CHAOS_REGISTRY = 'registry.chaos.test:5000';
export const CHAOS_NAMESPACE = 'chaos';
export const RUN_IMAGE = 'ghcr.io/example/lammps:1';

export const SCENARIOS = ['build-run', 'run-crash', 'recovery', 'minicluster', 'cost', 'flux-batch'] as const;
/** Scenarios of other benchmarks, outside the chaos mix (the scale benchmark's). */
export const OTHER_SCENARIOS = ['build-run-crash'] as const;
export type Scenario = (typeof SCENARIOS)[number] | (typeof OTHER_SCENARIOS)[number];

export interface ScenarioFacts {
  /** What the plan does, for the report. */
  story: string;
  /** The phase its script ends in. */
  phase: 'Succeeded' | 'Failed';
  /** Model calls the script implies (generate, debug and manager calls, one request each). */
  modelCalls: number;
  /** Attempts of all its steps together. */
  attempts: number;
}

export const FACTS: Record<Scenario, ScenarioFacts> = {
  'build-run': {
    story: 'build (fails once: no CA certificates) then a Job run',
    phase: 'Succeeded',
    modelCalls: 4, // build, debug, build, kubernetes-job
    attempts: 3,
  },
  'run-crash': {
    story: 'a Job run that crashes once (missing input file)',
    phase: 'Succeeded',
    modelCalls: 3, // kubernetes-job, debug, kubernetes-job
    attempts: 2,
  },
  recovery: {
    story: 'build, a run that cannot work (no lmp), the manager sends it back to a rebuild',
    phase: 'Succeeded',
    modelCalls: 5, // build, kubernetes-job, manager, build, kubernetes-job
    attempts: 4,
  },
  'build-run-crash': {
    story: 'build (fails once: no CA certificates) then a Job run that crashes once (missing input file)',
    phase: 'Succeeded',
    modelCalls: 6, // build, debug, build, kubernetes-job, debug, kubernetes-job
    attempts: 4,
  },
  minicluster: { story: 'a Flux MiniCluster run', phase: 'Succeeded', modelCalls: 1, attempts: 1 },
  cost: {
    story: 'cost estimates, the first answer malformed',
    phase: 'Succeeded',
    modelCalls: 2,
    attempts: 2,
  },
  'flux-batch': {
    story: 'a flux batch script, the first one invalid',
    phase: 'Succeeded',
    modelCalls: 2,
    attempts: 2,
  },
};

const NO_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps';
const GOOD =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cmake && make install\nRUN cp /opt/lammps/build/lmp /usr/local/bin/lmp\nWORKDIR /opt/lammps/examples/reaxff/HNS';
/** Builds, but the image has no lmp on the PATH: only a rebuild fixes the run. */
const NO_LMP =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cmake && make\nWORKDIR /opt/lammps/examples/reaxff/HNS';

const imageOf = (dockerfile: string) =>
  imageReference(
    CHAOS_REGISTRY,
    'lammps',
    (checkDockerfile(dockerfile) as { dockerfile: string }).dockerfile,
  );

export function chaosBehaviors(): BehaviorsInput {
  return {
    pullable: ['ghcr.io/.*', 'cgr.dev/.*', 'docker.io/library/.*'],
    builds: [
      { match: 'ca-certificates', outcome: 'Succeeded', runSeconds: 30, log: '[100%] Built target lmp' },
      {
        outcome: 'Failed',
        runSeconds: 8,
        log: "Cloning into 'lammps'...\nfatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed. CAfile: none CRLfile: none",
      },
    ],
    pods: [
      {
        image: imageOf(NO_LMP).replace(/[.]/g, '\\.'),
        outcome: 'Failed',
        exitCode: 127,
        runSeconds: 1,
        log: 'sh: 1: lmp: not found\n',
      },
      {
        command: 'lmp -in missing',
        outcome: 'Failed',
        exitCode: 1,
        runSeconds: 2,
        log: 'LAMMPS (2 Aug 2023)\nERROR: Cannot open input script missing: No such file or directory\n',
      },
      {
        command: 'lmp',
        outcome: 'Succeeded',
        runSeconds: 10,
        log: 'LAMMPS (2 Aug 2023)\nLoop time of 2.1 on 4 procs for 100 steps with 2432 atoms\nTotal wall time: 0:00:02\n',
      },
      { outcome: 'Succeeded', runSeconds: 2, log: 'done\n' },
    ],
  };
}

const fence = (language: string, body: string) => `\`\`\`${language}\n${body}\n\`\`\``;

const job = (command: string) =>
  fence(
    'yaml',
    `apiVersion: batch/v1
kind: Job
metadata:
  name: lammps
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: ${RUN_IMAGE}
          workingDir: /opt/lammps/examples/reaxff/HNS
          command: ["sh", "-c", "${command}"]`,
  );

const MINICLUSTER = fence(
  'yaml',
  `apiVersion: flux-framework.org/v1alpha2
kind: MiniCluster
metadata:
  name: lammps
spec:
  size: 2
  logging:
    strict: true
  containers:
    - image: ${RUN_IMAGE}
      workingDir: /opt/lammps/examples/reaxff/HNS
      command: lmp -in in.reaxff.hns`,
);

const GOOD_COST = fence(
  'json',
  JSON.stringify([
    {
      application: 'LAMMPS',
      environment: 'Google Cloud',
      instance: 'c2-standard-8',
      type: 'cpu',
      reason: 'fast cores',
      estimate: 3.2,
    },
  ]),
);

const BAD_BATCH = fence('bash', '#!/bin/bash\nflux run -N 2 lmp -in in.reaxff.hns\n#FLUX: -N 2');
const GOOD_BATCH = fence(
  'bash',
  '#!/bin/bash\n#FLUX: -N 2\n#FLUX: -n 8\n#FLUX: --job-name=lammps-reaxff\nflux run -N 2 -n 8 lmp -in in.reaxff.hns',
);

export interface ScriptEntry {
  agent: string;
  match?: RegExp;
  text: string;
}

/** First match wins: the fixes (which match the advice or the refusal) come before first tries. */
export const SCRIPT: ScriptEntry[] = [
  { agent: 'build', match: /You MUST install the lmp executable/, text: fence('dockerfile', GOOD) },
  { agent: 'build', match: /Install the ca-certificates package/, text: fence('dockerfile', GOOD) },
  { agent: 'build', match: /scenario recovery/, text: fence('dockerfile', NO_LMP) },
  { agent: 'build', text: fence('dockerfile', NO_CERTS) },
  {
    agent: 'debug',
    match: /server certificate verification failed/,
    text: 'The clone over HTTPS cannot verify the certificate: the image has no CA certificates. Install the ca-certificates package in the same apt-get install as git.',
  },
  {
    agent: 'debug',
    match: /Cannot open input script missing/,
    text: 'The input script "missing" does not exist. Run the example input instead: lmp -in in.reaxff.hns (CHAOS-FIX-INPUT).',
  },
  { agent: 'debug', text: 'Read the error above and fix its cause.' },
  { agent: 'kubernetes-job', match: /CHAOS-FIX-INPUT/, text: job('lmp -in in.reaxff.hns') },
  { agent: 'kubernetes-job', match: /scenario (build-)?run-crash/, text: job('lmp -in missing') },
  { agent: 'kubernetes-job', text: job('lmp -in in.reaxff.hns') },
  { agent: 'minicluster', text: MINICLUSTER },
  {
    agent: 'manager',
    match: /lmp: not found/,
    text: fence(
      'json',
      JSON.stringify({
        agent_name: 'build',
        task_description: 'You MUST install the lmp executable on the PATH (/usr/local/bin).',
      }),
    ),
  },
  { agent: 'cost', match: /refused/, text: GOOD_COST },
  { agent: 'cost', text: 'LAMMPS on c2-standard-8 for about 3 dollars' },
  { agent: 'flux-batch', match: /refused/, text: GOOD_BATCH },
  { agent: 'flux-batch', text: BAD_BATCH },
];

/** The agent asking, from the persona that opens every prompt (the REST protocol carries no agent). */
const PERSONAS: [RegExp, string][] = [
  [/^You are a Dockerfile build expert/, 'build'],
  [/^You are a debugging expert/, 'debug'],
  [/^You are a Kubernetes Job expert/, 'kubernetes-job'],
  [/^You are a Flux Framework MiniCluster expert/, 'minicluster'],
  [/^You are a Flux Framework expert who writes batch scripts/, 'flux-batch'],
  [/^You are a cloud cost estimation expert/, 'cost'],
  [/^You are the manager of a team of agents/, 'manager'],
];

export function agentOf(prompt: string): string | undefined {
  return PERSONAS.find(([persona]) => persona.test(prompt))?.[1];
}

export function answer(prompt: string): string | undefined {
  const agent = agentOf(prompt);
  return SCRIPT.find((entry) => entry.agent === agent && (!entry.match || entry.match.test(prompt)))?.text;
}

/** The plan of kind `scenario`; `name` appears in its prompts, so each plan's calls can be told apart. */
export function planFor(
  scenario: Scenario,
  name: string,
  namespace: string = CHAOS_NAMESPACE,
): Record<string, unknown> {
  const marker = `(chaos plan ${name}, scenario ${scenario})`;
  const details = `Run the reaxff HNS example ${marker}.`;
  const build = {
    name: 'build',
    agent: 'build',
    description: 'Build LAMMPS',
    context: { application: 'lammps', details, maxAttempts: 4 },
  };
  const steps: Record<Scenario, unknown[]> = {
    'build-run': [
      build,
      {
        name: 'run',
        agent: 'kubernetes-job',
        description: 'Run LAMMPS',
        context: { details, maxAttempts: 3 },
      },
    ],
    'build-run-crash': [
      build,
      {
        name: 'run',
        agent: 'kubernetes-job',
        description: 'Run LAMMPS',
        context: { details, maxAttempts: 3 },
      },
    ],
    'run-crash': [
      {
        name: 'run',
        agent: 'kubernetes-job',
        description: 'Run LAMMPS',
        context: { container: RUN_IMAGE, details, maxAttempts: 3 },
      },
    ],
    recovery: [
      build,
      {
        name: 'run',
        agent: 'kubernetes-job',
        description: 'Run LAMMPS',
        context: { details, maxAttempts: 1 },
      },
    ],
    minicluster: [
      {
        name: 'run',
        agent: 'minicluster',
        description: 'Run LAMMPS in a MiniCluster',
        context: { container: RUN_IMAGE, details, maxAttempts: 3 },
      },
    ],
    cost: [
      {
        name: 'cost',
        agent: 'cost',
        context: { instruction: `Find the cheapest instance for LAMMPS on Google Cloud ${marker}.` },
      },
    ],
    'flux-batch': [
      {
        name: 'batch',
        agent: 'flux-batch',
        context: { instruction: `Run lmp on 2 nodes, 8 cores ${marker}.` },
      },
    ],
  };
  return {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentPlan',
    metadata: { name, namespace, labels: { 'chaos.fractale.dev/scenario': scenario } },
    spec: { goal: `Chaos plan ${name}: ${FACTS[scenario].story}`, steps: steps[scenario] },
  };
}

/** `count` plans cycling through the scenarios, named c000, c001, ... */
export function chaosPlans(count: number): { name: string; scenario: Scenario }[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `c${String(i).padStart(3, '0')}`,
    scenario: SCENARIOS[i % SCENARIOS.length]!,
  }));
}
