/**
 * Server-side printing: meta.k8s.io/v1 Table responses as the real server builds them (the built-in
 * printers' columns and the CRD table convertor), with ages humanized because kubectl formats nothing.
 */
import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: { cells: unknown[]; object?: unknown }[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const rec = (v: unknown): Rec => (isRec(v) ? v : {});
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);

/** duration.HumanDuration from k8s.io/apimachinery. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<invalid>';
  return humanDuration(now.getTime() - t);
}

const col = (name: string, type: string, description: string, priority = 0, format = ''): TableColumn => ({
  name,
  type,
  format,
  description,
  priority,
});
const nameCol = col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name');
const ageCol = col(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

interface Printer {
  columns: TableColumn[];
  cells(o: KubeObject, now: Date): unknown[];
}

const none = (v: unknown): unknown => (v === undefined || v === null || v === '' ? '<none>' : v);

function podStatus(o: KubeObject): { reason: string; ready: string; restarts: string } {
  const spec = rec(o['spec']);
  const status = rec(o['status']);
  const containers = arr(spec['containers']);
  let reason = String(status['phase'] ?? '');
  if (typeof status['reason'] === 'string' && status['reason'] !== '') reason = status['reason'];
  let restarts = 0;
  let readyCount = 0;
  let hasRunning = false;
  const statuses = arr(status['containerStatuses']);
  for (const cs of [...statuses].reverse()) {
    restarts += Number(cs['restartCount'] ?? 0);
    const state = rec(cs['state']);
    const waiting = rec(state['waiting']);
    const terminated = rec(state['terminated']);
    if (isRec(state['waiting']) && waiting['reason']) reason = String(waiting['reason']);
    else if (isRec(state['terminated']) && terminated['reason']) reason = String(terminated['reason']);
    else if (isRec(state['terminated'])) {
      reason = terminated['signal']
        ? `Signal:${terminated['signal']}`
        : `ExitCode:${terminated['exitCode'] ?? 0}`;
    } else if (cs['ready'] === true && isRec(state['running'])) {
      hasRunning = true;
      readyCount++;
    }
  }
  if (reason === 'Completed' && hasRunning) reason = 'Running';
  if (o.metadata.deletionTimestamp) reason = status['reason'] === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { reason, ready: `${readyCount}/${containers.length}`, restarts: String(restarts) };
}

function hasCondition(o: KubeObject, type: string): boolean {
  return arr(rec(o['status'])['conditions']).some((c) => c['type'] === type && c['status'] === 'True');
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      nameCol,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'string',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      ageCol,
      col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster.', 1),
      col('Node', 'string', 'Name of the Node this pod is assigned to.', 1),
      col('Nominated Node', 'string', 'Name of the node nominated to run this pod.', 1),
      col('Readiness Gates', 'string', 'Pod readiness gates.', 1),
    ],
    cells(o, now) {
      const s = podStatus(o);
      const status = rec(o['status']);
      return [
        o.metadata.name,
        s.ready,
        s.reason,
        s.restarts,
        since(o.metadata.creationTimestamp, now),
        none(status['podIP']),
        none(rec(o['spec'])['nodeName']),
        none(status['nominatedNodeName']),
        '<none>',
      ];
    },
  },
  Job: {
    columns: [
      nameCol,
      col('Status', 'string', 'Status of the job.'),
      col('Completions', 'string', 'The completion status of the job.'),
      col('Duration', 'string', 'Time required to complete the job.'),
      ageCol,
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Selector of the pods the job runs.', 1),
    ],
    cells(o, now) {
      const spec = rec(o['spec']);
      const status = rec(o['status']);
      let state = 'Running';
      if (hasCondition(o, 'Complete')) state = 'Complete';
      else if (hasCondition(o, 'Failed')) state = 'Failed';
      else if (o.metadata.deletionTimestamp) state = 'Terminating';
      else if (hasCondition(o, 'Suspended')) state = 'Suspended';
      else if (hasCondition(o, 'FailureTarget')) state = 'FailureTarget';
      else if (hasCondition(o, 'SuccessCriteriaMet')) state = 'SuccessCriteriaMet';
      const succeeded = Number(status['succeeded'] ?? 0);
      let completions: string;
      if (typeof spec['completions'] === 'number') completions = `${succeeded}/${spec['completions']}`;
      else if (typeof spec['parallelism'] === 'number' && spec['parallelism'] > 1) {
        completions = `${succeeded}/1 of ${spec['parallelism']}`;
      } else completions = `${succeeded}/1`;
      let duration = '';
      if (typeof status['startTime'] === 'string') {
        const start = Date.parse(status['startTime']);
        const end =
          typeof status['completionTime'] === 'string' ? Date.parse(status['completionTime']) : now.getTime();
        duration = humanDuration(end - start);
      }
      const containers = arr(rec(rec(spec['template'])['spec'])['containers']);
      const matchLabels = rec(rec(spec['selector'])['matchLabels']);
      return [
        o.metadata.name,
        state,
        completions,
        duration,
        since(o.metadata.creationTimestamp, now),
        containers.map((c) => c['name']).join(','),
        containers.map((c) => c['image']).join(','),
        none(
          Object.entries(matchLabels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        ),
      ];
    },
  },
  Event: {
    columns: [
      col('Last Seen', 'string', 'The time the event was last seen.'),
      col('Type', 'string', 'Type of this event (Normal, Warning).'),
      col(
        'Reason',
        'string',
        'Short, machine understandable string that gives the reason for the transition.',
      ),
      col('Object', 'string', 'The object that this event is about.'),
      col('Subobject', 'string', 'The subobject the event is about.', 1),
      col('Source', 'string', 'The component reporting this event.', 1),
      col('Message', 'string', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'string', 'The time at which the event was first recorded.', 1),
      col('Count', 'string', 'The number of times this event has occurred.', 1),
      col('Name', 'string', 'Name must be unique within a namespace.', 1, 'name'),
    ],
    cells(o, now) {
      const first = since(o['firstTimestamp'] ?? o['eventTime'], now);
      const last = o['lastTimestamp'] ? since(o['lastTimestamp'], now) : first;
      const involved = rec(o['involvedObject']);
      const kind = String(involved['kind'] ?? '').toLowerCase();
      const target = involved['name'] ? `${kind}/${involved['name']}` : kind;
      const source = rec(o['source']);
      const sourceText =
        [source['component'] ?? o['reportingComponent'], source['host'] ?? o['reportingInstance']]
          .filter((s) => typeof s === 'string' && s !== '')
          .join(', ') || '<none>';
      return [
        last,
        o['type'] ?? '',
        o['reason'] ?? '',
        target,
        involved['fieldPath'] ?? '',
        sourceText,
        String(o['message'] ?? '').trim(),
        first,
        Number(o['count'] ?? 1),
        o.metadata.name,
      ];
    },
  },
  Namespace: {
    columns: [nameCol, col('Status', 'string', 'The status of the namespace.'), ageCol],
    cells: (o, now) => [
      o.metadata.name,
      rec(o['status'])['phase'] ?? '',
      since(o.metadata.creationTimestamp, now),
    ],
  },
  ConfigMap: {
    columns: [nameCol, col('Data', 'string', 'Number of items in the ConfigMap.'), ageCol],
    cells: (o, now) => [
      o.metadata.name,
      Object.keys(rec(o['data'])).length + Object.keys(rec(o['binaryData'])).length,
      since(o.metadata.creationTimestamp, now),
    ],
  },
  Secret: {
    columns: [
      nameCol,
      col('Type', 'string', 'The type of the secret.'),
      col('Data', 'string', 'Number of items in the secret.'),
      ageCol,
    ],
    cells: (o, now) => [
      o.metadata.name,
      o['type'] ?? '',
      Object.keys(rec(o['data'])).length,
      since(o.metadata.creationTimestamp, now),
    ],
  },
  Node: {
    columns: [
      nameCol,
      col('Status', 'string', 'The status of the node.'),
      col('Roles', 'string', 'The roles of the node.'),
      ageCol,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of internal IPs of the node.', 1),
      col('External-IP', 'string', 'List of external IPs of the node.', 1),
      col('OS-Image', 'string', 'OS image reported by the node.', 1),
      col('Kernel-Version', 'string', 'Kernel version reported by the node.', 1),
      col('Container-Runtime', 'string', 'Container runtime and version reported by the node.', 1),
    ],
    cells(o, now) {
      const status = rec(o['status']);
      const ready = arr(status['conditions']).find((c) => c['type'] === 'Ready');
      let state = ready
        ? ready['status'] === 'True'
          ? 'Ready'
          : ready['status'] === 'False'
            ? 'NotReady'
            : 'Unknown'
        : 'Unknown';
      if (rec(o['spec'])['unschedulable'] === true) state += ',SchedulingDisabled';
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length))
        .sort();
      const info = rec(status['nodeInfo']);
      const addresses = arr(status['addresses']);
      const address = (type: string) => none(addresses.find((a) => a['type'] === type)?.['address']);
      return [
        o.metadata.name,
        state,
        roles.length > 0 ? roles.join(',') : '<none>',
        since(o.metadata.creationTimestamp, now),
        info['kubeletVersion'] ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info['osImage'] ?? '<unknown>',
        info['kernelVersion'] ?? '<unknown>',
        info['containerRuntimeVersion'] ?? '<unknown>',
      ];
    },
  },
  Service: {
    columns: [
      nameCol,
      col('Type', 'string', 'The type of the service.'),
      col('Cluster-IP', 'string', 'The cluster IP of the service.'),
      col('External-IP', 'string', 'The external IPs of the service.'),
      col('Port(s)', 'string', 'The ports of the service.'),
      ageCol,
      col('Selector', 'string', 'The selector of the service.', 1),
    ],
    cells(o, now) {
      const spec = rec(o['spec']);
      const ports = arr(spec['ports'])
        .map((p) => `${p['port']}${p['nodePort'] ? `:${p['nodePort']}` : ''}/${p['protocol'] ?? 'TCP'}`)
        .join(',');
      const selector = Object.entries(rec(spec['selector']))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [
        o.metadata.name,
        spec['type'] ?? 'ClusterIP',
        spec['clusterIP'] ?? '<none>',
        '<none>',
        ports || '<none>',
        since(o.metadata.creationTimestamp, now),
        selector || '<none>',
      ];
    },
  },
  ServiceAccount: {
    columns: [nameCol, col('Secrets', 'string', 'Number of secrets of the service account.'), ageCol],
    cells: (o, now) => [o.metadata.name, arr(o['secrets']).length, since(o.metadata.creationTimestamp, now)],
  },
  Lease: {
    columns: [nameCol, col('Holder', 'string', 'The holder of the lease.'), ageCol],
    cells: (o, now) => [
      o.metadata.name,
      rec(o['spec'])['holderIdentity'] ?? '',
      since(o.metadata.creationTimestamp, now),
    ],
  },
  CustomResourceDefinition: {
    columns: [nameCol, col('Created At', 'date', 'The time the CRD was created.')],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
  },
};

/** A small JSONPath for printer columns: `.a.b`, `[n]`, `['key']` and `[?(@.k=="v")]` filters. */
export function evalJsonPath(object: unknown, path: string): unknown[] {
  let current: unknown[] = [object];
  const re =
    /\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\['([^']*)'\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]|\[\*\]/gy;
  const source = path.trim().replace(/^\{(.*)\}$/, '$1');
  let consumed = 0;
  re.lastIndex = 0;
  while (consumed < source.length) {
    const m = re.exec(source);
    if (m === null) break;
    consumed = re.lastIndex;
    const next: unknown[] = [];
    for (const v of current) {
      if (m[1] !== undefined || m[3] !== undefined) {
        const key = m[1] ?? m[3]!;
        if (isRec(v) && v[key] !== undefined) next.push(v[key]);
      } else if (m[2] !== undefined) {
        if (Array.isArray(v) && v[Number(m[2])] !== undefined) next.push(v[Number(m[2])]);
      } else if (m[4] !== undefined) {
        if (Array.isArray(v)) {
          for (const item of v) {
            let field: unknown = item;
            for (const part of m[4].split('.')) field = isRec(field) ? field[part] : undefined;
            if (field !== undefined && String(field) === m[5]) next.push(item);
          }
        }
      } else if (Array.isArray(v)) {
        next.push(...v);
      }
    }
    current = next;
  }
  if (consumed !== source.length) return [];
  return current;
}

function crdCell(o: KubeObject, c: PrinterColumn, now: Date): unknown {
  const values = evalJsonPath(o, c.jsonPath);
  if (values.length === 0) return null;
  const v = values[0];
  if (c.type === 'date') return typeof v === 'string' ? since(v, now) : '<invalid>';
  if (c.type === 'integer' || c.type === 'number') return typeof v === 'number' ? v : null;
  if (c.type === 'boolean') return typeof v === 'boolean' ? v : null;
  if (values.length > 1) return values.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function printerFor(type: ResourceType): Printer {
  if (type.crd) {
    const columns = type.printerColumns ?? [];
    if (columns.length === 0) {
      return {
        columns: [
          nameCol,
          col(
            'Age',
            'date',
            'CreationTimestamp is a timestamp representing the server time when this object was created.',
          ),
        ],
        cells: (o, now) => [o.metadata.name, since(o.metadata.creationTimestamp, now)],
      };
    }
    return {
      columns: [
        nameCol,
        ...columns.map((c) =>
          col(
            c.name,
            c.type,
            c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
            c.priority ?? 0,
            c.format ?? '',
          ),
        ),
      ],
      cells: (o, now) => [o.metadata.name, ...columns.map((c) => crdCell(o, c, now))],
    };
  }
  return (
    PRINTERS[type.kind] ?? {
      columns: [nameCol, ageCol],
      cells: (o, now) => [o.metadata.name, since(o.metadata.creationTimestamp, now)],
    }
  );
}

function rowObject(o: KubeObject, include: IncludeObject): unknown {
  if (include === 'Object') return o;
  if (include === 'None') return undefined;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  options: { now: Date; includeObject?: IncludeObject; resourceVersion?: string; withColumns?: boolean },
): Table {
  const printer = printerFor(type);
  const include = options.includeObject ?? 'Metadata';
  const table: Table = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.resourceVersion !== undefined ? { resourceVersion: options.resourceVersion } : {},
    columnDefinitions: options.withColumns === false ? [] : printer.columns,
    rows: objects.map((o) => {
      const row: { cells: unknown[]; object?: unknown } = { cells: printer.cells(o, options.now) };
      const object = rowObject(o, include);
      if (object !== undefined) row.object = object;
      return row;
    }),
  };
  return table;
}
