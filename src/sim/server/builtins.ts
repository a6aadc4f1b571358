/**
 * The built-in resource types the simulated API server serves, with the defaulting and validation
 * their real REST strategies apply (only the parts kubectl, the operator and the controllers meet),
 * and compact schemas for OpenAPI (apply, explain). Built-in schemas keep unknown nested fields.
 */
import type { FieldCause, JSONSchema } from './schema.ts';
import { ALL_VERBS, type KubeObject, type ResourceType } from './types.ts';

const keep = { 'x-kubernetes-preserve-unknown-fields': true } as const;

function obj(
  description: string,
  properties: Record<string, JSONSchema> = {},
  extra: JSONSchema = {},
): JSONSchema {
  return { type: 'object', description, properties, ...keep, ...extra };
}
const str = (description: string): JSONSchema => ({ type: 'string', description });
const int = (description: string): JSONSchema => ({ type: 'integer', description });
const bool = (description: string): JSONSchema => ({ type: 'boolean', description });
const strMap = (description: string): JSONSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

const objectMeta = obj('Standard object metadata.', {
  name: str('Name must be unique within a namespace.'),
  generateName: str('A prefix the server uses to generate a unique name when name is not set.'),
  namespace: str('The namespace the object lives in.'),
  uid: str('The unique id of this object, set by the server.'),
  resourceVersion: str('The version of this object, for optimistic concurrency and watches.'),
  generation: int('A sequence number of the desired state, bumped on spec changes.'),
  creationTimestamp: { type: 'string', format: 'date-time', description: 'When the object was created.' },
  deletionTimestamp: { type: 'string', format: 'date-time', description: 'When deletion was requested.' },
  labels: strMap('Map of string keys and values used to organize and select objects.'),
  annotations: strMap('Unstructured key value map set by external tools.'),
  ownerReferences: {
    type: 'array',
    description: 'Objects this object depends on; it is garbage collected when all owners are gone.',
    items: obj('OwnerReference identifies an owning object.', {
      apiVersion: str('API version of the owner.'),
      kind: str('Kind of the owner.'),
      name: str('Name of the owner.'),
      uid: str('UID of the owner.'),
      controller: bool('The owner is the managing controller.'),
      blockOwnerDeletion: bool('Foreground deletion of the owner waits for this object.'),
    }),
  },
  finalizers: {
    type: 'array',
    description: 'Must be empty before the object is deleted.',
    items: { type: 'string' },
  },
});

function root(kind: string, description: string, properties: Record<string, JSONSchema>): JSONSchema {
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
      kind: str(`Kind is a string value representing the REST resource this object represents (${kind}).`),
      metadata: objectMeta,
      ...properties,
    },
  };
}

const container = obj('A single application container to run within a pod.', {
  name: str('Name of the container, unique in the pod.'),
  image: str('Container image name.'),
  command: { type: 'array', items: { type: 'string' }, description: 'Entrypoint array.' },
  args: { type: 'array', items: { type: 'string' }, description: 'Arguments to the entrypoint.' },
  workingDir: str("Container's working directory."),
  env: {
    type: 'array',
    description: 'Environment variables to set in the container.',
    items: obj('EnvVar is an environment variable.', { name: str('Name.'), value: str('Value.') }),
  },
  imagePullPolicy: {
    type: 'string',
    description: 'Always, Never or IfNotPresent.',
    enum: ['Always', 'Never', 'IfNotPresent'],
  },
  resources: obj('Compute resources required by this container.'),
  volumeMounts: { type: 'array', description: 'Volumes to mount.', items: obj('VolumeMount.') },
});

const podSpec = obj('PodSpec is a description of a pod.', {
  containers: { type: 'array', description: 'Containers in the pod.', items: container },
  initContainers: { type: 'array', description: 'Init containers.', items: container },
  restartPolicy: {
    type: 'string',
    description: 'Always, OnFailure or Never.',
    enum: ['Always', 'OnFailure', 'Never'],
  },
  nodeName: str('The node the pod is bound to.'),
  nodeSelector: strMap('Labels a node must carry to run the pod.'),
  serviceAccountName: str('The ServiceAccount the pod runs as.'),
  volumes: { type: 'array', description: 'Volumes of the pod.', items: obj('Volume.') },
});

const podTemplate = obj('Describes the pods that will be created.', { metadata: objectMeta, spec: podSpec });

interface Builtin
  extends Omit<ResourceType, 'name' | 'verbs' | 'selectableFields' | 'generation' | 'defaultPropagation'> {
  verbs?: string[];
  selectableFields?: string[];
  generation?: boolean;
  defaultPropagation?: ResourceType['defaultPropagation'];
}

const BUILTINS: Builtin[] = [
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    namespaced: false,
    shortNames: ['ns'],
    categories: [],
    subresources: ['status'],
    selectableFields: ['status.phase'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    schema: root('Namespace', 'Namespace provides a scope for names.', {
      spec: obj('Spec of the namespace.', { finalizers: { type: 'array', items: { type: 'string' } } }),
      status: obj('Status of the namespace.', { phase: str('Active or Terminating.') }),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    listKind: 'PodList',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status', 'log', 'binding'],
    selectableFields: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    generation: true,
    schema: root('Pod', 'Pod is a collection of containers that can run on a host.', {
      spec: podSpec,
      status: obj('Most recently observed status of the pod.', {
        phase: str('Pending, Running, Succeeded, Failed or Unknown.'),
        containerStatuses: { type: 'array', items: obj('ContainerStatus.') },
      }),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    namespaced: true,
    shortNames: ['cm'],
    categories: [],
    subresources: [],
    schema: root('ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
      data: strMap('Configuration data.'),
      binaryData: strMap('Binary configuration data, base64.'),
      immutable: bool('The data cannot be changed.'),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    listKind: 'SecretList',
    namespaced: true,
    shortNames: [],
    categories: [],
    subresources: [],
    selectableFields: ['type'],
    schema: root('Secret', 'Secret holds secret data of a certain type.', {
      data: strMap('Secret data, base64.'),
      stringData: strMap('Write-only convenience: merged into data on write.'),
      type: str('Used to facilitate programmatic handling of secret data.'),
      immutable: bool('The data cannot be changed.'),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    shortNames: ['ev'],
    categories: [],
    subresources: [],
    selectableFields: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
    schema: root('Event', 'Event is a report of an event somewhere in the cluster.', {
      involvedObject: obj('The object this event is about.', {
        kind: str('Kind.'),
        name: str('Name.'),
        namespace: str('Namespace.'),
        uid: str('UID.'),
      }),
      reason: str('Short, machine understandable string for the transition.'),
      message: str('Human-readable description.'),
      type: str('Normal or Warning.'),
      count: int('Times this event has occurred.'),
      firstTimestamp: { type: 'string', format: 'date-time', description: 'First occurrence.' },
      lastTimestamp: { type: 'string', format: 'date-time', description: 'Last occurrence.' },
      source: obj('The component reporting this event.'),
      eventTime: {
        type: 'string',
        format: 'date-time',
        description: 'Time when this event was first observed.',
      },
      series: obj('Data about the event series this event represents.'),
      action: str('What action was taken or failed regarding the object.'),
      related: obj('Optional secondary object for more complex actions.'),
      reportingComponent: str('Name of the controller that emitted this event.'),
      reportingInstance: str('ID of the controller instance.'),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    listKind: 'NodeList',
    namespaced: false,
    shortNames: ['no'],
    categories: [],
    subresources: ['status'],
    selectableFields: ['spec.unschedulable'],
    schema: root('Node', 'Node is a worker node.', {
      spec: obj('Spec of the node.', { unschedulable: bool('Unschedulable controls node schedulability.') }),
      status: obj('Most recently observed status of the node.', {
        capacity: strMap('Total resources of the node.'),
        allocatable: strMap('Resources available for scheduling.'),
        conditions: { type: 'array', items: obj('NodeCondition.') },
      }),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    listKind: 'ServiceAccountList',
    namespaced: true,
    shortNames: ['sa'],
    categories: [],
    subresources: [],
    schema: root('ServiceAccount', 'ServiceAccount binds together a name, a principal and secrets.', {
      secrets: { type: 'array', items: obj('ObjectReference.') },
      imagePullSecrets: { type: 'array', items: obj('LocalObjectReference.') },
      automountServiceAccountToken: bool('Mount the token automatically.'),
    }),
  },
  {
    group: '',
    version: 'v1',
    plural: 'services',
    singular: 'service',
    kind: 'Service',
    listKind: 'ServiceList',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
    schema: root('Service', 'Service is a named abstraction of a software service.', {
      spec: obj('Spec of the service.', {
        selector: strMap('Route traffic to pods with these labels.'),
        clusterIP: str('IP address of the service.'),
        type: str('ClusterIP, NodePort, LoadBalancer or ExternalName.'),
        ports: { type: 'array', items: obj('ServicePort.') },
      }),
      status: obj('Most recently observed status of the service.'),
    }),
  },
  {
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    singular: 'job',
    kind: 'Job',
    listKind: 'JobList',
    namespaced: true,
    shortNames: [],
    categories: ['all'],
    subresources: ['status'],
    selectableFields: ['status.successful'],
    generation: true,
    defaultPropagation: 'Orphan',
    schema: root('Job', 'Job represents the configuration of a single job.', {
      spec: obj('Specification of the desired behavior of a job.', {
        parallelism: int('Maximum desired number of pods running at a time.'),
        completions: int('Desired number of successfully finished pods.'),
        backoffLimit: int('Retries before marking this job failed (default 6).'),
        activeDeadlineSeconds: int('Duration the job may be active before the system terminates it.'),
        ttlSecondsAfterFinished: int('Lifetime after the job finishes.'),
        suspend: bool('Suspend the job.'),
        selector: obj('Label query over pods.'),
        template: podTemplate,
      }),
      status: obj('Current status of a job.', {
        active: int('Pending and running pods.'),
        succeeded: int('Pods which reached phase Succeeded.'),
        failed: int('Pods which reached phase Failed.'),
        startTime: { type: 'string', format: 'date-time', description: 'When the job started.' },
        completionTime: { type: 'string', format: 'date-time', description: 'When the job completed.' },
        conditions: { type: 'array', items: obj('JobCondition.') },
      }),
    }),
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    singular: 'lease',
    kind: 'Lease',
    listKind: 'LeaseList',
    namespaced: true,
    shortNames: [],
    categories: [],
    subresources: [],
    schema: root('Lease', 'Lease defines a lease concept.', {
      spec: obj('Specification of the lease.', {
        holderIdentity: str('Identity of the holder.'),
        leaseDurationSeconds: int('Duration candidates wait to force acquire it.'),
        acquireTime: { type: 'string', format: 'date-time', description: 'When the lease was acquired.' },
        renewTime: { type: 'string', format: 'date-time', description: 'When the holder last renewed it.' },
        leaseTransitions: int('Transitions of the lease between holders.'),
      }),
    }),
  },
  // Kinds an installation applies (the Helm chart, config/): stored and served, with no controller
  // acting on them; the simulated cluster runs the operator in-process instead of from a Deployment.
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status'],
    generation: true,
    schema: root('Deployment', 'Deployment enables declarative updates for Pods and ReplicaSets.', {
      spec: obj('Specification of the desired behavior of the Deployment.', {
        replicas: int('Number of desired pods.'),
        selector: obj('Label selector for pods.'),
        template: podTemplate,
        strategy: obj('The deployment strategy to use to replace existing pods with new ones.'),
      }),
      status: obj('Most recently observed status of the Deployment.'),
    }),
  },
  ...(
    [
      ['roles', 'role', 'Role', true, 'Role is a namespaced, logical grouping of PolicyRules.'],
      [
        'rolebindings',
        'rolebinding',
        'RoleBinding',
        true,
        'RoleBinding grants the permissions of a Role to subjects.',
      ],
      [
        'clusterroles',
        'clusterrole',
        'ClusterRole',
        false,
        'ClusterRole is a cluster level, logical grouping of PolicyRules.',
      ],
      [
        'clusterrolebindings',
        'clusterrolebinding',
        'ClusterRoleBinding',
        false,
        'ClusterRoleBinding grants the permissions of a ClusterRole to subjects.',
      ],
    ] as const
  ).map(
    ([plural, singular, kind, namespaced, description]): Builtin => ({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      plural,
      singular,
      kind,
      listKind: `${kind}List`,
      namespaced,
      shortNames: [],
      categories: [],
      subresources: [],
      schema: root(kind, description, {
        rules: { type: 'array', description: 'The PolicyRules of this role.', items: obj('PolicyRule.') },
        roleRef: obj('The role the binding grants.'),
        subjects: { type: 'array', description: 'The subjects the role applies to.', items: obj('Subject.') },
      }),
    }),
  ),
  {
    group: 'policy',
    version: 'v1',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    kind: 'PodDisruptionBudget',
    listKind: 'PodDisruptionBudgetList',
    namespaced: true,
    shortNames: ['pdb'],
    categories: [],
    subresources: ['status'],
    generation: true,
    schema: root('PodDisruptionBudget', 'PodDisruptionBudget limits the pods of a collection down at once.', {
      spec: obj('Specification of the desired behavior of the PodDisruptionBudget.', {
        minAvailable: { 'x-kubernetes-int-or-string': true, description: 'Pods that must stay available.' },
        maxUnavailable: { 'x-kubernetes-int-or-string': true, description: 'Pods that may be unavailable.' },
        selector: obj('Label query over pods.'),
      }),
      status: obj('Most recently observed status of the PodDisruptionBudget.'),
    }),
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    listKind: 'CustomResourceDefinitionList',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: ['status'],
    generation: true,
    schema: root(
      'CustomResourceDefinition',
      'CustomResourceDefinition represents a resource served by the API server.',
      {
        spec: obj('Spec of the CRD.', {
          group: str('API group of the defined resource.'),
          names: obj('Resource and kind names.'),
          scope: { type: 'string', enum: ['Cluster', 'Namespaced'], description: 'Cluster or Namespaced.' },
          versions: { type: 'array', items: obj('CustomResourceDefinitionVersion.') },
        }),
        status: obj('Status of the CRD.'),
      },
    ),
  },
];

export function builtinTypes(): ResourceType[] {
  return BUILTINS.map((b) => ({
    ...b,
    name: b.group === '' ? `${b.version}/${b.plural}` : `${b.group}/${b.version}/${b.plural}`,
    verbs: b.verbs ?? ALL_VERBS,
    selectableFields: b.selectableFields ?? [],
    generation: b.generation ?? false,
    defaultPropagation: b.defaultPropagation ?? 'Background',
  }));
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

function ensure(o: Rec, key: string): Rec {
  if (!isRec(o[key])) o[key] = {};
  return o[key] as Rec;
}

function defaultContainer(c: Rec): void {
  const image = typeof c['image'] === 'string' ? c['image'] : '';
  const lastPart = image.split('/').pop() ?? '';
  const tagged = lastPart.includes(':') || image.includes('@');
  c['imagePullPolicy'] ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
  c['terminationMessagePath'] ??= '/dev/termination-log';
  c['terminationMessagePolicy'] ??= 'File';
  c['resources'] ??= {};
  // Requests default to the limits of the resources that have no request.
  const resources = c['resources'] as Rec;
  if (isRec(resources['limits'])) {
    const requests = isRec(resources['requests']) ? resources['requests'] : {};
    for (const [name, quantity] of Object.entries(resources['limits'])) requests[name] ??= quantity;
    resources['requests'] = requests;
  }
}

/** The pod's QoS class from its containers' requests and limits (cpu and memory). */
function qosClass(spec: Rec): string {
  const containers = [
    ...(Array.isArray(spec['containers']) ? spec['containers'] : []),
    ...(Array.isArray(spec['initContainers']) ? spec['initContainers'] : []),
  ].filter(isRec);
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const resources = isRec(c['resources']) ? c['resources'] : {};
    const requests = isRec(resources['requests']) ? resources['requests'] : {};
    const limits = isRec(resources['limits']) ? resources['limits'] : {};
    for (const name of ['cpu', 'memory']) {
      if (requests[name] !== undefined || limits[name] !== undefined) any = true;
      if (limits[name] === undefined || String(limits[name]) !== String(requests[name])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * The API server decodes into Go structs whose optional strings are `omitempty`: an env var written
 * with `value: ""` reads back with no value. A client that applies such a manifest sees a change on
 * every apply (kubectl says "configured"), so the sim drops it as the real server does.
 */
function omitEmptyEnvValues(spec: Rec): void {
  for (const key of ['containers', 'initContainers']) {
    const list = spec[key];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isRec(c) || !Array.isArray(c['env'])) continue;
      for (const e of c['env']) if (isRec(e) && e['value'] === '') delete e['value'];
    }
  }
}

/** The pod spec of a Pod, or of the template of a workload (Job, Deployment). */
function podSpecOf(type: ResourceType, rec: Rec): Rec | undefined {
  if (type.kind === 'Pod') return isRec(rec['spec']) ? rec['spec'] : undefined;
  const spec = rec['spec'];
  if (!isRec(spec) || !isRec(spec['template'])) return undefined;
  const podSpec = spec['template']['spec'];
  return isRec(podSpec) ? podSpec : undefined;
}

function defaultPodSpec(spec: Rec): void {
  spec['restartPolicy'] ??= 'Always';
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['schedulerName'] ??= 'default-scheduler';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['securityContext'] ??= {};
  if (spec['serviceAccountName'] === undefined && spec['serviceAccount'] === undefined)
    spec['serviceAccountName'] = 'default';
  spec['serviceAccount'] ??= spec['serviceAccountName'];
  for (const key of ['containers', 'initContainers']) {
    const list = spec[key];
    if (Array.isArray(list)) for (const c of list) if (isRec(c)) defaultContainer(c);
  }
}

function validatePodSpec(spec: unknown, path: string, restartPolicies: string[] | undefined): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!isRec(spec)) return [{ reason: 'FieldValueRequired', field: path, message: 'Required value' }];
  const containers = spec['containers'];
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ reason: 'FieldValueRequired', field: `${path}.containers`, message: 'Required value' });
  } else {
    const names = new Set<string>();
    containers.forEach((c, i) => {
      const at = `${path}.containers[${i}]`;
      if (!isRec(c)) return;
      if (typeof c['name'] !== 'string' || c['name'] === '') {
        causes.push({ reason: 'FieldValueRequired', field: `${at}.name`, message: 'Required value' });
      } else if (names.has(c['name'])) {
        causes.push({
          reason: 'FieldValueDuplicate',
          field: `${at}.name`,
          message: `Duplicate value: "${c['name']}"`,
        });
      } else {
        names.add(c['name']);
      }
      if (typeof c['image'] !== 'string' || c['image'] === '') {
        causes.push({ reason: 'FieldValueRequired', field: `${at}.image`, message: 'Required value' });
      }
    });
  }
  const policy = spec['restartPolicy'];
  if (restartPolicies && (typeof policy !== 'string' || !restartPolicies.includes(policy))) {
    causes.push(
      policy === undefined
        ? {
            reason: 'FieldValueRequired',
            field: `${path}.restartPolicy`,
            message: `Required value: valid values: ${restartPolicies.map((p) => `"${p}"`).join(', ')}`,
          }
        : {
            reason: 'FieldValueNotSupported',
            field: `${path}.restartPolicy`,
            message: `Unsupported value: ${JSON.stringify(policy)}: supported values: ${restartPolicies.map((p) => `"${p}"`).join(', ')}`,
          },
    );
  }
  return causes;
}

let nextClusterIp = 10;

/** Defaults and status reset a built-in's REST strategy applies on create (PrepareForCreate + defaulting). */
export function prepareBuiltinCreate(type: ResourceType, o: KubeObject): void {
  const rec = o as Rec;
  const podSpec = podSpecOf(type, rec);
  if (podSpec) omitEmptyEnvValues(podSpec);
  switch (type.kind) {
    case 'Pod': {
      const spec = ensure(rec, 'spec');
      defaultPodSpec(spec);
      rec['status'] = { phase: 'Pending', qosClass: qosClass(spec) };
      break;
    }
    case 'Job': {
      const spec = ensure(rec, 'spec');
      spec['parallelism'] ??= 1;
      spec['completions'] ??= 1;
      spec['backoffLimit'] ??= 6;
      spec['completionMode'] ??= 'NonIndexed';
      spec['suspend'] ??= false;
      spec['podReplacementPolicy'] ??= 'TerminatingOrFailed';
      const template = ensure(spec, 'template');
      const templateMeta = ensure(template, 'metadata');
      const uid = o.metadata.uid ?? '';
      const name = o.metadata.name ?? '';
      if (spec['manualSelector'] !== true) {
        templateMeta['labels'] = {
          ...(isRec(templateMeta['labels']) ? templateMeta['labels'] : {}),
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': uid,
          'job-name': name,
        };
        spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      }
      if (!o.metadata.labels || Object.keys(o.metadata.labels).length === 0) {
        o.metadata.labels = { ...(templateMeta['labels'] as Record<string, string>) };
      }
      defaultPodSpec(ensure(template, 'spec'));
      rec['status'] = {};
      break;
    }
    case 'Namespace': {
      rec['spec'] = { finalizers: ['kubernetes'] };
      rec['status'] = { phase: 'Active' };
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name ?? '' };
      break;
    }
    case 'Secret': {
      rec['type'] ??= 'Opaque';
      foldStringData(rec);
      break;
    }
    case 'Service': {
      const spec = ensure(rec, 'spec');
      spec['type'] ??= 'ClusterIP';
      spec['sessionAffinity'] ??= 'None';
      if (spec['clusterIP'] === undefined) {
        const n = nextClusterIp++;
        spec['clusterIP'] = `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
        spec['clusterIPs'] = [spec['clusterIP']];
      }
      if (Array.isArray(spec['ports'])) {
        for (const p of spec['ports']) {
          if (isRec(p)) {
            p['protocol'] ??= 'TCP';
            p['targetPort'] ??= p['port'];
          }
        }
      }
      rec['status'] = { loadBalancer: {} };
      break;
    }
  }
}

/** Defaults a built-in's strategy applies on update (stringData folding, pod container defaults). */
export function prepareBuiltinUpdate(type: ResourceType, o: KubeObject): void {
  const podSpec = podSpecOf(type, o as Rec);
  if (podSpec) omitEmptyEnvValues(podSpec);
  if (type.kind === 'Secret') foldStringData(o as Rec);
  if (type.kind === 'Namespace')
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name ?? '' };
}

function foldStringData(rec: Rec): void {
  const stringData = rec['stringData'];
  if (isRec(stringData)) {
    const data = ensure(rec, 'data');
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    delete rec['stringData'];
  }
}

/** The validation a built-in's strategy applies (only the checks that matter to its users here). */
// The fields of a bound pod's spec a client may change (pkg/apis/core/validation: updatablePodSpecFields).
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/**
 * Checks an update against the stored object where the real server forbids changes: a pod's spec
 * is fixed but for images, the deadline, tolerations and scheduling gates, so even `spec.nodeName`
 * is set only through `pods/binding`.
 */
export function validateBuiltinUpdate(type: ResourceType, o: KubeObject, old: KubeObject): FieldCause[] {
  if (type.kind !== 'Pod' || type.group !== '') return [];
  const spec = (isRec(o['spec']) ? o['spec'] : {}) as Rec;
  const oldSpec = (isRec(old['spec']) ? old['spec'] : {}) as Rec;
  const munged: Rec = structuredClone(spec);
  for (const list of ['containers', 'initContainers']) {
    const before = Array.isArray(oldSpec[list]) ? (oldSpec[list] as Rec[]) : [];
    if (Array.isArray(munged[list]))
      munged[list] = (munged[list] as Rec[]).map((c, i) =>
        isRec(c) && before[i] ? { ...c, image: before[i]['image'] } : c,
      );
  }
  for (const field of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates']) {
    if (oldSpec[field] === undefined) delete munged[field];
    else munged[field] = oldSpec[field];
  }
  if (canonical(munged) === canonical(oldSpec)) return [];
  return [
    {
      reason: 'FieldValueForbidden',
      field: 'spec',
      message: `Forbidden: pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}`,
    },
  ];
}

/** JSON with sorted keys, so equal objects compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRec(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export function validateBuiltin(type: ResourceType, o: KubeObject): FieldCause[] {
  const rec = o as Rec;
  switch (type.kind) {
    case 'Pod':
      return validatePodSpec(rec['spec'], 'spec', ['Always', 'OnFailure', 'Never']);
    case 'Job': {
      const spec = rec['spec'];
      if (!isRec(spec) || !isRec(spec['template'])) {
        return [{ reason: 'FieldValueRequired', field: 'spec.template', message: 'Required value' }];
      }
      return validatePodSpec((spec['template'] as Rec)['spec'], 'spec.template.spec', ['OnFailure', 'Never']);
    }
    case 'Event': {
      const involved = rec['involvedObject'];
      if (!isRec(involved))
        return [{ reason: 'FieldValueRequired', field: 'involvedObject', message: 'Required value' }];
      return [];
    }
    case 'Lease': {
      const d = isRec(rec['spec']) ? (rec['spec'] as Rec)['leaseDurationSeconds'] : undefined;
      if (typeof d === 'number' && d <= 0) {
        return [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.leaseDurationSeconds',
            message: `Invalid value: ${d}: must be greater than 0`,
          },
        ];
      }
      return [];
    }
    default:
      return [];
  }
}
