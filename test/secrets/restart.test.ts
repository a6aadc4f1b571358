// The redaction knows the model's key before it reads a trial, even when the operator has just
// restarted in the middle of a build and has asked no model anything yet. A file of its own: the
// process's redactor (src/kube/redact.ts) starts empty here, as in a fresh operator.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { SECRETS } from '../../src/kube/redact.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { createOperator } from '../../src/operator/index.ts';
import { loadConfig } from '../../src/runtime/config.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import type { Manager } from '../../src/runtime/manager.ts';
import { simOnly, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { agentStep, TEST_REGISTRY, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };
const KEY = `canary-key-${randomBytes(16).toString('hex')}`;

let cluster: TestCluster | undefined;
let manager: Manager | undefined;
afterEach(async () => {
  await manager?.stop(1000);
  await cluster?.stop();
  manager = undefined;
  cluster = undefined;
});

describe('secrets after a restart', () => {
  simOnly(
    'a build that prints the key, read by an operator that restarted while it ran, is stored redacted',
    async () => {
      cluster = await startTestCluster({
        speed: 0.005,
        behaviors: {
          pullable: ['cgr.dev/.*'],
          // 2000 simulated seconds: about 10 s here, time enough to restart the operator.
          builds: [
            { outcome: 'Failed', runSeconds: 2000, log: `echo $GEMINI_API_KEY\n${KEY}\nerror: key ${KEY}\n` },
          ],
        },
      });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(cluster.kubeconfigPath);
      const client = new KubeClient(kubeConfig);
      await client.create(RESOURCES.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'gemini', namespace: 'default' },
        data: { 'api-key': Buffer.from(KEY).toString('base64') },
      });
      const config = loadConfig(
        {
          provider: 'gemini',
          apiKeySecret: 'gemini',
          baseUrl: 'http://127.0.0.1:9', // never called: the Dockerfile came from the first operator
          registry: TEST_REGISTRY,
          leaderElect: false,
          resyncSeconds: 0,
        },
        {},
      );
      // The first operator's model is fixed: it reads no key.
      const scripted = ScriptedModel.fromYaml(
        'responses:\n  - agent: build\n    text: |\n      ```dockerfile\n      FROM ubuntu:22.04\n      RUN make\n      ```\n',
      );
      manager = createOperator({ kubeConfig, config, logger: silentLogger(), model: scripted });
      await manager.start();
      await client.create(
        RESOURCES.agentSteps,
        agentStep('build', 'build', { application: 'lammps', maxAttempts: 1 }) as never,
      );
      await waitForPhase<Step>(client, 'AgentStep', 'default', 'build', ['Building'], 30_000);
      await manager.stop(1000);
      expect(SECRETS.size).toBe(0);

      // The second reads the key from its Secret, as a restarted operator in a cluster would.
      manager = createOperator({ kubeConfig, config, logger: silentLogger() });
      await manager.start();
      const step = await waitForPhase<Step>(
        client,
        'AgentStep',
        'default',
        'build',
        ['Succeeded', 'Failed'],
        60_000,
      );
      expect(step.status?.reason).toBe('AttemptsExhausted');
      const attempt = await client.get<KubeObject & { data?: Record<string, string> }>(
        RESOURCES.configMaps,
        'default',
        'build-1',
      );
      expect(attempt.data?.['diagnostics']).toContain('error: key [redacted]');
      expect(JSON.stringify([step, attempt])).not.toContain(KEY);
    },
    120_000,
  );
});
