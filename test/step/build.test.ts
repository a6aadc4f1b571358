// The build agent end to end: scripted model, simulated Kaniko builds.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import {
  agentStep,
  startTestOperator,
  TEST_REGISTRY,
  type TestOperator,
  waitForPhase,
} from '../helpers/operator.ts';

const FORGETS_CERTIFICATES = `
  - agent: build
    text: |
      Here is the Dockerfile:
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN apt-get update && apt-get install -y git cmake g++ make libopenmpi-dev
      RUN git clone --depth 1 https://github.com/lammps/lammps.git /opt/lammps
      RUN cd /opt/lammps && mkdir build && cd build && cmake ../cmake -DPKG_REAXFF=on && make -j4 && make install
      WORKDIR /opt/lammps/examples/reaxff/HNS
      \`\`\`
`;
const ADVICE = `
  - agent: debug
    match: "server certificate verification failed"
    text: |
      The clone fails because the image has no CA certificates. Install ca-certificates with apt-get before cloning.
`;
const FIXED = `
  - agent: build
    match: "Install ca-certificates"
    text: |
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN apt-get update && apt-get install -y ca-certificates git cmake g++ make libopenmpi-dev
      RUN git clone --depth 1 https://github.com/lammps/lammps.git /opt/lammps
      RUN cd /opt/lammps && mkdir build && cd build && cmake ../cmake -DPKG_REAXFF=on && make -j4 && make install
      WORKDIR /opt/lammps/examples/reaxff/HNS
      \`\`\`
`;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

describe('build agent', () => {
  it('fixes a Dockerfile that fails to clone, and hands on a pullable image', async () => {
    operator = await startTestOperator({ script: `responses:${FORGETS_CERTIFICATES}${ADVICE}${FIXED}` });
    const { client, sim } = operator;
    await client.create(
      RESOURCES.agentSteps,
      agentStep('build-lammps', 'build', { application: 'lammps', environment: 'cpu' }) as never,
    );
    const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
      client,
      'AgentStep',
      'default',
      'build-lammps',
      ['Succeeded', 'Failed'],
    );
    expect(step.status?.phase, JSON.stringify(step.status, null, 1)).toBe('Succeeded');
    expect(step.status?.attempt).toBe(2);
    const container = step.status?.outputs?.['container'];
    expect(container).toMatch(new RegExp(`^${TEST_REGISTRY}/lammps:[0-9a-f]{12}$`));
    expect(sim.registry.has(container!)).toBe(true);
    expect(step.status?.outputs?.['dockerfile']).toContain('ca-certificates');
    expect(step.status?.history?.[0]).toMatchObject({ attempt: 1, outcome: 'Failed', reason: 'BuildFailed' });
    expect(step.status?.usage?.modelCalls).toBe(3);
    expect(step.status?.conditions?.find((c) => c.type === 'Succeeded')?.status).toBe('True');
    // One Kaniko Job per attempt, named <step>-<attempt>; the failed one is kept for inspection.
    const jobs = await client.list(RESOURCES.jobs, 'default');
    expect(jobs.items.map((j) => j.metadata.name).sort()).toEqual(['build-lammps-1', 'build-lammps-2']);
    // What the model was told and answered is kept with the step.
    const conversation = await client.get<{ metadata: object; data?: Record<string, string> }>(
      RESOURCES.configMaps,
      'default',
      'build-lammps-conversation',
    );
    expect(JSON.stringify(conversation.data)).toContain('server certificate verification failed');
  });

  it('gives up after maxAttempts with the last error in status.message', async () => {
    operator = await startTestOperator({
      script: `responses:${FORGETS_CERTIFICATES}${ADVICE}${FORGETS_CERTIFICATES}`,
    });
    const { client } = operator;
    await client.create(
      RESOURCES.agentSteps,
      agentStep('build-lammps', 'build', { application: 'lammps', max_attempts: 2 }) as never,
    );
    const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
      client,
      'AgentStep',
      'default',
      'build-lammps',
      ['Succeeded', 'Failed'],
    );
    expect(step.status?.phase).toBe('Failed');
    expect(step.status?.reason).toBe('AttemptsExhausted');
    expect(step.status?.message).toMatch(/after 2 attempts.*server certificate verification failed/s);
    expect(step.status?.history?.map((h) => h.outcome)).toEqual(['Failed', 'Failed']);
  });
});
