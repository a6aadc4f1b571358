// A status write that fails right after the pass that accepted an answer created the attempt's Job
// (the Job is created in that same pass): the next pass is still Generating, and must leave the
// Job running. It once suspended it, as the Job of a finished attempt, and the step waited for good.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect } from 'vitest';
import { RESOURCES } from '../../src/kube/resources.ts';
import { jobManifestAnswer } from '../helpers/answers.ts';
import { simOnly } from '../helpers/cluster.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

let operator: TestOperator | undefined;
let closeProxy: (() => void) | undefined;
afterEach(async () => {
  await operator?.stop();
  closeProxy?.();
});

/** Forwards to the API server, but answers the first step status write after a Job create with 500. */
async function failingProxy(upstream: string) {
  const target = new URL(upstream);
  const seen = { jobCreated: false, failed: 0 };
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (seen.jobCreated && req.method === 'PUT' && /\/agentsteps\/[^/]+\/status/.test(url)) {
      seen.jobCreated = false;
      seen.failed++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'InternalError', code: 500 }));
      return;
    }
    const forwarded = request(
      { hostname: target.hostname, port: target.port, method: req.method, path: url, headers: req.headers },
      (answer) => {
        if (req.method === 'POST' && /\/jobs$/.test(url.split('?')[0]!) && answer.statusCode === 201)
          seen.jobCreated = true;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    res.on('close', () => forwarded.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeProxy = () => {
    server.closeAllConnections();
    server.close();
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('a failed status write after the Job was created', () => {
  simOnly(
    'leaves the Job running: the step succeeds',
    async () => {
      let proxy: Awaited<ReturnType<typeof failingProxy>> | undefined;
      operator = await startTestOperator({
        script: `responses:\n  - agent: kubernetes-job\n    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}\n`,
        sim: {
          behaviors: {
            pullable: ['ghcr.io/.*'],
            pods: [{ outcome: 'Succeeded', runSeconds: 10, log: 'Total wall time: 0:00:02\n' }],
          },
        },
        serverUrl: async (url) => {
          proxy = await failingProxy(url);
          return proxy.url;
        },
      });
      await operator.client.create(
        RESOURCES.agentSteps,
        agentStep('after-failed-write', 'kubernetes-job', { container: 'ghcr.io/example/lammps:1' }) as never,
      );
      await waitForPhase(
        operator.client,
        'AgentStep',
        'default',
        'after-failed-write',
        ['Succeeded'],
        60_000,
      );
      expect(proxy?.seen.failed).toBe(1);
      const job = await operator.client.get<{ metadata: object; spec?: { suspend?: boolean } }>(
        RESOURCES.jobs,
        'default',
        'after-failed-write-1',
      );
      expect(job.spec?.suspend).not.toBe(true);
    },
    120_000,
  );
});
