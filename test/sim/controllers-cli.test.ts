import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runSimCommand } from '../../src/sim/cli.ts';
import { BehaviorsError, startSimCluster } from '../../src/sim/index.ts';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), 'fractale-sim-test-'));
  directories.push(directory);
  return directory;
}

describe('fractale sim', () => {
  it('serves the cluster with its CRDs and nodes, writes a kubeconfig, and stops when told', async () => {
    const directory = scratch();
    const kubeconfigOut = join(directory, 'kubeconfig');
    const nodesFile = join(directory, 'nodes.yaml');
    writeFileSync(
      nodesFile,
      'nodes:\n  - name: big-1\n    cpu: 64\n    memory: 256Gi\n    instanceType: c2-standard-60\n',
    );
    const lines: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    let announced!: () => void;
    const ready = new Promise<void>((resolve) => {
      announced = resolve;
    });
    const running = runSimCommand({
      kubeconfigOut,
      nodes: nodesFile,
      until: stopped,
      print: (line) => {
        lines.push(line);
        if (line.startsWith('Press Ctrl+C')) announced();
      },
    });
    await ready;
    expect(lines).toContain(`  export KUBECONFIG=${kubeconfigOut}`);
    expect(lines.find((line) => line.startsWith('CRDs installed:'))).toBe(
      'CRDs installed: agentexperiments.fractale.dev, agentplans.fractale.dev, agentsteps.fractale.dev, miniclusters.flux-framework.org',
    );
    const kubeconfig = parse(readFileSync(kubeconfigOut, 'utf8'));
    expect(kubeconfig['current-context']).toBe('fractale-sim');
    expect(kubeconfig.clusters[0].cluster['insecure-skip-tls-verify']).toBe(true);
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigOut);
    const nodes = await config.makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.map((node) => [node.metadata?.name, node.status?.capacity?.['cpu']])).toEqual([
      ['big-1', '64'],
    ]);
    stop();
    await running;
    expect(lines.at(-1)).toBe('Simulated cluster stopped');
  });

  it('refuses a bad behaviours file, naming the line and the field', async () => {
    const file = join(scratch(), 'behaviors.yaml');
    writeFileSync(file, 'pullable: []\npods:\n  - image: lammps\n    outcome: Crashed\n');
    const attempt = startSimCluster({ behaviors: file });
    await expect(attempt).rejects.toBeInstanceOf(BehaviorsError);
    await expect(attempt).rejects.toThrow(`${file}:4: pods[0].outcome: Invalid option`);
  });

  it('refuses a bad nodes file, naming the line and the field', async () => {
    const file = join(scratch(), 'nodes.yaml');
    writeFileSync(file, '- name: ok-1\n- name: bad-2\n  memory: lots\n');
    await expect(startSimCluster({ nodes: file })).rejects.toThrow(
      `${file}:3: [1].memory: not a Kubernetes quantity`,
    );
  });
});
