// What the model reads when a real build fails: the real AMG2023/hypre log (a configure NOTE that
// reads like an error, compiler commands on error.c, then the missing header) as a simulated Kaniko
// build prints it. The step's message and the debug prompt lead with the root cause, and the log the
// model reads stays within the budget the step sets.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { estimateTokens } from '../../src/kube/logfilter.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { readCaseLog } from '../fixtures/build-logs/cases.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

const ROOT = 'amg.c:33:10: fatal error: HYPRE_config.h: No such file or directory';
const DOCKERFILE = `
  - agent: build
    text: |
      \`\`\`dockerfile
      FROM ubuntu:24.04
      RUN apt-get update && apt-get install -y ca-certificates git build-essential libopenmpi-dev
      RUN cd /opt && ./build-amg.sh
      \`\`\`
  - agent: debug
    match: "HYPRE_config.h"
    text: Point HYPRE_DIR at the installed hypre tree.
`;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

describe('failure context of a real build log', () => {
  it.each([
    { budget: 'the default log budget', logBudget: undefined },
    { budget: 'a log budget of 300 tokens', logBudget: 300 },
  ])('leads with the root cause, within $budget', async ({ logBudget }) => {
    operator = await startTestOperator({
      script: `responses:${DOCKERFILE}`,
      sim: {
        behaviors: {
          pullable: ['docker.io/library/.*', 'cgr.dev/.*'],
          builds: [
            {
              outcome: 'Failed',
              runSeconds: 5,
              log: readCaseLog('hypre-amg2023-missing-header.log'),
            },
          ],
        },
      },
    });
    const { client } = operator;
    await client.create(
      RESOURCES.agentSteps,
      agentStep('amg', 'build', {
        application: 'amg2023',
        maxAttempts: 2,
        ...(logBudget ? { logBudget } : {}),
      }) as never,
    );
    const step = await waitForPhase<AgentStep & { metadata: { name: string } }>(
      client,
      'AgentStep',
      'default',
      'amg',
      ['Succeeded', 'Failed'],
    );
    expect(step.status?.phase).toBe('Failed');
    // The summary of each attempt names the missing header, not the configure NOTE before it.
    expect(step.status?.history?.[0]?.message).toContain(ROOT);
    expect(step.status?.message).not.toContain('NOTE');
    const attempt = await client.get<{ metadata: object; data?: Record<string, string> }>(
      RESOURCES.configMaps,
      'default',
      'amg-1',
    );
    const diagnostics = attempt.data?.['diagnostics'] ?? '';
    expect(diagnostics.split('\n')[0]).toBe(`the build failed: ${ROOT}`);
    const log = diagnostics.slice(diagnostics.indexOf('Log (filtered):\n') + 'Log (filtered):\n'.length);
    expect(log).toContain(ROOT);
    expect(estimateTokens(log)).toBeLessThanOrEqual(logBudget ?? 1500);
    const conversation = await client.get<{ metadata: object; data?: Record<string, string> }>(
      RESOURCES.configMaps,
      'default',
      'amg-conversation',
    );
    expect(JSON.stringify(conversation.data)).toContain('HYPRE_config.h: No such file or directory');
  });
});
