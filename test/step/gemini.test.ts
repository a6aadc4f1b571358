// A step driven through the real Gemini SDK against the local server that speaks Gemini's REST
// protocol, with the API key read from a Secret, as the operator runs in a cluster.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import {
  answerWith,
  type FakeGeminiServer,
  startFakeGeminiServer,
} from '../../src/llm/fake-gemini-server.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

const KEY = 'AIza-test-key-that-must-not-leak';
let operator: TestOperator | undefined;
let gemini: FakeGeminiServer | undefined;
afterEach(async () => {
  await operator?.stop();
  await gemini?.close();
  operator = undefined;
  gemini = undefined;
});

describe('a step through the Gemini protocol', () => {
  it('builds with answers from the Gemini REST API, the key from a Secret, and the usage Gemini reports', async () => {
    // Over REST there is no agent name: the script's answers are chosen by what the prompt says.
    const script = ScriptedModel.fromYaml(`responses:
  - match: "Dockerfile build expert"
    text: |
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN apt-get update && apt-get install -y ca-certificates git
      \`\`\`
`);
    gemini = await startFakeGeminiServer({ apiKey: KEY, fallback: answerWith(script) });
    operator = await startTestOperator({
      configuredModel: true,
      config: { provider: 'gemini', apiKeySecret: 'gemini', baseUrl: gemini.url, model: 'gemini-2.5-pro' },
      sim: {
        behaviors: { pullable: ['cgr.dev/.*'], builds: [{ outcome: 'Succeeded', log: 'built' }], pods: [] },
      },
    });
    await operator.client.create(RESOURCES.secrets, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gemini', namespace: 'default' },
      data: { 'api-key': Buffer.from(KEY).toString('base64') },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('via-gemini', 'build', { application: 'lammps' }) as never,
    );
    const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
      operator.client,
      'AgentStep',
      'default',
      'via-gemini',
      ['Succeeded', 'Failed'],
    );
    expect(step.status?.phase, JSON.stringify(step.status)).toBe('Succeeded');
    expect(gemini.requests).toHaveLength(1);
    expect(gemini.requests[0]!.path).toContain('models/gemini-2.5-pro:generateContent');
    expect(step.status?.usage?.modelCalls).toBe(1);
    expect(step.status?.usage?.totalTokens).toBeGreaterThan(0);
    // The key is used, never shown.
    const events = await operator.client.list(RESOURCES.events, 'default');
    expect(JSON.stringify([step, events.items])).not.toContain(KEY);
  });

  it('fails the step with a clear message when the key Secret is missing, without spending attempts', async () => {
    gemini = await startFakeGeminiServer({ apiKey: KEY });
    operator = await startTestOperator({
      configuredModel: true,
      config: { provider: 'gemini', apiKeySecret: 'gemini', baseUrl: gemini.url },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('no-key', 'build', { application: 'lammps' }) as never,
    );
    const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
      operator.client,
      'AgentStep',
      'default',
      'no-key',
      ['Succeeded', 'Failed'],
    );
    expect(step.status?.reason).toBe('ModelUnavailable');
    expect(step.status?.message).toMatch(
      /Secret default\/gemini does not exist: kubectl create secret generic gemini/,
    );
    expect(gemini.requests).toHaveLength(0);
  });
});
