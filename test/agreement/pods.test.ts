// The pod verbs the simulated world relies on, asked of whichever API server the lane runs (the
// sim's or a real kube-apiserver), with the answers a real server gives: binding through
// `pods/binding`, a pod's spec fixed once created, and `kubectl logs --previous` after a restart.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, KubeClient } from '../../src/kube/client.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { kubectl } from '../helpers/kubectl.ts';

let cluster: TestCluster;
let client: KubeClient;

beforeAll(async () => {
  cluster = await startTestCluster({
    speed: 0.01,
    behaviors: {
      pullable: ['docker.io/library/.*'],
      pods: [
        { command: 'crash', outcome: 'CrashLoopBackOff', exitCode: 2, log: 'segmentation fault in rank 0' },
        { outcome: 'Succeeded', log: 'done' },
      ],
    },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  client = new KubeClient(kubeConfig);
});
afterAll(async () => {
  await cluster?.stop();
});

const PODS = '/api/v1/namespaces/default/pods';

/** A pod no scheduler picks up (schedulerName names none), so the test does the binding. */
async function unscheduledPod(name: string): Promise<Record<string, unknown>> {
  return await client.request('POST', PODS, {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        schedulerName: 'nobody',
        restartPolicy: 'Never',
        containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', command: ['true'] }],
      },
    },
  });
}

const binding = (name: string, node: string, uid?: string) => ({
  apiVersion: 'v1',
  kind: 'Binding',
  metadata: { name, ...(uid ? { uid } : {}) },
  target: { apiVersion: 'v1', kind: 'Node', name: node },
});

async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('pod verbs on the lane’s API server', () => {
  it('binds a pod through pods/binding: spec.nodeName and PodScheduled in one write, and a second binding is a Conflict', async () => {
    await unscheduledPod('bound');
    const created = await client.request<Record<string, unknown>>('POST', `${PODS}/bound/binding`, {
      body: binding('bound', 'elsewhere'),
    });
    expect(created['status']).toBe('Success');
    const pod = await client.request<{
      spec: { nodeName?: string };
      status?: { conditions?: { type: string; status: string }[] };
    }>('GET', `${PODS}/bound`);
    expect(pod.spec.nodeName).toBe('elsewhere');
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');

    expect(
      await refusal(client.request('POST', `${PODS}/bound/binding`, { body: binding('bound', 'another') })),
    ).toEqual({
      code: 409,
      message:
        'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "elsewhere"',
    });
  });

  it('refuses a binding whose uid precondition names another pod, and one whose name disagrees with the URL', async () => {
    await unscheduledPod('guarded');
    const wrongUid = await refusal(
      client.request('POST', `${PODS}/guarded/binding`, {
        body: binding('guarded', 'elsewhere', '00000000-0000-0000-0000-000000000000'),
      }),
    );
    expect(wrongUid.code).toBe(409);
    expect(wrongUid.message).toContain(
      'Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000',
    );
    expect(
      await refusal(
        client.request('POST', `${PODS}/guarded/binding`, { body: binding('other', 'elsewhere') }),
      ),
    ).toEqual({ code: 400, message: 'name in URL does not match name in Binding object' });
  });

  it('refuses an update that sets spec.nodeName (only pods/binding may), and lets an image change through', async () => {
    const pod = (await unscheduledPod('fixed')) as { spec: Record<string, unknown> };
    const moved = structuredClone(pod);
    moved.spec['nodeName'] = 'elsewhere';
    const refused = await refusal(client.request('PUT', `${PODS}/fixed`, { body: moved }));
    expect(refused.code).toBe(422);
    // The real server appends a diff of the two specs after this sentence.
    expect(refused.message).toContain(
      'Pod "fixed" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    );

    const current = await client.request<{ spec: { containers: { image: string }[] } }>(
      'GET',
      `${PODS}/fixed`,
    );
    current.spec.containers[0]!.image = 'docker.io/library/busybox:1.37';
    const updated = await client.request<typeof current>('PUT', `${PODS}/fixed`, { body: current });
    expect(updated.spec.containers[0]!.image).toBe('docker.io/library/busybox:1.37');
  });

  it('serves the log of the container’s last instance with --previous once it restarted, and says when there is none', async () => {
    const kube = (args: string[]) => kubectl(cluster.kubeconfigPath, args);
    /** Runs kubectl until it succeeds (a container not started yet is an error), within a minute. */
    const eventually = async (args: string[]) => {
      const deadline = Date.now() + 60_000;
      let result = await kube(args);
      while (result.code !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        result = await kube(args);
      }
      return result;
    };
    const runPod = (name: string, restartPolicy: string, command: string) =>
      client.request('POST', PODS, {
        body: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: {
            restartPolicy,
            containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', command: [command] }],
          },
        },
      });

    // A container that ran once has no previous instance.
    await runPod('once', 'Never', 'true');
    expect((await eventually(['logs', 'once'])).stdout).toBe('done\n');
    const none = await kube(['logs', 'once', '--previous']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain(
      'Error from server (BadRequest): previous terminated container "main" in pod "once" not found',
    );

    // A crashing container restarted by the kubelet: --previous prints the crashed instance's log.
    await runPod('crashy', 'Always', 'crash');
    const previous = await eventually(['logs', 'crashy', '--previous']);
    expect(previous.stderr).toBe('');
    expect(previous.stdout).toBe('segmentation fault in rank 0\n');
  });
});
