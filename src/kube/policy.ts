// The policy every generated manifest is held to before anything is created. The model's YAML is
// untrusted input: it is parsed, held to the expected kind, stripped of host and credential access,
// given the step's identity (namespace, name, labels, owner, image) and bounded in time, then checked
// against the Kubernetes schema. A refusal comes with one paragraph the model can act on.
import * as models from '@kubernetes/client-node';
import { Ajv, type ValidateFunction } from 'ajv';
import { Job } from 'kubernetes-models/batch/v1';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { FLUX_VIEWS, MINICLUSTER_API_VERSION, MINICLUSTER_KIND } from '../agents/minicluster/views.ts';
import type { OwnerReference } from './names.ts';

export const EXPECTED = {
  Job: { apiVersion: 'batch/v1', kind: 'Job' },
  MiniCluster: { apiVersion: MINICLUSTER_API_VERSION, kind: MINICLUSTER_KIND },
} as const;
export type ManifestKind = keyof typeof EXPECTED;

/** The most retries a run may ask Kubernetes for: a failure is diagnosed, not rerun unchanged. */
export const MAX_BACKOFF_LIMIT = 1;
/** The largest manifest read; anything bigger is not a hand-written run. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

export interface ManifestPolicy {
  kind: ManifestKind;
  namespace: string;
  /** The deterministic name of the attempt's object. */
  name: string;
  /** The image the build produced (or the context named): the first container runs it. */
  image: string;
  labels: Readonly<Record<string, string>>;
  ownerReference?: OwnerReference;
  /** The run's time limit (the context's maxRuntime, or the operator's default). */
  activeDeadlineSeconds: number;
  noPull?: boolean;
  /** The one service account runs may use; unset means only the namespace's default. */
  serviceAccountName?: string;
  /** Secrets the user listed for this step; every other Secret reference is refused. */
  allowedSecrets?: readonly string[];
  maxBackoffLimit?: number;
  fluxViews?: readonly string[];
  /**
   * The MiniCluster CRD's openAPIV3Schema as installed in the cluster. When given, a MiniCluster is
   * checked against it, strictly: unknown fields are refused, as `kubectl apply --validate=strict` does.
   */
  miniclusterSchema?: Record<string, unknown>;
}

/** Why a manifest was refused, as a CamelCase reason for conditions and events. */
export type PolicyReason =
  | 'InvalidYAML'
  | 'NotOneDocument'
  | 'WrongKind'
  | 'TooLarge'
  | 'MissingContainer'
  | 'Sidecars'
  | 'Privileged'
  | 'HostNamespace'
  | 'HostPath'
  | 'AddedCapabilities'
  | 'ServiceAccount'
  | 'Secret'
  | 'SchemaInvalid';

export interface Violation {
  reason: PolicyReason;
  /** The field, as a dotted path (`spec.template.spec.hostNetwork`). */
  path: string;
  message: string;
}

export type PolicyResult =
  | { ok: true; object: Record<string, unknown>; changes: string[] }
  | { ok: false; reason: PolicyReason; explanation: string; violations: Violation[] };

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asObj = (value: unknown): Obj | undefined => (isObj(value) ? value : undefined);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const child = (parent: Obj, key: string): Obj => {
  if (!isObj(parent[key])) parent[key] = {};
  return parent[key] as Obj;
};
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/**
 * Holds a generated manifest to the policy. Returns the object to create and the list of fields the
 * policy changed (for the step's history), or the reason it was refused and an explanation for the
 * model. All violations are reported at once, so the next attempt can fix them together.
 */
export function applyManifestPolicy(text: string, policy: ManifestPolicy): PolicyResult {
  const expected = EXPECTED[policy.kind];
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    return refuse(policy, [
      {
        reason: 'TooLarge',
        path: '(manifest)',
        message: `the manifest is larger than ${MAX_MANIFEST_BYTES / 1024} KiB`,
      },
    ]);
  }
  const parsed = parseOne(text);
  if ('violation' in parsed) return refuse(policy, [parsed.violation]);
  const object = parsed.object;
  if (object['apiVersion'] !== expected.apiVersion || object['kind'] !== expected.kind) {
    return refuse(policy, [
      {
        reason: 'WrongKind',
        path: 'kind',
        message: `it is a ${show(object['kind'])} of apiVersion ${show(object['apiVersion'])}, not a ${expected.kind} of apiVersion ${expected.apiVersion}`,
      },
    ]);
  }
  const changes: string[] = [];
  const violations =
    policy.kind === 'Job' ? jobPolicy(object, policy, changes) : miniclusterPolicy(object, policy, changes);
  if (violations.length > 0) return refuse(policy, violations);
  forceMetadata(object, policy, changes);
  const schema =
    policy.kind === 'Job' ? validateJob(object) : validateMiniCluster(object, policy.miniclusterSchema);
  if (schema.length > 0) return refuse(policy, schema);
  return { ok: true, object, changes };
}

function parseOne(text: string): { object: Obj } | { violation: Violation } {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) {
    return {
      violation: {
        reason: 'NotOneDocument',
        path: '(manifest)',
        message: 'the answer holds no YAML document',
      },
    };
  }
  for (const document of documents) {
    const error = document.errors[0];
    if (error) {
      return {
        violation: {
          reason: 'InvalidYAML',
          path: '(manifest)',
          message: `the YAML does not parse: ${error.message.split('\n')[0]}`,
        },
      };
    }
  }
  const nonEmpty = documents.filter((d) => d.contents !== null);
  if (nonEmpty.length !== 1) {
    return {
      violation: {
        reason: 'NotOneDocument',
        path: '(manifest)',
        message:
          nonEmpty.length === 0
            ? 'the answer holds no YAML document'
            : `it holds ${nonEmpty.length} YAML documents, not one`,
      },
    };
  }
  let value: unknown;
  try {
    value = nonEmpty[0]!.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return {
      violation: {
        reason: 'InvalidYAML',
        path: '(manifest)',
        message: `the YAML does not parse: ${(error as Error).message}`,
      },
    };
  }
  if (!isObj(value)) {
    return {
      violation: {
        reason: 'InvalidYAML',
        path: '(manifest)',
        message: 'the document is not a mapping of fields',
      },
    };
  }
  return { object: value };
}

function refuse(policy: ManifestPolicy, violations: Violation[]): PolicyResult {
  const kind = EXPECTED[policy.kind].kind;
  const listed = violations
    .map((v) => (v.path.startsWith('(') ? v.message : `${v.path}: ${v.message}`))
    .join('; ');
  const hint =
    violations[0]!.reason === 'SchemaInvalid'
      ? `Fix these fields so the ${kind} matches the Kubernetes schema.`
      : `Write exactly one ${kind} (apiVersion ${EXPECTED[policy.kind].apiVersion}) without these fields; the operator sets the namespace, name, labels, image, service account and time limit itself, and refuses privileged or host access and Secrets the user did not list.`;
  return {
    ok: false,
    reason: violations[0]!.reason,
    violations,
    explanation: `The ${kind} was not created because ${listed}. ${hint}`,
  };
}

/** Checks shared by the containers of a Job's pod and of a MiniCluster (and its flux view). */
function containerViolations(container: Obj, path: string): Violation[] {
  const out: Violation[] = [];
  const security = asObj(container['securityContext']);
  if (!security) return out;
  if (security['privileged'] === true) {
    out.push({
      reason: 'Privileged',
      path: `${path}.securityContext.privileged`,
      message: 'privileged containers are not allowed',
    });
  }
  if (security['allowPrivilegeEscalation'] === true) {
    out.push({
      reason: 'Privileged',
      path: `${path}.securityContext.allowPrivilegeEscalation`,
      message: 'privilege escalation is not allowed',
    });
  }
  const added = asArray(asObj(security['capabilities'])?.['add']);
  if (added.length > 0) {
    out.push({
      reason: 'AddedCapabilities',
      path: `${path}.securityContext.capabilities.add`,
      message: `adding capabilities (${added.map(String).join(', ')}) is not allowed`,
    });
  }
  return out;
}

function secretViolation(name: unknown, path: string, policy: ManifestPolicy): Violation[] {
  if (typeof name !== 'string' || (policy.allowedSecrets ?? []).includes(name)) return [];
  return [{ reason: 'Secret', path, message: `Secret ${show(name)} was not listed by the user` }];
}

function serviceAccountViolation(value: unknown, path: string, policy: ManifestPolicy): Violation[] {
  if (value === undefined || value === null || value === '') return [];
  const allowed = policy.serviceAccountName ?? 'default';
  if (value === allowed) return [];
  return [{ reason: 'ServiceAccount', path, message: `service account ${show(value)} is not allowed` }];
}

function jobPolicy(job: Obj, policy: ManifestPolicy, changes: string[]): Violation[] {
  const spec = asObj(job['spec']);
  const template = asObj(spec?.['template']);
  const pod = asObj(template?.['spec']);
  const containers = asArray(pod?.['containers']);
  if (!spec || !template || !pod || containers.length === 0 || !isObj(containers[0])) {
    return [
      {
        reason: 'MissingContainer',
        path: 'spec.template.spec.containers',
        message: 'the Job has no container',
      },
    ];
  }
  const base = 'spec.template.spec';
  const out: Violation[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[field] === true) {
      out.push({
        reason: 'HostNamespace',
        path: `${base}.${field}`,
        message: 'host namespaces are not allowed',
      });
    }
  }
  out.push(...serviceAccountViolation(pod['serviceAccountName'], `${base}.serviceAccountName`, policy));
  out.push(...serviceAccountViolation(pod['serviceAccount'], `${base}.serviceAccount`, policy));
  asArray(pod['volumes']).forEach((volume, i) => {
    const v = asObj(volume) ?? {};
    if (v['hostPath'] !== undefined) {
      out.push({
        reason: 'HostPath',
        path: `${base}.volumes[${i}].hostPath`,
        message: 'hostPath volumes are not allowed',
      });
    }
    out.push(...secretViolation(asObj(v['secret'])?.['secretName'], `${base}.volumes[${i}].secret`, policy));
    asArray(asObj(v['projected'])?.['sources']).forEach((source, j) => {
      out.push(
        ...secretViolation(
          asObj(asObj(source)?.['secret'])?.['name'],
          `${base}.volumes[${i}].projected.sources[${j}].secret`,
          policy,
        ),
      );
    });
  });
  asArray(pod['imagePullSecrets']).forEach((ref, i) => {
    out.push(...secretViolation(asObj(ref)?.['name'], `${base}.imagePullSecrets[${i}]`, policy));
  });
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    asArray(pod[list]).forEach((item, i) => {
      const container = asObj(item) ?? {};
      const path = `${base}.${list}[${i}]`;
      out.push(...containerViolations(container, path));
      asArray(container['env']).forEach((env, j) => {
        const ref = asObj(asObj(asObj(env)?.['valueFrom'])?.['secretKeyRef']);
        if (ref)
          out.push(...secretViolation(ref['name'], `${path}.env[${j}].valueFrom.secretKeyRef`, policy));
      });
      asArray(container['envFrom']).forEach((source, j) => {
        const ref = asObj(asObj(source)?.['secretRef']);
        if (ref) out.push(...secretViolation(ref['name'], `${path}.envFrom[${j}].secretRef`, policy));
      });
    });
  }
  if (out.length > 0) return out;

  // Forced fields.
  const first = containers[0] as Obj;
  forceImage(first, policy, `${base}.containers[0]`, changes);
  set(pod, 'restartPolicy', 'Never', `${base}.restartPolicy`, changes);
  if (policy.serviceAccountName)
    set(pod, 'serviceAccountName', policy.serviceAccountName, `${base}.serviceAccountName`, changes);
  if (pod['serviceAccount'] !== undefined) remove(pod, 'serviceAccount', `${base}.serviceAccount`, changes);
  capBackoff(spec, policy, 'spec.backoffLimit', changes);
  set(spec, 'activeDeadlineSeconds', policy.activeDeadlineSeconds, 'spec.activeDeadlineSeconds', changes);
  // A hand-written selector could adopt pods that are not this run's; suspend would never start it;
  // a TTL could delete the Job before its diagnostics are read (the owner reference cleans it up).
  for (const field of ['selector', 'manualSelector', 'suspend', 'ttlSecondsAfterFinished'] as const) {
    if (spec[field] !== undefined) remove(spec, field, `spec.${field}`, changes);
  }
  mergeLabels(child(template, 'metadata'), policy.labels, 'spec.template.metadata.labels', changes);
  return [];
}

function miniclusterPolicy(cluster: Obj, policy: ManifestPolicy, changes: string[]): Violation[] {
  const spec = asObj(cluster['spec']);
  const containers = asArray(spec?.['containers']);
  if (!spec || containers.length === 0 || !isObj(containers[0])) {
    return [
      { reason: 'MissingContainer', path: 'spec.containers', message: 'the MiniCluster has no container' },
    ];
  }
  const out: Violation[] = [];
  if (containers.length > 1) {
    out.push({
      reason: 'Sidecars',
      path: 'spec.containers',
      message: `it has ${containers.length} containers; exactly one is allowed`,
    });
  }
  if (asArray(spec['services']).length > 0) {
    out.push({ reason: 'Sidecars', path: 'spec.services', message: 'service containers are not allowed' });
  }
  const pod = asObj(spec['pod']);
  for (const field of ['hostPID', 'hostIPC', 'hostNetwork'] as const) {
    if (pod?.[field] === true) {
      out.push({
        reason: 'HostNamespace',
        path: `spec.pod.${field}`,
        message: 'host namespaces are not allowed',
      });
    }
  }
  out.push(...serviceAccountViolation(pod?.['serviceAccountName'], 'spec.pod.serviceAccountName', policy));
  const flux = asObj(spec['flux']);
  const view = asObj(flux?.['container']);
  out.push(...secretViolation(flux?.['mungeSecret'], 'spec.flux.mungeSecret', policy));
  if (view) {
    out.push(...containerViolations(view, 'spec.flux.container'));
    out.push(...secretViolation(view['imagePullSecret'], 'spec.flux.container.imagePullSecret', policy));
  }
  containers.forEach((item, i) => {
    const container = asObj(item) ?? {};
    const path = `spec.containers[${i}]`;
    out.push(...containerViolations(container, path));
    out.push(...secretViolation(container['imagePullSecret'], `${path}.imagePullSecret`, policy));
    for (const [key, secret] of Object.entries(asObj(container['secrets']) ?? {})) {
      out.push(...secretViolation(asObj(secret)?.['name'], `${path}.secrets.${key}`, policy));
    }
    for (const [key, volume] of Object.entries(asObj(container['volumes']) ?? {})) {
      const v = asObj(volume) ?? {};
      if (v['hostPath'] !== undefined) {
        out.push({
          reason: 'HostPath',
          path: `${path}.volumes.${key}.hostPath`,
          message: 'hostPath volumes are not allowed',
        });
      }
      out.push(...secretViolation(v['secretName'], `${path}.volumes.${key}.secretName`, policy));
    }
  });
  if (out.length > 0) return out;

  // Forced fields.
  const first = containers[0] as Obj;
  forceImage(first, policy, 'spec.containers[0]', changes);
  if (policy.noPull) set(first, 'pullAlways', false, 'spec.containers[0].pullAlways', changes);
  set(first, 'launcher', false, 'spec.containers[0].launcher', changes);
  set(child(spec, 'logging'), 'strict', true, 'spec.logging.strict', changes);
  if (spec['interactive'] !== undefined) set(spec, 'interactive', false, 'spec.interactive', changes);
  // Cleanup would delete the pods, and their logs, before the run is diagnosed.
  if (spec['cleanup'] !== undefined) set(spec, 'cleanup', false, 'spec.cleanup', changes);
  set(spec, 'deadlineSeconds', policy.activeDeadlineSeconds, 'spec.deadlineSeconds', changes);
  capBackoff(spec, policy, 'spec.backoffLimit', changes);
  if (policy.serviceAccountName) {
    set(
      child(spec, 'pod'),
      'serviceAccountName',
      policy.serviceAccountName,
      'spec.pod.serviceAccountName',
      changes,
    );
  }
  const views = policy.fluxViews ?? FLUX_VIEWS;
  if (view && view['image'] !== undefined && !views.includes(view['image'] as string)) {
    // As the seed does: an unknown view is dropped, so the operator's default view runs instead.
    changes.push(
      `spec.flux.container.image: ${show(view['image'])} is not a known flux view; removed (known: ${views.join(', ')})`,
    );
    delete view['image'];
  }
  mergeLabels(child(spec, 'pod'), policy.labels, 'spec.pod.labels', changes);
  const jobLabels = child(spec, 'jobLabels');
  for (const [key, value] of Object.entries(policy.labels)) jobLabels[key] = value;
  return [];
}

function forceImage(container: Obj, policy: ManifestPolicy, path: string, changes: string[]) {
  set(container, 'image', policy.image, `${path}.image`, changes);
  if (policy.noPull) set(container, 'imagePullPolicy', 'Never', `${path}.imagePullPolicy`, changes);
}

function capBackoff(spec: Obj, policy: ManifestPolicy, path: string, changes: string[]) {
  const max = policy.maxBackoffLimit ?? MAX_BACKOFF_LIMIT;
  const value = spec['backoffLimit'];
  if (typeof value !== 'number' || value > max || value < 0) set(spec, 'backoffLimit', max, path, changes);
}

function set(target: Obj, key: string, value: unknown, path: string, changes: string[]) {
  const before = target[key];
  if (before === value) return;
  target[key] = value;
  changes.push(
    before === undefined ? `${path}: set to ${show(value)}` : `${path}: ${show(before)} -> ${show(value)}`,
  );
}

function remove(target: Obj, key: string, path: string, changes: string[]) {
  changes.push(`${path}: ${show(target[key])} removed`);
  delete target[key];
}

function mergeLabels(target: Obj, labels: Readonly<Record<string, string>>, path: string, changes: string[]) {
  const current = asObj(target['labels']) ?? {};
  for (const key of Object.keys(labels)) {
    if (current[key] !== undefined && current[key] !== labels[key]) changes.push(`${path}.${key}: replaced`);
  }
  target['labels'] = { ...current, ...labels };
}

function forceMetadata(object: Obj, policy: ManifestPolicy, changes: string[]) {
  const metadata = child(object, 'metadata');
  set(metadata, 'name', policy.name, 'metadata.name', changes);
  set(metadata, 'namespace', policy.namespace, 'metadata.namespace', changes);
  if (metadata['generateName'] !== undefined)
    remove(metadata, 'generateName', 'metadata.generateName', changes);
  mergeLabels(metadata, policy.labels, 'metadata.labels', changes);
  if (policy.ownerReference) metadata['ownerReferences'] = [{ ...policy.ownerReference }];
  else if (metadata['ownerReferences'] !== undefined)
    remove(metadata, 'ownerReferences', 'metadata.ownerReferences', changes);
  for (const field of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'managedFields',
    'finalizers',
  ] as const) {
    if (metadata[field] !== undefined) remove(metadata, field, `metadata.${field}`, changes);
  }
  if (object['status'] !== undefined) remove(object, 'status', 'status', changes);
}

/**
 * The Job against the Kubernetes OpenAPI schema (kubernetes-models), plus a strict check for fields
 * Kubernetes does not know: the API server would drop them silently (a misspelt `command` runs the
 * image's default), so the model is told instead.
 */
function validateJob(object: Obj): Violation[] {
  const unknown: Violation[] = [];
  unknownFields(object, 'V1Job', '', unknown);
  if (unknown.length > 0) return unknown.slice(0, 8);
  try {
    new Job(structuredClone(object) as never).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (!errors?.length)
      return [{ reason: 'SchemaInvalid', path: '(manifest)', message: (error as Error).message }];
    return errors.slice(0, 8).map((e) => ({
      reason: 'SchemaInvalid' as const,
      path:
        (e.instancePath ?? '')
          .replace(/^\//, '')
          .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
          .replace(/\//g, '.') || '(root)',
      message: e.message ?? 'is invalid',
    }));
  }
}

// The fields of a MiniCluster that the operator and the Flux Operator rely on, typed as the CRD types
// them. The API server checks the rest against the installed CRD when the object is created.
const miniclusterShape = z.looseObject({
  spec: z.looseObject({
    size: z.int().min(1).optional(),
    tasks: z.int().min(1).optional(),
    containers: z.array(
      z.looseObject({
        image: z.string(),
        command: z.string().optional(),
        workingDir: z.string().optional(),
        environment: z.record(z.string(), z.string()).optional(),
        commands: z.record(z.string(), z.string()).optional(),
      }),
    ),
  }),
});

function validateMiniCluster(object: Obj, crdSchema: Record<string, unknown> | undefined): Violation[] {
  const result = miniclusterShape.safeParse(object);
  if (!result.success) {
    return result.error.issues.slice(0, 8).map((issue) => ({
      reason: 'SchemaInvalid' as const,
      path:
        issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '') || '(root)',
      message: issue.message,
    }));
  }
  if (!crdSchema) return [];
  const validate = crdValidator(crdSchema);
  if (validate(object)) return [];
  return (validate.errors ?? []).slice(0, 8).map((e) => {
    const path = pointerToPath(e.instancePath);
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return extra
      ? {
          reason: 'SchemaInvalid' as const,
          path: path === '(root)' ? extra : `${path}.${extra}`,
          message: 'is not a field of the MiniCluster',
        }
      : { reason: 'SchemaInvalid' as const, path, message: e.message ?? 'is invalid' };
  });
}

const pointerToPath = (pointer: string) =>
  pointer
    .replace(/^\//, '')
    .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
    .replace(/\//g, '.') || '(root)';

type Schema = Record<string, unknown>;

/** The CRD schema made strict: objects with listed properties refuse others, unless marked to keep them. */
function strictSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties' && isObj(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, isObj(v) ? strictSchema(v) : v]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isObj(value)) {
      out[key] = strictSchema(value);
    } else if ((key === 'anyOf' || key === 'allOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((v) => (isObj(v) ? strictSchema(v) : v));
    } else {
      out[key] = value;
    }
  }
  if (
    out['properties'] &&
    !schema['x-kubernetes-preserve-unknown-fields'] &&
    !('additionalProperties' in out)
  ) {
    out['additionalProperties'] = false;
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validators = new WeakMap<Schema, ValidateFunction>();

function crdValidator(schema: Schema): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    // metadata is the API server's to validate, and the policy has already set it.
    const properties = { ...(asObj(schema['properties']) ?? {}), metadata: { type: 'object' } };
    validate = ajv.compile(strictSchema({ ...schema, properties }));
    validators.set(schema, validate);
  }
  return validate;
}

interface Model {
  getAttributeTypeMap(): { baseName: string; type: string }[];
}

/** The client-node model class of a type name (V1Job, V1PodSpec, ...), whose attribute map lists its fields. */
function modelOf(type: string): Model | undefined {
  const candidate = (models as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as Model)
    : undefined;
}

function unknownFields(value: unknown, type: string, path: string, out: Violation[]) {
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        unknownFields(item, list[1]!, `${path}[${i}]`, out);
      });
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObj(value))
      for (const [key, item] of Object.entries(value)) unknownFields(item, map[1]!, `${path}.${key}`, out);
    return;
  }
  const model = modelOf(type);
  if (!model || !isObj(value)) return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const fieldPath = path ? `${path}.${key}` : key;
    const fieldType = fields.get(key);
    if (fieldType === undefined)
      out.push({ reason: 'SchemaInvalid', path: fieldPath, message: 'is not a field of the Job' });
    else unknownFields(item, fieldType, fieldPath, out);
  }
}
