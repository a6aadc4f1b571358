// Reading what steps and plans produced: results (inline or in a ConfigMap), outputs, summaries.
import type { AgentPlan, AgentStep } from '../api/index.ts';
import { dnsName } from '../api/index.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import type { ResultsDocument } from '../results/document.ts';
import { decodeResults } from '../results/writer.ts';
import { UserError } from './errors.ts';

type ConfigMap = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

/** The step's result: status.result, or the ConfigMap key status.resultRef names. */
export async function stepResult(client: KubeClient, step: AgentStep): Promise<string | undefined> {
  if (step.status?.result !== undefined) return step.status.result;
  const ref = step.status?.resultRef;
  if (!ref) return undefined;
  const cm = await client.find<ConfigMap>(RESOURCES.configMaps, step.metadata.namespace, ref.name);
  return cm?.data?.[ref.key];
}

/** What `--outfile` receives for each agent, as the seed wrote it: a Dockerfile, a manifest, a result. */
export async function stepArtifact(client: KubeClient, step: AgentStep): Promise<string | undefined> {
  const outputs = step.status?.outputs ?? {};
  switch (step.spec.agent) {
    case 'build':
      return outputs['dockerfile'] ?? (await stepResult(client, step));
    case 'kubernetes-job':
    case 'minicluster':
    case 'optimize':
      // The optimize agent's manifest output is the best Job it found.
      return outputs['manifest'];
    case 'cost':
      return outputs['estimates'] ?? (await stepResult(client, step));
    case 'flux-batch':
      return outputs['script'] ?? (await stepResult(client, step));
    default:
      return stepResult(client, step);
  }
}

/** Why a step failed, in one line: the reason and the message. */
export function failureReason(step: AgentStep): string {
  const status = step.status ?? {};
  const last = status.history?.at(-1);
  const reason = status.reason ?? last?.reason ?? 'Failed';
  const message = status.message ?? last?.message ?? '';
  return message ? `${reason}: ${message.split('\n')[0]}` : reason;
}

/** The results document of a finished plan, read from its ConfigMap. */
export async function planResults(client: KubeClient, plan: AgentPlan): Promise<ResultsDocument> {
  const ref = plan.status?.resultsRef;
  const name = plan.metadata.name;
  if (!ref) {
    const phase = plan.status?.phase ?? 'Pending';
    throw new UserError(
      `AgentPlan ${name} has no results yet (phase ${phase}): results are written when the plan ends`,
    );
  }
  const cm = await client.find<ConfigMap>(RESOURCES.configMaps, plan.metadata.namespace, ref.name);
  if (!cm) throw new UserError(`the results ConfigMap ${ref.name} of AgentPlan ${name} is gone`);
  return decodeResults(cm);
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `<agent>-<application>-<5 random characters>`: readable, and a rerun never collides with the last. */
export function generateStepName(
  agent: string,
  application: string | undefined,
  random: () => number,
): string {
  const suffix = Array.from(
    { length: 5 },
    () => SUFFIX_ALPHABET[Math.floor(random() * SUFFIX_ALPHABET.length)],
  ).join('');
  const middle = application ? dnsName(application, 40) : '';
  return [agent, middle, suffix].filter(Boolean).join('-');
}

/** An image reference's short name: ghcr.io/me/lammps:1 → lammps. */
export const imageShortName = (image: string) => (image.split('/').at(-1) ?? image).replace(/[@:].*$/, '');
