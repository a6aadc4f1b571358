// Guard-rails shared by the prompts that write Kubernetes manifests (Job and MiniCluster).
import type { RunContext } from '../api/context.ts';
import { detailsSection, testingText } from './common.ts';
import { bullets, fenced, join, line, section } from './render.ts';

/** Rules every run manifest follows; the debug agent gets them as the scope of its advice. */
export const RUN_RULES = [
  'Write a final manifest: no placeholders, no questions.',
  'Do not set metadata.name or metadata.namespace; the operator sets them.',
  'Use the container image exactly as given.',
  'Do not create or require external data; use the data shipped with the application, or what the details say.',
  'Do not add affinity, nodeSelector, tolerations, init containers, securityContext, or a custom entrypoint/args unless the details ask for them.',
  'No privileged mode, host network/PID/IPC, hostPath volumes, added capabilities, service accounts or Secrets: they are refused.',
  'Assume the software is on the PATH; do not write full paths to executables.',
  'One vCPU of an instance is one logical CPU; applications count logical CPUs.',
] as const;

export const NO_RESOURCES_RULE =
  'Do not set resource requests or limits: the pod should be Burstable and use the whole node.';
export const RESOURCES_RULE = 'Request exactly the resources listed, and no others.';
export const NO_PULL_RULE = 'Set imagePullPolicy: Never on the container: the image is already on the nodes.';

/** `cpu 4, memory 8Gi, gpu 1, nodes 2`, or nothing. */
export function resourcesText(resources: RunContext['resources']): string | undefined {
  if (!resources) return undefined;
  const parts = Object.entries(resources)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${key} ${String(value)}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export interface RunPromptInput {
  container: string;
  environment?: string;
  details?: string;
  testing?: string | boolean;
  /** The Dockerfile that built the container, when known. */
  dockerfile?: string;
  noPull?: boolean;
  resources?: RunContext['resources'];
  managerInstruction?: string;
  avoid?: readonly string[];
}

export interface RunRegenerateInput extends RunPromptInput {
  /** The manifest of the failed attempt. */
  manifest: string;
  /** The debug agent's advice, or the reason the manifest was refused. */
  advice: string;
}

/** The rules section of a run prompt: the kind's rules, then the resource and pull rules that apply. */
export const runRules = (rules: readonly string[], input: RunPromptInput) =>
  section(
    'Rules',
    bullets([
      ...rules,
      input.resources ? RESOURCES_RULE : NO_RESOURCES_RULE,
      input.noPull ? NO_PULL_RULE : undefined,
    ]),
  );

/** What a run prompt knows of the run: resources, testing, the user's details, the Dockerfile. */
export const runFacts = (input: RunPromptInput) =>
  join(
    line('Resources', resourcesText(input.resources)),
    section('Testing', testingText(input.testing)),
    detailsSection(input.details),
    input.dockerfile
      ? section('The container was built from this Dockerfile', fenced('dockerfile', input.dockerfile))
      : undefined,
  );
