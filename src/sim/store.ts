/**
 * The simulated API server's storage and semantics: one global resourceVersion, optimistic
 * concurrency, validation (built-in strategies, CRD schemas and CEL rules), the status subresource,
 * finalizers, owner-reference garbage collection and resumable watches. Writes are synchronous and
 * watch listeners run synchronously after each write, in order.
 */
import { randomUUID } from 'node:crypto';
import { admit as admitPodSecurity, namespacePolicy } from './pod-security.ts';
import {
  builtinTypes,
  prepareBuiltinCreate,
  prepareBuiltinUpdate,
  validateBuiltin,
  validateBuiltinUpdate,
} from './server/builtins.ts';
import { versionSchemaErrors } from './server/crd-schema.ts';
import { applyOwnership } from './server/managed-fields.ts';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './server/patch.ts';
import { applyDefaults, type FieldCause, type JSONSchema, prune, validate } from './server/schema.ts';
import {
  type FieldRequirement,
  type LabelRequirement,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from './server/selectors.ts';
import {
  apiVersionOf,
  type KubeObject,
  type PrinterColumn,
  qualifiedResource,
  type ResourceType,
} from './server/types.ts';

export type { KubeObject, ObjectMeta, OwnerReference, PrinterColumn, ResourceType } from './server/types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent {
  type: WatchEventType;
  /** The stored object: read-only (frozen); clone it before changing it. */
  object: KubeObject;
}

/** A resource is named by "group/version/plural" ("batch/v1/jobs") or "v1/pods" for the core group. */
export type ResourceName = string;

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: FieldCause[] };
  code: number;
}

/** An API error carrying the Status body the real server would send. */
export class StatusError extends Error {
  code: number;
  reason: string;
  status: StatusBody;
  constructor(code: number, reason: string, message: string, details?: StatusBody['details']) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    };
    if (details) this.status.details = details;
  }
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  /** How unknown fields are treated: Strict fails with 400, Warn adds warnings, Ignore drops them. */
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  /** Filled with the warnings the server would send in `Warning` headers. */
  warnings?: string[];
  /** Validate and return the result without storing it. */
  dryRun?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface WatchOptions {
  namespace?: string;
  /** Unset: changes after now. "0": synthetic ADDED for every current object, then changes. N: changes after N. */
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

interface LoggedEvent {
  rv: number;
  storage: string;
  type: WatchEventType;
  object: KubeObject;
  old: KubeObject | undefined;
}

interface Watcher {
  storage: string;
  namespace: string | undefined;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  listener: (event: WatchEvent) => void;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SERVER_SET_METADATA = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'selfLink',
];

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Everything but metadata and status: what a generation counts. */
function specOf(o: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return JSON.stringify(rest);
}

function sameExceptVersion(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) =>
    JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}

export function notFound(type: ResourceType, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

export function conflict(type: ResourceType, name: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.plural },
  );
}

export function invalid(type: ResourceType, name: string, causes: FieldCause[]): StatusError {
  const qualifiedKind = type.group === '' ? type.kind : `${type.kind}.${type.group}`;
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, {
    name,
    group: type.group,
    kind: type.kind,
    causes,
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function unsupportedPatch(): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
  );
}

/** The simulated cluster's CA bundle: a placeholder (the sim serves plain HTTP). */
const SIM_ROOT_CA =
  '-----BEGIN CERTIFICATE-----\nfractale simulated cluster: no TLS\n-----END CERTIFICATE-----\n';

export class Store {
  private readonly clock: () => Date;
  private readonly watchWindow: number;
  private readonly types = new Map<string, ResourceType>();
  /** Objects by storage key ("group/plural", shared by a CRD's versions), then by "namespace/name". */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  /** Recent events per storage key, as the watch cache keeps them per resource. */
  private readonly history = new Map<string, { events: LoggedEvent[]; droppedThrough: number }>();
  private rv = 0;
  private gcScheduled = false;
  private readonly goneOwners: string[] = [];
  private readonly settledWaiters: (() => void)[] = [];
  private readonly pending: LoggedEvent[] = [];
  private dispatching = false;

  constructor(options: { clock?: () => Date; watchWindow?: number } = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.watchWindow = options.watchWindow ?? 5000;
    for (const t of builtinTypes()) this.types.set(t.name, t);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.create('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  }

  /** The current (global) resourceVersion. */
  resourceVersion(): string {
    return String(this.rv);
  }

  /** The store clock's time as object timestamps are written (RFC 3339, seconds). */
  now(): string {
    return this.clock()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  /** Every resource type the store serves now (built-ins plus established CRDs). */
  resources(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Finds a type by plural, singular, short name or kind (case-insensitive), optionally in one group. */
  resolve(nameOrKind: string, group?: string): ResourceType | undefined {
    const n = nameOrKind.toLowerCase();
    const candidates = this.resources().filter((t) => group === undefined || t.group === group);
    return (
      candidates.find((t) => t.plural === n) ??
      candidates.find((t) => t.singular === n) ??
      candidates.find((t) => t.shortNames.includes(n)) ??
      candidates.find((t) => t.kind.toLowerCase() === n)
    );
  }

  /** The type served as `resource`, or a 404 Status like the real server's for an unknown path. */
  type(resource: ResourceName): ResourceType {
    const t = this.types.get(resource);
    if (!t) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    return t;
  }

  private storageKey(t: ResourceType): string {
    return `${t.group}/${t.plural}`;
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    const key = this.storageKey(t);
    let b = this.objects.get(key);
    if (!b) {
      b = new Map();
      this.objects.set(key, b);
    }
    return b;
  }

  private keyOf(t: ResourceType, namespace: string | undefined, name: string): string {
    return t.namespaced ? `${namespace ?? ''}/${name}` : name;
  }

  /** The stored (frozen) object, without copying. */
  getRaw(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    const t = this.type(resource);
    return this.bucket(t).get(this.keyOf(t, namespace, name));
  }

  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.getRaw(resource, namespace, name);
    return o ? structuredClone(o) : undefined;
  }

  /** Stored (frozen) objects matching the selectors, ordered by namespace and name. */
  listRaw(
    resource: ResourceName,
    namespace?: string,
    options: { labelSelector?: string; fieldSelector?: string } = {},
  ): { items: KubeObject[]; resourceVersion: string } {
    const t = this.type(resource);
    const labels = this.parseLabels(options.labelSelector);
    const fields = this.parseFields(t, options.fieldSelector);
    const items: KubeObject[] = [];
    for (const o of this.bucket(t).values()) {
      if (t.namespaced && namespace && o.metadata.namespace !== namespace) continue;
      if (!matchesLabels(labels, o.metadata.labels) || !matchesFields(fields, o)) continue;
      items.push(o);
    }
    items.sort((a, b) => this.sortKey(a).localeCompare(this.sortKey(b)));
    return { items, resourceVersion: String(this.rv) };
  }

  list(
    resource: ResourceName,
    namespace?: string,
    options: { labelSelector?: string; fieldSelector?: string } = {},
  ): { items: KubeObject[]; resourceVersion: string } {
    const result = this.listRaw(resource, namespace, options);
    return { items: result.items.map((o) => structuredClone(o)), resourceVersion: result.resourceVersion };
  }

  private sortKey(o: KubeObject): string {
    return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  }

  private parseLabels(selector: string | undefined): LabelRequirement[] {
    try {
      return parseLabelSelector(selector);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
  }

  private parseFields(t: ResourceType, selector: string | undefined): FieldRequirement[] {
    let fields: FieldRequirement[];
    try {
      fields = parseFieldSelector(selector);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
    const allowed = new Set(['metadata.name', 'metadata.namespace', ...t.selectableFields]);
    for (const f of fields) {
      if (!allowed.has(f.key)) {
        throw badRequest(`field label not supported: ${f.key}`);
      }
    }
    return fields;
  }

  // ---- create ----

  create(resource: ResourceName, object: KubeObject, options: WriteOptions = {}): KubeObject {
    const t = this.type(resource);
    const o = this.decode(t, object, options);
    const meta = o.metadata;
    for (const key of SERVER_SET_METADATA) delete meta[key];
    if (t.namespaced) {
      meta.namespace ||= 'default';
      this.checkNamespaceOpen(t, meta.namespace, meta.name ?? meta.generateName ?? '');
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = this.generateName(t, meta.namespace, meta.generateName);
    const name = meta.name ?? '';
    meta.uid = randomUUID();
    meta.creationTimestamp = this.now();
    if (t.generation) meta.generation = 1;
    if (t.crd) {
      // The status subresource makes create ignore status.
      if (t.subresources.includes('status')) delete o['status'];
      applyDefaults(o, t.schema);
    } else {
      prepareBuiltinCreate(t, o);
    }
    if (t.kind === 'CustomResourceDefinition') this.prepareCrd(o);
    const causes = [...this.validateMeta(t, o), ...this.validateBody(t, o, undefined)];
    if (causes.length > 0) throw invalid(t, name, causes);
    this.podSecurity(t, o, name, options);
    const bucket = this.bucket(t);
    const key = this.keyOf(t, meta.namespace, name);
    if (bucket.has(key)) {
      throw new StatusError(409, 'AlreadyExists', `${qualifiedResource(t)} "${name}" already exists`, {
        name,
        group: t.group,
        kind: t.plural,
      });
    }
    if (options.dryRun) return o;
    meta.resourceVersion = String(++this.rv);
    const stored = deepFreeze(o);
    bucket.set(key, stored);
    if (t.kind === 'CustomResourceDefinition') this.registerCrd(stored);
    this.emit(t, 'ADDED', stored, undefined);
    if (t.kind === 'Namespace' && t.group === '') this.publishRootCa(name);
    return structuredClone(stored);
  }

  /**
   * The PodSecurity admission plugin on create (pod-security.ts): a Namespace's pod-security labels
   * must parse; a Pod that violates its namespace's enforce level is refused; a Pod or an object with
   * a pod template that violates the warn level gets a warning.
   */
  private podSecurity(t: ResourceType, o: KubeObject, name: string, options: WriteOptions): void {
    if (t.crd) return;
    if (t.group === '' && t.kind === 'Namespace') {
      const { errors } = namespacePolicy(o.metadata.labels);
      if (errors.length > 0) {
        throw invalid(
          t,
          name,
          errors.map((e) => ({
            reason: 'FieldValueInvalid',
            field: e.field,
            message: `Invalid value: ${JSON.stringify(e.value)}: ${e.message}`,
          })),
        );
      }
      return;
    }
    if (!t.namespaced) return;
    const namespace = this.objects.get('/namespaces')?.get(o.metadata.namespace ?? '');
    const result = admitPodSecurity(t.kind, o, namespace?.metadata.labels);
    if (!result.allowed) {
      throw new StatusError(
        403,
        'Forbidden',
        `${qualifiedResource(t)} "${name}" is forbidden: ${result.message}`,
        {
          name,
          group: t.group,
          kind: t.plural,
        },
      );
    }
    options.warnings?.push(...result.warnings);
  }

  /**
   * What kube-controller-manager's root-ca-certificate-publisher does: every namespace holds a
   * `kube-root-ca.crt` ConfigMap (clients listing a "fresh" namespace's ConfigMaps see it). The
   * sim serves plain HTTP, so the bundle is a placeholder.
   */
  private publishRootCa(namespace: string): void {
    this.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'kube-root-ca.crt',
        namespace,
        annotations: {
          'kubernetes.io/description':
            'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
        },
      },
      data: { 'ca.crt': SIM_ROOT_CA },
    });
  }

  private generateName(t: ResourceType, namespace: string | undefined, prefix: string): string {
    const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
    for (;;) {
      let suffix = '';
      for (let i = 0; i < 5; i++)
        suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      const candidate = base + suffix;
      if (!this.bucket(t).has(this.keyOf(t, namespace, candidate))) return candidate;
    }
  }

  private checkNamespaceOpen(t: ResourceType, namespace: string, name: string): void {
    const ns = this.objects.get('/namespaces')?.get(namespace);
    if (!ns) {
      throw new StatusError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
    if (ns.metadata.deletionTimestamp) {
      throw new StatusError(
        403,
        'Forbidden',
        `${qualifiedResource(t)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { name, group: t.group, kind: t.plural },
      );
    }
  }

  /**
   * Copies the object, checks apiVersion/kind, and drops unknown fields (pruning) as decoding does;
   * Strict field validation turns unknown fields into the real server's 400.
   */
  private decode(t: ResourceType, object: KubeObject, options: WriteOptions): KubeObject {
    if (!isRecord(object)) throw badRequest('the object provided is not an object');
    const o = structuredClone(object) as KubeObject;
    const expected = apiVersionOf(t);
    if (o.apiVersion !== undefined && o.apiVersion !== expected) {
      throw badRequest(
        `the API version in the data (${o.apiVersion}) does not match the expected API version (${expected})`,
      );
    }
    if (o.kind !== undefined && o.kind !== t.kind) {
      throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${t.kind})`);
    }
    o.apiVersion = expected;
    o.kind = t.kind;
    if (!isRecord(o.metadata)) o.metadata = {};
    const unknown = prune(o, t.schema);
    if (unknown.length > 0) {
      const list = unknown.map((p) => `unknown field "${p}"`);
      if (options.fieldValidation === 'Strict') {
        throw badRequest(
          `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${list.join(', ')}`,
        );
      }
      if (options.fieldValidation === 'Warn') options.warnings?.push(...list);
    }
    return o;
  }

  private validateMeta(t: ResourceType, o: KubeObject): FieldCause[] {
    const causes: FieldCause[] = [];
    const name = o.metadata.name;
    if (!name) {
      causes.push({
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      });
    } else if (t.kind === 'Namespace' || (t.kind === 'Service' && !DNS_LABEL.test(name))) {
      if (!DNS_LABEL.test(name) || name.length > 63) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'metadata.name',
          message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        });
      }
    } else if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      });
    }
    for (const [key, value] of Object.entries(o.metadata.labels ?? {})) {
      if (
        typeof value !== 'string' ||
        value.length > 63 ||
        !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)
      ) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'metadata.labels',
          message: `Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        });
      }
      if (
        !/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(
          key,
        )
      ) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'metadata.labels',
          message: `Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        });
      }
    }
    return causes;
  }

  private validateBody(t: ResourceType, o: KubeObject, old: KubeObject | undefined): FieldCause[] {
    if (t.crd) return validate(o, t.schema, '', old);
    if (t.kind === 'CustomResourceDefinition') return this.validateCrd(o);
    return validateBuiltin(t, o);
  }

  // ---- update ----

  update(resource: ResourceName, object: KubeObject, options: WriteOptions = {}): KubeObject {
    const t = this.type(resource);
    const namespace = t.namespaced ? object?.metadata?.namespace || 'default' : undefined;
    const name = object?.metadata?.name ?? '';
    const old = this.bucket(t).get(this.keyOf(t, namespace, name));
    if (!old) throw notFound(t, name);
    const o = this.decode(t, object, options);
    this.checkVersion(t, o, old);
    this.keepServerMetadata(o, old);
    if (t.subresources.includes('status')) {
      if (old['status'] === undefined) delete o['status'];
      else o['status'] = structuredClone(old['status']);
    }
    if (t.crd) applyDefaults(o, t.schema);
    else prepareBuiltinUpdate(t, o);
    if (t.kind === 'CustomResourceDefinition') this.prepareCrd(o);
    const causes = [
      ...this.validateMeta(t, o),
      ...this.validateBody(t, o, old),
      ...(t.crd ? [] : validateBuiltinUpdate(t, o, old)),
    ];
    if (causes.length > 0) throw invalid(t, name, causes);
    if (t.generation && specOf(o) !== specOf(old)) o.metadata.generation = (old.metadata.generation ?? 0) + 1;
    return this.commitUpdate(t, o, old, options);
  }

  updateStatus(resource: ResourceName, object: KubeObject, options: WriteOptions = {}): KubeObject {
    const t = this.type(resource);
    if (!t.subresources.includes('status'))
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
    const namespace = t.namespaced ? object?.metadata?.namespace || 'default' : undefined;
    const name = object?.metadata?.name ?? '';
    const old = this.bucket(t).get(this.keyOf(t, namespace, name));
    if (!old) throw notFound(t, name);
    const incoming = this.decode(t, object, options);
    this.checkVersion(t, incoming, old);
    const o = structuredClone(old) as KubeObject;
    if (incoming['status'] === undefined) delete o['status'];
    else o['status'] = incoming['status'];
    if (t.crd) applyDefaults(o, t.schema);
    const causes = t.crd
      ? validate(o, t.schema, '', old).filter(
          (c) => c.field === 'status' || c.field.startsWith('status.') || c.field.startsWith('status['),
        )
      : [];
    if (causes.length > 0) throw invalid(t, name, causes);
    return this.commitUpdate(t, o, old, options);
  }

  /**
   * `POST pods/{name}/binding`, the scheduler's verb: sets `spec.nodeName` and the PodScheduled
   * condition at once. Refused as the real server does: a pod already bound or being deleted is a
   * Conflict on `pods/binding`; a uid or resourceVersion precondition must match.
   */
  bindPod(namespace: string, binding: KubeObject): KubeObject {
    const t = this.type('v1/pods');
    const name = binding.metadata?.name ?? '';
    const target = (binding['target'] ?? {}) as { kind?: string; name?: string };
    const causes: FieldCause[] = [];
    if (target.kind && target.kind !== 'Node')
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'target.kind',
        message: `Unsupported value: "${target.kind}": supported values: "Node", "<empty>"`,
      });
    if (!target.name)
      causes.push({ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' });
    if (causes.length > 0) throw invalid({ group: '', kind: 'Binding' } as ResourceType, name, causes);
    const old = this.bucket(t).get(this.keyOf(t, namespace, name));
    if (!old) throw notFound(t, name);
    const refuse = (why: string) =>
      new StatusError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": ${why}`, {
        name,
        kind: 'pods/binding',
      });
    const uid = binding.metadata?.uid;
    if (uid && uid !== old.metadata.uid)
      throw refuse(
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`,
      );
    const rv = binding.metadata?.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion)
      throw refuse(
        `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    if (old.metadata.deletionTimestamp)
      throw refuse(`pod ${name} is being deleted, cannot be assigned to a host`);
    const spec = (old['spec'] ?? {}) as Record<string, unknown>;
    if (spec['nodeName'])
      throw refuse(`pod ${name} is already assigned to node "${String(spec['nodeName'])}"`);
    if (Array.isArray(spec['schedulingGates']) && spec['schedulingGates'].length > 0)
      throw refuse(`pod ${name} has non-empty .spec.schedulingGates`);
    const o = structuredClone(old) as KubeObject;
    (o['spec'] as Record<string, unknown>)['nodeName'] = target.name;
    o['status'] ??= {};
    const status = o['status'] as Record<string, unknown>;
    const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []) as Record<
      string,
      unknown
    >[];
    const scheduled = conditions.find((c) => c['type'] === 'PodScheduled');
    if (scheduled?.['status'] !== 'True') {
      const next = {
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: this.now(),
      };
      status['conditions'] = scheduled
        ? conditions.map((c) => (c === scheduled ? next : c))
        : [...conditions, next];
    }
    return this.commitUpdate(t, o, old, {});
  }

  private checkVersion(t: ResourceType, o: KubeObject, old: KubeObject): void {
    const rv = o.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion)
      throw conflict(t, old.metadata.name ?? '');
    if ((rv === undefined || rv === '') && t.crd) {
      throw invalid(t, old.metadata.name ?? '', [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.resourceVersion',
          message: 'Invalid value: 0x0: must be specified for an update',
        },
      ]);
    }
  }

  private keepServerMetadata(o: KubeObject, old: KubeObject): void {
    const meta = o.metadata;
    const oldMeta = old.metadata;
    for (const key of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'name',
      'namespace',
    ] as const) {
      if (oldMeta[key] === undefined) delete meta[key];
      else meta[key] = oldMeta[key] as never;
    }
    // Managed fields are kept unless the writer sets them (as server-side apply does).
    if (!Array.isArray(meta.managedFields)) {
      if (oldMeta.managedFields === undefined) delete meta.managedFields;
      else meta.managedFields = oldMeta.managedFields;
    }
    delete meta.selfLink;
    if (!meta.generateName) delete meta.generateName;
  }

  /** Stores an updated object, or removes it when it is being deleted and its last finalizer went. */
  private commitUpdate(t: ResourceType, o: KubeObject, old: KubeObject, options: WriteOptions): KubeObject {
    o.metadata.resourceVersion = old.metadata.resourceVersion;
    if (options.dryRun) return o;
    if (o.metadata.finalizers?.length === 0) delete o.metadata.finalizers;
    if (o.metadata.deletionTimestamp && !o.metadata.finalizers?.length && t.kind !== 'Namespace') {
      // The last finalizer went: the object goes, and the DELETED event carries its final state.
      return structuredClone(this.remove(t, o));
    }
    if (sameExceptVersion(o, old)) return structuredClone(old);
    o.metadata.resourceVersion = String(++this.rv);
    const stored = deepFreeze(o);
    this.bucket(t).set(this.keyOf(t, o.metadata.namespace, o.metadata.name ?? ''), stored);
    if (t.kind === 'CustomResourceDefinition') this.registerCrd(stored);
    this.emit(t, 'MODIFIED', stored, old);
    if (stored.metadata.deletionTimestamp) this.scheduleGc();
    return structuredClone(stored);
  }

  // ---- patch ----

  patch(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    patchType: 'merge' | 'json' | 'strategic' | 'apply',
    body: unknown,
    options: WriteOptions & { subresource?: 'status'; force?: boolean } = {},
  ): KubeObject {
    const t = this.type(resource);
    const ns = t.namespaced ? namespace || 'default' : undefined;
    if (patchType === 'strategic' && t.crd) throw unsupportedPatch();
    const old = this.bucket(t).get(this.keyOf(t, ns, name));
    if (!old) {
      if (patchType === 'apply' && options.subresource !== 'status') {
        if (!isRecord(body)) throw badRequest('the applied configuration is not an object');
        const applied = structuredClone(body) as KubeObject;
        applied.metadata = { ...(isRecord(applied.metadata) ? applied.metadata : {}), name };
        if (ns) applied.metadata.namespace = ns;
        applyOwnership(applied, body, options.fieldManager ?? 'unknown', apiVersionOf(t), this.now());
        return this.create(resource, applied, options);
      }
      throw notFound(t, name);
    }
    let patched: unknown;
    try {
      switch (patchType) {
        case 'merge':
          patched = mergePatch(structuredClone(old), body);
          break;
        case 'json':
          patched = jsonPatch(structuredClone(old), body);
          break;
        case 'strategic':
          patched = strategicMergePatch(structuredClone(old), body, t.kind);
          break;
        case 'apply':
          if (!isRecord(body)) throw badRequest('the applied configuration is not an object');
          // The applied configuration is merged in, then fields this manager applied before and
          // no longer applies are removed.
          patched = t.crd
            ? mergePatch(structuredClone(old), body)
            : strategicMergePatch(structuredClone(old), body, t.kind);
          if (options.subresource !== 'status') {
            applyOwnership(
              patched as KubeObject,
              body,
              options.fieldManager ?? 'unknown',
              apiVersionOf(t),
              this.now(),
            );
          }
          break;
      }
    } catch (err) {
      if (err instanceof PatchError) {
        throw new StatusError(err.code, err.code === 422 ? 'Invalid' : 'BadRequest', err.message);
      }
      throw err;
    }
    if (!isRecord(patched)) throw badRequest('the patch produced something that is not an object');
    const result = patched as KubeObject;
    if (!isRecord(result.metadata)) result.metadata = {};
    result.metadata.name = name;
    if (ns) result.metadata.namespace = ns;
    result.metadata.resourceVersion ||= old.metadata.resourceVersion;
    if (options.subresource === 'status') return this.updateStatus(resource, result, options);
    return this.update(resource, result, options);
  }

  // ---- delete ----

  delete(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): KubeObject | undefined {
    const result = this.deleteObject(resource, namespace, name, options);
    return result.deleted ? undefined : structuredClone(result.object);
  }

  /** Deletes and says whether the object is gone now, with its last state (for the Status reply). */
  deleteObject(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): { object: KubeObject; deleted: boolean } {
    const t = this.type(resource);
    const ns = t.namespaced ? namespace || 'default' : undefined;
    const old = this.bucket(t).get(this.keyOf(t, ns, name));
    if (!old) throw notFound(t, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
        { name, group: t.group, kind: t.plural },
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
        { name, group: t.group, kind: t.plural },
      );
    }
    if (options.dryRun) return { object: old, deleted: true };
    const policy = options.propagationPolicy ?? t.defaultPropagation;
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion'))
      finalizers.push('foregroundDeletion');
    if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    if (t.kind === 'Namespace' || finalizers.length > 0) {
      if (
        old.metadata.deletionTimestamp &&
        JSON.stringify(finalizers) === JSON.stringify(old.metadata.finalizers ?? [])
      ) {
        return { object: old, deleted: false };
      }
      const o = structuredClone(old) as KubeObject;
      o.metadata.deletionTimestamp ??= this.now();
      o.metadata.deletionGracePeriodSeconds ??= 0;
      if (finalizers.length > 0) o.metadata.finalizers = finalizers;
      if (t.generation) o.metadata.generation = (old.metadata.generation ?? 0) + 1;
      if (t.kind === 'Namespace') (o as Record<string, unknown>)['status'] = { phase: 'Terminating' };
      o.metadata.resourceVersion = String(++this.rv);
      const stored = deepFreeze(o);
      this.bucket(t).set(this.keyOf(t, ns, name), stored);
      this.emit(t, 'MODIFIED', stored, old);
      this.scheduleGc();
      return { object: stored, deleted: false };
    }
    const removed = this.remove(t, old);
    return { object: removed, deleted: true };
  }

  /** Removes an object for good: DELETED event at a new resourceVersion, then dependents are collected. */
  private remove(t: ResourceType, old: KubeObject): KubeObject {
    const o = structuredClone(old) as KubeObject;
    o.metadata.resourceVersion = String(++this.rv);
    const stored = deepFreeze(o);
    this.bucket(t).delete(this.keyOf(t, old.metadata.namespace, old.metadata.name ?? ''));
    this.emit(t, 'DELETED', stored, undefined);
    if (t.kind === 'CustomResourceDefinition') this.unregisterCrd(stored);
    if (old.metadata.uid) this.goneOwners.push(old.metadata.uid);
    this.scheduleGc();
    return stored;
  }

  // ---- garbage collection, finalizers handled by the control plane ----

  /** Resolves once garbage collection and namespace cleanup have nothing left to do. */
  settled(): Promise<void> {
    if (!this.gcScheduled) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private scheduleGc(): void {
    if (this.gcScheduled) return;
    this.gcScheduled = true;
    setImmediate(() => this.runGc());
  }

  private allObjects(): { t: ResourceType; o: KubeObject }[] {
    const out: { t: ResourceType; o: KubeObject }[] = [];
    const typeByStorage = new Map<string, ResourceType>();
    for (const t of this.types.values())
      if (!typeByStorage.has(this.storageKey(t))) typeByStorage.set(this.storageKey(t), t);
    for (const [key, bucket] of this.objects) {
      const t = typeByStorage.get(key);
      if (!t) continue;
      for (const o of bucket.values()) out.push({ t, o });
    }
    return out;
  }

  private runGc(): void {
    this.gcScheduled = false;
    const all = this.allObjects();
    const liveUids = new Set(all.map((e) => e.o.metadata.uid));
    const gone = new Set(this.goneOwners.splice(0));
    for (const { t, o } of all) {
      const refs = o.metadata.ownerReferences ?? [];
      if (refs.length === 0 || !refs.some((r) => gone.has(r.uid))) continue;
      if (!this.bucket(t).has(this.keyOf(t, o.metadata.namespace, o.metadata.name ?? ''))) continue;
      if (refs.every((r) => !liveUids.has(r.uid))) {
        if (!o.metadata.deletionTimestamp)
          this.safely(() =>
            this.deleteObject(t.name, o.metadata.namespace, o.metadata.name ?? '', {
              propagationPolicy: 'Background',
            }),
          );
      } else {
        this.dropOwnerRefs(t, o, (uid) => !gone.has(uid));
      }
    }
    for (const { t, o } of this.allObjects()) {
      if (!o.metadata.deletionTimestamp) continue;
      const uid = o.metadata.uid ?? '';
      const dependents = () =>
        this.allObjects().filter((d) => d.o.metadata.ownerReferences?.some((r) => r.uid === uid));
      const finalizers = o.metadata.finalizers ?? [];
      if (finalizers.includes('orphan')) {
        for (const d of dependents()) this.dropOwnerRefs(d.t, d.o, (ref) => ref !== uid);
        this.dropFinalizer(t, o, 'orphan');
      } else if (finalizers.includes('foregroundDeletion')) {
        const deps = dependents();
        for (const d of deps) {
          if (!d.o.metadata.deletionTimestamp) {
            this.safely(() =>
              this.deleteObject(d.t.name, d.o.metadata.namespace, d.o.metadata.name ?? '', {
                propagationPolicy: 'Foreground',
              }),
            );
          }
        }
        if (dependents().length === 0) this.dropFinalizer(t, o, 'foregroundDeletion');
      } else if (t.kind === 'Namespace') {
        this.cleanNamespace(o);
      }
    }
    if (this.goneOwners.length > 0 || this.gcScheduled) {
      this.scheduleGc();
      return;
    }
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }

  private safely(write: () => unknown): void {
    try {
      write();
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
    }
  }

  private dropOwnerRefs(t: ResourceType, o: KubeObject, keepRef: (uid: string) => boolean): void {
    const current = this.bucket(t).get(this.keyOf(t, o.metadata.namespace, o.metadata.name ?? ''));
    if (!current) return;
    const next = structuredClone(current) as KubeObject;
    next.metadata.ownerReferences = (current.metadata.ownerReferences ?? []).filter((r) => keepRef(r.uid));
    if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
    this.commitUpdate(t, next, current, {});
  }

  private dropFinalizer(t: ResourceType, o: KubeObject, finalizer: string): void {
    const current = this.bucket(t).get(this.keyOf(t, o.metadata.namespace, o.metadata.name ?? ''));
    if (!current) return;
    const next = structuredClone(current) as KubeObject;
    next.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    this.commitUpdate(t, next, current, {});
  }

  /** The namespace controller: delete everything in a terminating namespace, then the namespace. */
  private cleanNamespace(ns: KubeObject): void {
    const name = ns.metadata.name ?? '';
    let remaining = 0;
    for (const { t, o } of this.allObjects()) {
      if (!t.namespaced || o.metadata.namespace !== name) continue;
      remaining++;
      if (!o.metadata.deletionTimestamp) {
        this.safely(() =>
          this.deleteObject(t.name, name, o.metadata.name ?? '', { propagationPolicy: 'Background' }),
        );
      }
    }
    // Objects still waiting on finalizers reschedule collection when they go.
    if (remaining > 0) return;
    const t = this.type('v1/namespaces');
    const current = this.bucket(t).get(name);
    if (!current || current.metadata.finalizers?.length) return;
    this.remove(t, current);
  }

  // ---- custom resource definitions ----

  private prepareCrd(o: KubeObject): void {
    const spec = (isRecord(o['spec']) ? o['spec'] : {}) as Record<string, unknown>;
    const names = (isRecord(spec['names']) ? spec['names'] : {}) as Record<string, unknown>;
    const kind = typeof names['kind'] === 'string' ? names['kind'] : '';
    names['singular'] ??= kind.toLowerCase();
    names['listKind'] ??= `${kind}List`;
    spec['conversion'] ??= { strategy: 'None' };
    const versions = Array.isArray(spec['versions']) ? (spec['versions'] as Record<string, unknown>[]) : [];
    const storage = versions.find((v) => v['storage'] === true);
    const now = this.now();
    const condition = (type: string, reason: string, message: string) => ({
      type,
      status: 'True',
      lastTransitionTime: now,
      reason,
      message,
    });
    o['status'] = {
      conditions: [
        condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
        condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
      ],
      acceptedNames: structuredClone(names),
      storedVersions: storage ? [storage['name']] : [],
    };
  }

  private validateCrd(o: KubeObject): FieldCause[] {
    const causes: FieldCause[] = [];
    const spec = o['spec'] as Record<string, unknown> | undefined;
    const group = spec?.['group'];
    const names = spec?.['names'] as Record<string, unknown> | undefined;
    if (typeof group !== 'string' || group === '')
      causes.push({ reason: 'FieldValueRequired', field: 'spec.group', message: 'Required value' });
    if (typeof names?.['plural'] !== 'string')
      causes.push({ reason: 'FieldValueRequired', field: 'spec.names.plural', message: 'Required value' });
    if (typeof names?.['kind'] !== 'string')
      causes.push({ reason: 'FieldValueRequired', field: 'spec.names.kind', message: 'Required value' });
    if (spec?.['scope'] !== 'Namespaced' && spec?.['scope'] !== 'Cluster') {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.scope',
        message: `Unsupported value: ${JSON.stringify(spec?.['scope'] ?? '')}: supported values: "Cluster", "Namespaced"`,
      });
    }
    if (
      typeof group === 'string' &&
      typeof names?.['plural'] === 'string' &&
      o.metadata.name !== `${names['plural']}.${group}`
    ) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.name',
        message: `Invalid value: ${JSON.stringify(o.metadata.name)}: must be spec.names.plural+"."+spec.group`,
      });
    }
    const versions = spec?.['versions'];
    if (!Array.isArray(versions) || versions.length === 0) {
      causes.push({ reason: 'FieldValueRequired', field: 'spec.versions', message: 'Required value' });
      return causes;
    }
    if (versions.filter((v) => isRecord(v) && v['storage'] === true).length !== 1) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.versions',
        message: `Invalid value: ${JSON.stringify(versions.map((v) => (isRecord(v) ? v['name'] : v)))}: must have exactly one version marked as storage version`,
      });
    }
    causes.push(...versionSchemaErrors(versions));
    return causes;
  }

  /** Serves (or re-serves) every served version of an established CRD. */
  private registerCrd(crd: KubeObject): void {
    this.unregisterCrd(crd, false);
    const spec = crd['spec'] as Record<string, unknown>;
    const names = spec['names'] as Record<string, unknown>;
    const group = String(spec['group']);
    const plural = String(names['plural']);
    const versions = (spec['versions'] as Record<string, unknown>[]).filter((v) => v['served'] !== false);
    for (const v of versions) {
      const version = String(v['name']);
      const subresources = Object.keys(isRecord(v['subresources']) ? v['subresources'] : {});
      const schema = (
        isRecord(v['schema']) ? (v['schema'] as Record<string, unknown>)['openAPIV3Schema'] : undefined
      ) as JSONSchema | undefined;
      const selectable = Array.isArray(v['selectableFields'])
        ? (v['selectableFields'] as { jsonPath: string }[]).map((f) => f.jsonPath.replace(/^\./, ''))
        : [];
      const t: ResourceType = {
        name: `${group}/${version}/${plural}`,
        group,
        version,
        plural,
        singular: String(names['singular'] ?? String(names['kind']).toLowerCase()),
        kind: String(names['kind']),
        listKind: String(names['listKind'] ?? `${names['kind']}List`),
        namespaced: spec['scope'] === 'Namespaced',
        shortNames: Array.isArray(names['shortNames']) ? (names['shortNames'] as string[]) : [],
        categories: Array.isArray(names['categories']) ? (names['categories'] as string[]) : [],
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        subresources,
        schema,
        printerColumns: Array.isArray(v['additionalPrinterColumns'])
          ? (v['additionalPrinterColumns'] as PrinterColumn[])
          : [],
        crd: crd.metadata.name ?? '',
        selectableFields: selectable,
        generation: true,
        defaultPropagation: 'Background',
      };
      this.types.set(t.name, t);
    }
  }

  private unregisterCrd(crd: KubeObject, dropObjects = true): void {
    const name = crd.metadata.name;
    let storage: string | undefined;
    for (const [key, t] of this.types) {
      if (t.crd === name) {
        storage = this.storageKey(t);
        this.types.delete(key);
      }
    }
    if (dropObjects && storage) {
      // The CRD's cleanup finalizer deletes every instance before the CRD goes.
      const bucket = this.objects.get(storage);
      for (const o of [...(bucket?.values() ?? [])]) {
        const gone = structuredClone(o) as KubeObject;
        gone.metadata.resourceVersion = String(++this.rv);
        this.emitStorage(storage, 'DELETED', deepFreeze(gone), undefined);
        if (o.metadata.uid) this.goneOwners.push(o.metadata.uid);
      }
      this.objects.delete(storage);
      this.watchers.delete(storage);
    }
  }

  // ---- watch ----

  watch(
    resource: ResourceName,
    listener: (event: WatchEvent) => void,
    options: WatchOptions = {},
  ): () => void {
    const t = this.type(resource);
    const watcher: Watcher = {
      storage: this.storageKey(t),
      namespace: t.namespaced ? options.namespace || undefined : undefined,
      labels: this.parseLabels(options.labelSelector),
      fields: this.parseFields(t, options.fieldSelector),
      listener,
    };
    const rv = options.resourceVersion;
    if (rv === '0') {
      for (const o of this.listRaw(resource, watcher.namespace).items) {
        if (matchesLabels(watcher.labels, o.metadata.labels) && matchesFields(watcher.fields, o))
          listener({ type: 'ADDED', object: o });
      }
    } else if (rv !== undefined && rv !== '') {
      if (!/^\d+$/.test(rv)) {
        throw new StatusError(
          400,
          'BadRequest',
          `resourceVersion: Invalid value: "${rv}": strconv.ParseUint: parsing "${rv}": invalid syntax`,
        );
      }
      const from = Number(rv);
      const history = this.history.get(watcher.storage) ?? { events: [], droppedThrough: 0 };
      if (from < history.droppedThrough) {
        throw new StatusError(
          410,
          'Expired',
          `too old resource version: ${from} (${history.droppedThrough})`,
        );
      }
      for (const e of history.events) if (e.rv > from) this.deliver(watcher, e);
    }
    let set = this.watchers.get(watcher.storage);
    if (!set) {
      set = new Set();
      this.watchers.set(watcher.storage, set);
    }
    set.add(watcher);
    return () => {
      this.watchers.get(watcher.storage)?.delete(watcher);
    };
  }

  /** Number of open watches (all resources). */
  watchCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  private emit(t: ResourceType, type: WatchEventType, object: KubeObject, old: KubeObject | undefined): void {
    this.emitStorage(this.storageKey(t), type, object, old);
  }

  private emitStorage(
    storage: string,
    type: WatchEventType,
    object: KubeObject,
    old: KubeObject | undefined,
  ): void {
    const event: LoggedEvent = { rv: Number(object.metadata.resourceVersion), storage, type, object, old };
    let history = this.history.get(storage);
    if (!history) {
      history = { events: [], droppedThrough: 0 };
      this.history.set(storage, history);
    }
    history.events.push(event);
    // Trimmed in batches so a busy resource does not shift the array on every write.
    if (history.events.length > this.watchWindow + Math.ceil(this.watchWindow / 4)) {
      const dropped = history.events.splice(0, history.events.length - this.watchWindow);
      history.droppedThrough = dropped[dropped.length - 1]!.rv;
    }
    // A listener that writes (it should not: see WatchEvent) gets its event queued behind this one,
    // so every listener sees events in resourceVersion order.
    this.pending.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const w of [...(this.watchers.get(next.storage) ?? [])]) {
          try {
            this.deliver(w, next);
          } catch {
            // A listener must not throw; one that does must not break the write or other listeners.
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private deliver(w: Watcher, e: LoggedEvent): void {
    if (w.namespace && e.object.metadata.namespace !== w.namespace) return;
    const matches = (o: KubeObject) =>
      matchesLabels(w.labels, o.metadata.labels) && matchesFields(w.fields, o);
    const now = matches(e.object);
    if (e.type !== 'MODIFIED' || !e.old) {
      if (now) w.listener({ type: e.type, object: e.object });
      return;
    }
    const before = matches(e.old);
    if (now && before) w.listener({ type: 'MODIFIED', object: e.object });
    else if (now) w.listener({ type: 'ADDED', object: e.object });
    else if (before) w.listener({ type: 'DELETED', object: e.object });
  }
}
