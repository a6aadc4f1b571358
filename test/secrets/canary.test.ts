// The canary scan: a unique API key in the operator's key Secret and a unique registry password in
// the Kaniko push Secret, then a plan whose build fails and whose run fails twice (so the debug agent
// and the manager are asked), driven through the real Gemini SDK against the fake Gemini server. The
// failing build prints the registry config, the failing run prints its environment and the key,
// because the debug agent told it to. Afterwards every object the sim stores, every line the
// operator logged at debug level, every request the Gemini server received and the results document
// are searched for either value, as written and in base64. Only the two Secrets may hold them.
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect } from 'vitest';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import { KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import {
  answerWith,
  type FakeGeminiServer,
  startFakeGeminiServer,
} from '../../src/llm/fake-gemini-server.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { createOperator } from '../../src/operator/index.ts';
import { decodeResults } from '../../src/results/writer.ts';
import { loadConfig } from '../../src/runtime/config.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import type { Manager } from '../../src/runtime/manager.ts';
import type { BehaviorsInput } from '../../src/sim/index.ts';
import { simOnly, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { TEST_REGISTRY, waitForPhase } from '../helpers/operator.ts';

type Plan = AgentPlan & { metadata: { name: string } };

// Unique per run, and in no shape a pattern would recognise: only knowing the value finds it.
const KEY = `canary-key-${randomBytes(16).toString('hex')}`;
const PASSWORD = `canary-pw-${randomBytes(16).toString('hex')}`;
const REGISTRY_USER = 'robot';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const DOCKER_CONFIG = JSON.stringify({
  auths: {
    [TEST_REGISTRY]: {
      username: REGISTRY_USER,
      password: PASSWORD,
      auth: b64(`${REGISTRY_USER}:${PASSWORD}`),
    },
  },
});
/** What must appear nowhere but in the two Secrets. */
const CANARIES: Record<string, string> = {
  key: KEY,
  'key, base64': b64(KEY),
  password: PASSWORD,
  'password, base64': b64(PASSWORD),
  'docker auth (user:password, base64)': b64(`${REGISTRY_USER}:${PASSWORD}`),
  'docker config, base64': b64(DOCKER_CONFIG),
};

const NO_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps';
const WITH_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cmake && make install\nWORKDIR /opt/lammps/examples/reaxff/HNS';

const indent = (text: string, spaces = 6) =>
  text
    .split('\n')
    .map((l) => ' '.repeat(spaces) + l)
    .join('\n');
const fencedAnswer = (language: string, text: string) =>
  `|\n      \`\`\`${language}\n${indent(text)}\n      \`\`\``;
const job = (command: string[]) => `apiVersion: batch/v1
kind: Job
metadata: { name: lammps }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: lammps
          workingDir: /opt/lammps/examples/reaxff/HNS
          command: ${JSON.stringify(command)}`;

// Over REST there is no agent name: each answer is chosen by what its prompt says (its persona
// first), and used once.
const SCRIPT = `responses:
  - match: "You are the manager"
    text: |
      {"agent_name": "run", "task_description": "You MUST run lmp -in in.reaxff.hns -nocite, without printing the environment."}
  - match: "You are a debugging expert[\\\\s\\\\S]*server certificate verification failed"
    text: Install the ca-certificates package before cloning over HTTPS.
  - match: "You are a debugging expert[\\\\s\\\\S]*Cannot open input script"
    text: Print the environment with printenv before lmp, and echo $GEMINI_API_KEY, to see what the run is given.
  - match: "You are a Dockerfile build expert[\\\\s\\\\S]*Install the ca-certificates package"
    text: ${fencedAnswer('dockerfile', WITH_CERTS)}
  - match: "You are a Dockerfile build expert"
    text: ${fencedAnswer('dockerfile', NO_CERTS)}
  - match: "You are a Kubernetes Job expert[\\\\s\\\\S]*You MUST run lmp"
    text: ${fencedAnswer('yaml', job(['lmp', '-in', 'in.reaxff.hns', '-nocite']))}
  - match: "You are a Kubernetes Job expert[\\\\s\\\\S]*Print the environment"
    text: ${fencedAnswer('yaml', job(['sh', '-c', 'printenv; echo $GEMINI_API_KEY; lmp -in in.reaxff']))}
  - match: "You are a Kubernetes Job expert"
    text: ${fencedAnswer('yaml', job(['lmp', '-in', 'in.reaxff']))}
`;

const BEHAVIORS: BehaviorsInput = {
  pullable: ['cgr.dev/.*'],
  builds: [
    { match: 'ca-certificates', outcome: 'Succeeded', log: '[100%] Built target lmp\n' },
    {
      // A RUN that shows the executor's registry credentials, as `RUN cat /kaniko/.docker/config.json` would.
      outcome: 'Failed',
      log: `+ cat /kaniko/.docker/config.json\n${DOCKER_CONFIG}\nCloning into 'lammps'...\nfatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed. CAfile: none CRLfile: none\n`,
    },
  ],
  pods: [
    {
      // A run that was given the key (a plan run beside the operator, its Secret listed) and prints it.
      command: 'printenv',
      outcome: 'Failed',
      log: `HOSTNAME=lammps\nGEMINI_API_KEY=${KEY}\nREGISTRY_PASSWORD=${PASSWORD}\n${KEY}\nERROR: the license server refused key ${KEY}\n`,
    },
    { command: '-nocite', outcome: 'Succeeded', log: 'LAMMPS (2 Aug 2023)\nTotal wall time: 0:00:02\n' },
    {
      command: 'lmp',
      outcome: 'Failed',
      log: 'LAMMPS (2 Aug 2023)\nERROR: Cannot open input script in.reaxff: No such file or directory\n',
    },
  ],
};

let cluster: TestCluster | undefined;
let manager: Manager | undefined;
let gemini: FakeGeminiServer | undefined;
afterEach(async () => {
  await manager?.stop(1000);
  await cluster?.stop();
  await gemini?.close();
  manager = undefined;
  cluster = undefined;
  gemini = undefined;
});

/** Where each canary appears in `text`, as `label: context` lines. */
function findCanaries(where: string, text: string): string[] {
  const found: string[] = [];
  for (const [label, value] of Object.entries(CANARIES)) {
    const at = text.indexOf(value);
    if (at >= 0) found.push(`${where}: ${label}: ...${text.slice(Math.max(0, at - 80), at + 20)}...`);
  }
  return found;
}

/** An object as text, with gzip-compressed binaryData (large results) unpacked too. */
function objectText(object: KubeObject): string {
  const parts = [JSON.stringify(object)];
  for (const value of Object.values((object['binaryData'] ?? {}) as Record<string, string>)) {
    try {
      parts.push(gunzipSync(Buffer.from(value, 'base64')).toString('utf8'));
    } catch {
      // Not gzip: the base64 is scanned as it is.
    }
  }
  return parts.join('\n');
}

describe('secrets canary', () => {
  simOnly(
    'a plan with failed builds and runs that print the key and the registry password leaks neither',
    async () => {
      gemini = await startFakeGeminiServer({
        apiKey: KEY,
        fallback: answerWith(ScriptedModel.fromYaml(SCRIPT)),
      });
      cluster = await startTestCluster({ speed: 0.005, behaviors: BEHAVIORS });
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(cluster.kubeconfigPath);
      const client = new KubeClient(kubeConfig);
      await client.create(RESOURCES.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'gemini', namespace: 'default' },
        data: { 'api-key': b64(KEY) },
      });
      await client.create(RESOURCES.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'registry-push', namespace: 'default' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64(DOCKER_CONFIG) },
      });

      const logLines: string[] = [];
      const config = loadConfig(
        {
          provider: 'gemini',
          model: 'gemini-2.5-pro',
          apiKeySecret: 'gemini',
          baseUrl: gemini.url,
          registry: TEST_REGISTRY,
          pushSecret: 'registry-push',
          leaderElect: false,
          resyncSeconds: 0,
          logLevel: 'debug',
        },
        {},
      );
      manager = createOperator({
        kubeConfig,
        config,
        logger: createLogger({
          level: 'debug',
          pretty: false,
          destination: { write: (line: string) => logLines.push(line) },
        }),
      });
      await manager.start();

      await client.create(RESOURCES.agentPlans, {
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentPlan',
        metadata: { name: 'canary', namespace: 'default' },
        spec: {
          goal: 'Run LAMMPS',
          maxAttempts: 2,
          steps: [
            { name: 'build', agent: 'build', context: { application: 'lammps', maxAttempts: 3 } },
            { name: 'run', agent: 'kubernetes-job', context: { maxAttempts: 2 } },
          ],
        },
      } as never);
      const plan = await waitForPhase<Plan>(
        client,
        'AgentPlan',
        'default',
        'canary',
        ['Succeeded', 'Failed'],
        90_000,
      );
      expect(plan.status?.phase, JSON.stringify(plan.status, null, 1)).toBe('Succeeded');

      // The story ran as scripted: two builds, a debug call for each failure that had an attempt
      // left, the manager, and three Jobs.
      const prompts = gemini.requests.map((r) => r.rawBody);
      const asked = (persona: string) => prompts.filter((p) => p.includes(persona)).length;
      expect(asked('You are a Dockerfile build expert')).toBe(2);
      expect(asked('You are a debugging expert')).toBe(2);
      expect(asked('You are the manager')).toBe(1);
      expect(asked('You are a Kubernetes Job expert')).toBe(3);
      // The key was sent where the SDK sends it, and the server's record does not keep it.
      expect(gemini.requests.every((r) => r.apiKeyAccepted)).toBe(true);
      expect(gemini.requests.every((r) => r.headers['x-goog-api-key'] === '[redacted]')).toBe(true);

      const leaks: string[] = [];
      const store = cluster.store!;
      const secrets = new Set(['default/gemini', 'default/registry-push']);
      let objects = 0;
      for (const type of store.resources()) {
        for (const object of store.listRaw(type.name).items) {
          const name = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
          if (type.kind === 'Secret' && secrets.has(name)) continue;
          objects++;
          leaks.push(...findCanaries(`${type.kind} ${name}`, objectText(object)));
        }
      }
      logLines.forEach((line, i) => {
        leaks.push(...findCanaries(`log line ${i + 1}`, line));
      });
      gemini.requests.forEach((request, i) => {
        leaks.push(
          ...findCanaries(
            `Gemini request ${i + 1}`,
            [request.path, JSON.stringify(request.headers), request.rawBody].join('\n'),
          ),
        );
      });
      const resultsMap = await client.get<KubeObject & { data?: Record<string, string> }>(
        RESOURCES.configMaps,
        'default',
        plan.status!.resultsRef!.name,
      );
      const results = decodeResults(resultsMap as never);
      leaks.push(...findCanaries('results document', JSON.stringify(results)));

      expect(leaks).toEqual([]);
      // What the pods printed reached the prompts, with the values taken out.
      const debugPrompts = prompts.filter((p) => p.includes('You are a debugging expert'));
      expect(debugPrompts.some((p) => p.includes('server certificate verification failed'))).toBe(true);
      const managerPrompt = prompts.find((p) => p.includes('You are the manager'))!;
      expect(managerPrompt).toContain('the license server refused key [redacted]');
      // The scan saw something: the attempts' ConfigMaps, the Jobs, the events, the log.
      expect(objects).toBeGreaterThan(30);
      expect(logLines.length).toBeGreaterThan(10);
      expect(results.steps.length).toBeGreaterThanOrEqual(3);
    },
    150_000,
  );
});
