// Shared by the packaging suites: renders the chart with the real helm, checks objects against the
// Kubernetes schemas (kubernetes-models), and turns RBAC rules into comparable grants.
import { join } from 'node:path';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import {
  chartDir,
  type HelmOptions,
  helmTemplate,
  type Manifest,
  parseManifests,
} from '../../scripts/render-config.ts';

export type { Manifest };
export { chartDir, helmTemplate, parseManifests };

export const kindValues = join(chartDir, 'values-kind.yaml');
export const gkeValues = join(chartDir, 'values-gke.yaml');

/** Renders the chart and parses the result. */
export function render(options: HelmOptions = {}): Manifest[] {
  return parseManifests(helmTemplate(options));
}

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  'apps/v1/Deployment': Deployment,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

/** Validates an object against its Kubernetes schema; throws naming the object when it does not fit. */
export function validateManifest(object: Manifest): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(object as never).validate();
  } catch (error) {
    throw new Error(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
  }
}

export const find = (objects: Manifest[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

export function only(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = find(objects, kind, name);
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

export type Rule = {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
};

/**
 * One permission: `scope` is `cluster` for a ClusterRole, else the Role's namespace; `names` is the
 * sorted resourceNames restriction, or `*` when the rule names none.
 */
export type Grant = { scope: string; group: string; resource: string; verb: string; names: string };

export function grantsOf(objects: Manifest[]): Grant[] {
  const grants: Grant[] = [];
  for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
    const scope = role.kind === 'ClusterRole' ? 'cluster' : (role.metadata.namespace ?? '?');
    for (const rule of (role['rules'] as Rule[] | undefined) ?? []) {
      if (rule.nonResourceURLs) throw new Error(`${role.metadata.name} grants non-resource URLs`);
      const names = rule.resourceNames?.length ? [...rule.resourceNames].sort().join(',') : '*';
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs) grants.push({ scope, group, resource, verb, names });
    }
  }
  return grants;
}

export const grantKey = (g: Grant) => `${g.scope} ${g.group || 'core'}/${g.resource} ${g.verb} [${g.names}]`;

/** Environment of the operator container as name → value (valueFrom entries as `from:<path>`). */
export function operatorEnv(objects: Manifest[]): Record<string, string> {
  const deployment = only(objects, 'Deployment') as unknown as {
    spec: { template: { spec: { containers: { name: string; env?: EnvVar[] }[] } } };
  };
  const container = deployment.spec.template.spec.containers.find((c) => c.name === 'operator');
  if (!container) throw new Error('no operator container');
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    env[e.name] = e.value ?? `from:${e.valueFrom?.fieldRef?.fieldPath ?? JSON.stringify(e.valueFrom)}`;
  }
  return env;
}
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
