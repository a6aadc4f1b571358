// Starts one real control plane for the real lane and hands its kubeconfig to the suites.
import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../../scripts/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    realKubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plane = await startControlPlane({ log: (line) => console.log(`[control plane] ${line}`) });
  project.provide('realKubeconfig', plane.kubeconfig);
  return () => plane.stop();
}
