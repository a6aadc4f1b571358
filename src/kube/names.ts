// Names, labels and owner references of the objects fractale creates for a step.
import { createHash } from 'node:crypto';
import { LABELS, MANAGED_BY } from '../api/names.ts';
import type { OwnerReference } from './client.ts';

/** The longest name a label value, a DNS label and most object names may have. */
export const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 10;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/**
 * Returns `<parent>-<suffix>`, shortened to fit 63 characters. Names are derived, never generated, so
 * that reconciling twice (or from a stale cache) finds the child it made instead of creating a second
 * one. Past the limit the parent is cut and a hash of the whole name is added, as knative's
 * kmeta.ChildName does, so two long parents never collide on the same child name.
 */
export function childName(parent: string, suffix: string): string {
  const full = suffix ? `${parent}-${suffix}` : parent;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const hash = shortHash(full);
  const tail = suffix ? `-${suffix}` : '';
  const room = MAX_NAME_LENGTH - HASH_LENGTH - tail.length - 1;
  if (room < 1) return hash;
  const head = parent.slice(0, room).replace(/[-.]+$/, '');
  return head ? `${head}-${hash}${tail}` : `${hash}${tail}`;
}

/** The AgentStep of a plan's step: `<plan>-<step>`. */
export const stepObjectName = (plan: string, step: string) => childName(plan, step);

/** The objects of one attempt (Kaniko Job, Dockerfile ConfigMap, run Job, MiniCluster): `<step>-<attempt>`. */
export const attemptName = (step: string, attempt: number) => childName(step, String(attempt));

/** A label value: at most 63 characters, alphanumeric at both ends. Long values keep a hash suffix. */
export function labelValue(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned.length <= MAX_NAME_LENGTH ? cleaned : childName(cleaned, '');
}

export interface StepLabelsInput {
  plan?: string;
  step: string;
  attempt: number;
  agent?: string;
}

/** The labels every object of a step's attempt carries, so informers and cleanup can select them. */
export function stepLabels(input: StepLabelsInput): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.step]: labelValue(input.step),
    [LABELS.attempt]: String(input.attempt),
  };
  if (input.plan) labels[LABELS.plan] = labelValue(input.plan);
  if (input.agent) labels[LABELS.agent] = labelValue(input.agent);
  return labels;
}

export type { OwnerReference };

export interface OwnerInput {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string };
}

/**
 * A controller owner reference to `owner`, so the garbage collector removes children with their
 * AgentStep and informers can map a child back to the step that made it.
 */
export function controllerReference(owner: OwnerInput): OwnerReference {
  const { name, uid } = owner.metadata;
  if (!name || !uid)
    throw new Error(`${owner.kind} has no name or uid yet; it must be read from the API first`);
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The artifact with what the operator names per attempt written the same for every attempt: a
 * manifest's object name `<step>-<attempt>` and its `fractale.dev/attempt` label. They differ between
 * any two attempts, and are not the model's change.
 */
export function withoutAttemptNames(artifact: string, stepRun: string, attempt: number): string {
  if (!stepRun) return artifact;
  return artifact
    .replace(new RegExp(`${escapeRegex(stepRun)}-${attempt}\\b`, 'g'), `${stepRun}-<attempt>`)
    .replace(/(fractale\.dev\/attempt:\s*)["']?\d+["']?/g, '$1"<attempt>"');
}
