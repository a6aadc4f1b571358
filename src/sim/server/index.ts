/**
 * The simulated cluster's HTTP API server: discovery, OpenAPI v3, CRUD, patch, watch (NDJSON held
 * open), Tables, pod logs and Status errors, served from a Store the way kube-apiserver serves etcd,
 * so that real kubectl and @kubernetes/client-node work against it unchanged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { containerState, type LogStore, logUnavailable, streamLog } from '../logs.ts';
import {
  badRequest,
  type DeleteOptions,
  type FieldValidation,
  type KubeObject,
  StatusError,
  type Store,
  unsupportedPatch,
  type WatchEvent,
  type WriteOptions,
} from '../store.ts';
import { openApiDocument, openApiRoot, typesOfGroupVersion } from './openapi.ts';
import { decodeKubernetesProtobuf, ProtobufError } from './protobuf.ts';
import { clientOf, RequestCounts, requestVerb } from './requests.ts';
import { type IncludeObject, toTable } from './tables.ts';
import { apiVersionOf, type ResourceType } from './types.ts';

export interface ApiServerOptions {
  store: Store;
  logs: LogStore;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** How often watches that allow bookmarks get a BOOKMARK event (ms, default 10 s). */
  bookmarkIntervalMs?: number;
  /**
   * Watches without timeoutSeconds end after this long (times a random 1..2, as the real server's
   * --min-request-timeout of 30 min does); default 1800 s.
   */
  watchTimeoutSeconds?: number;
}

export interface ApiServer {
  url: string;
  port: number;
  /** Every request served so far, by client, verb, resource and code. */
  requests: RequestCounts;
  /** Ends every open watch, as a restarting API server does; clients re-watch from their resourceVersion. */
  closeWatches(): void;
  close(): Promise<void>;
}

const KUBE_VERSION = {
  major: '1',
  minor: '34',
  emulationMajor: '1',
  emulationMinor: '34',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '33',
  gitVersion: 'v1.34.0-fractale-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-08-27T00:00:00Z',
  goVersion: 'go1.24.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const PATCH_TYPES: Record<string, 'merge' | 'json' | 'strategic' | 'apply'> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const data = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(data)),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length > 0) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(data);
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  sendJson(res, err.code, err.status);
}

function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function methodNotAllowed(): StatusError {
  return new StatusError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
    {},
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/** Decodes a request body by its Content-Type: JSON, YAML (apply) or Kubernetes protobuf. */
function decodeBody(req: IncomingMessage, body: Buffer): unknown {
  const type = mediaType(req);
  if (body.length === 0) return undefined;
  try {
    if (type === 'application/vnd.kubernetes.protobuf') return decodeKubernetesProtobuf(body);
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml')
      return parseYaml(body.toString('utf8'));
    if (type === 'application/json' || type.endsWith('+json')) return JSON.parse(body.toString('utf8'));
  } catch (err) {
    if (err instanceof ProtobufError) {
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - ${err.message}`,
      );
    }
    throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
  throw new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
  );
}

function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('as=Table') && params[0] === 'application/json';
  });
}

function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === 'Strict' || v === 'Ignore' || v === 'Warn') return v;
  if (v !== null && v !== '') throw badRequest(`fieldValidation parameter unsupported: ${v}`);
  return 'Warn';
}

function writeOptions(q: URLSearchParams): WriteOptions {
  const options: WriteOptions = { fieldValidation: fieldValidation(q), warnings: [] };
  const manager = q.get('fieldManager');
  if (manager) options.fieldManager = manager;
  if (q.getAll('dryRun').includes('All')) options.dryRun = true;
  return options;
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/** Kinds whose REST strategy allows PUT to create a missing object (AllowCreateOnUpdate). */
const CREATE_ON_UPDATE = new Set(['Lease', 'Event']);

/** Bytes a watch may have queued unread before the server drops it. */
const MAX_WATCH_BUFFER = 32 * 1024 * 1024;

/** Stored objects are frozen, so one serialized line per event serves every watcher. */
const eventLines = new WeakMap<KubeObject, Map<string, string>>();
function eventLine(e: WatchEvent): string {
  let byType = eventLines.get(e.object);
  if (!byType) {
    byType = new Map();
    eventLines.set(e.object, byType);
  }
  let line = byType.get(e.type);
  if (line === undefined) {
    line = `${JSON.stringify({ type: e.type, object: e.object })}\n`;
    byType.set(e.type, line);
  }
  return line;
}

export function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, logs } = options;
  const bookmarkInterval = options.bookmarkIntervalMs ?? 10_000;
  const sockets = new Set<Socket>();
  const closers = new Set<() => void>();
  const watchClosers = new Set<() => void>();
  const watchTimeout = options.watchTimeoutSeconds ?? 1800;
  // Ages are measured on the store's clock, which stamped the objects.
  const clockNow = () => new Date(store.now());
  let serverAddress = '127.0.0.1:0';

  function groups(): Map<string, ResourceType[]> {
    const byGroup = new Map<string, ResourceType[]>();
    for (const t of store.resources()) {
      if (t.group === '') continue;
      byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t]);
    }
    return byGroup;
  }

  function versionsOf(types: ResourceType[]): string[] {
    const versions: string[] = [];
    for (const t of types) if (!versions.includes(t.version)) versions.push(t.version);
    return versions;
  }

  function apiGroup(name: string, types: ResourceType[]): object {
    const versions = versionsOf(types).map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
    return { name, versions, preferredVersion: versions[0] };
  }

  function resourceList(groupVersion: string, types: ResourceType[]): object {
    const resources: object[] = [];
    for (const t of types) {
      const entry: Record<string, unknown> = {
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: t.verbs,
      };
      if (t.shortNames.length > 0) entry['shortNames'] = t.shortNames;
      if (t.categories.length > 0) entry['categories'] = t.categories;
      resources.push(entry);
      for (const sub of t.subresources) {
        if (sub === 'status') {
          resources.push({
            name: `${t.plural}/status`,
            singularName: '',
            namespaced: t.namespaced,
            kind: t.kind,
            verbs: ['get', 'patch', 'update'],
          });
        } else if (sub === 'log') {
          resources.push({
            name: `${t.plural}/log`,
            singularName: '',
            namespaced: t.namespaced,
            kind: t.kind,
            verbs: ['get'],
          });
        } else if (sub === 'binding') {
          resources.push({
            name: `${t.plural}/binding`,
            singularName: '',
            namespaced: t.namespaced,
            kind: 'Binding',
            verbs: ['create'],
          });
        }
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
  }

  /** One group of aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscovery). */
  function groupDiscovery(name: string, types: ResourceType[]): object {
    return {
      metadata: { name },
      versions: versionsOf(types).map((version) => ({
        version,
        freshness: 'Current',
        resources: types
          .filter((t) => t.version === version)
          .map((t) => {
            const responseKind = { group: t.group, version: t.version, kind: t.kind };
            return {
              resource: t.plural,
              singularResource: t.singular,
              scope: t.namespaced ? 'Namespaced' : 'Cluster',
              responseKind,
              verbs: t.verbs,
              shortNames: t.shortNames,
              categories: t.categories,
              subresources: t.subresources.map((sub) => ({
                subresource: sub,
                responseKind:
                  sub === 'binding' ? { group: '', version: 'v1', kind: 'Binding' } : responseKind,
                verbs:
                  sub === 'status' ? ['get', 'patch', 'update'] : sub === 'binding' ? ['create'] : ['get'],
              })),
            };
          }),
      })),
    };
  }

  /** Aggregated discovery, sent only to clients that ask for it, with the exact Content-Type client-go checks. */
  function serveAggregatedDiscovery(req: IncomingMessage, res: ServerResponse, parts: string[]): boolean {
    if (parts.length !== 1 || (parts[0] !== 'api' && parts[0] !== 'apis')) return false;
    const accepts = (req.headers.accept ?? '').split(',').map((a) => a.replace(/\s/g, ''));
    if (
      !accepts.some(
        (a) =>
          a.startsWith('application/json;') &&
          a.includes('g=apidiscovery.k8s.io') &&
          a.includes('v=v2;') &&
          a.includes('as=APIGroupDiscoveryList'),
      )
    ) {
      return false;
    }
    const items =
      parts[0] === 'api'
        ? [
            groupDiscovery(
              '',
              store.resources().filter((t) => t.group === ''),
            ),
          ]
        : [...groups()].map(([name, types]) => groupDiscovery(name, types));
    const data = JSON.stringify({
      kind: 'APIGroupDiscoveryList',
      apiVersion: 'apidiscovery.k8s.io/v2',
      metadata: {},
      items,
    });
    res.writeHead(200, {
      'Content-Type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      'Content-Length': String(Buffer.byteLength(data)),
      Vary: 'Accept',
    });
    res.end(data);
    return true;
  }

  function serveDiscovery(res: ServerResponse, parts: string[]): boolean {
    if (parts[0] === 'api') {
      if (parts.length === 1) {
        sendJson(res, 200, {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
        });
        return true;
      }
      if (parts.length === 2 && parts[1] === 'v1') {
        sendJson(
          res,
          200,
          resourceList(
            'v1',
            store.resources().filter((t) => t.group === ''),
          ),
        );
        return true;
      }
      return false;
    }
    if (parts[0] === 'apis') {
      const byGroup = groups();
      if (parts.length === 1) {
        sendJson(res, 200, {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: [...byGroup].map(([name, types]) => apiGroup(name, types)),
        });
        return true;
      }
      const types = byGroup.get(parts[1]!);
      if (!types) return false;
      if (parts.length === 2) {
        sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(parts[1]!, types) });
        return true;
      }
      if (parts.length === 3) {
        const inVersion = types.filter((t) => t.version === parts[2]);
        if (inVersion.length === 0) return false;
        sendJson(res, 200, resourceList(`${parts[1]}/${parts[2]}`, inVersion));
        return true;
      }
    }
    return false;
  }

  /** Resolves /api/v1/... and /apis/<g>/<v>/... to a resource, namespace, name and subresource. */
  function route(parts: string[]): Route | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      version = parts[1]!;
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    const lookup = (plural: string) =>
      store.resources().find((t) => t.group === group && t.version === version && t.plural === plural);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = lookup(rest[2]!);
      if (inner?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    const type = lookup(rest[0]!);
    if (!type || rest.length > 3) return undefined;
    if (type.namespaced !== (namespace !== undefined) && rest.length > 1) {
      // A namespaced object named without its namespace (or the reverse) does not exist.
      return undefined;
    }
    return { type, namespace, name: rest[1], subresource: rest[2] };
  }

  function resourceOf(t: ResourceType): string {
    return t.name;
  }

  function checkBodyNamespace(object: KubeObject, route: Route): void {
    if (!route.type.namespaced) return;
    const ns = object.metadata?.namespace;
    if (ns && route.namespace && ns !== route.namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    object.metadata = { ...(object.metadata ?? {}), namespace: route.namespace ?? ns ?? 'default' };
  }

  function asObject(value: unknown): KubeObject {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw badRequest('the body of the request is not an object');
    }
    return value as KubeObject;
  }

  function respondObject(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    code: number,
    o: KubeObject,
    warnings: string[] = [],
  ): void {
    if (wantsTable(req) && req.method === 'GET') {
      // A single object's Table carries the object's resourceVersion: `kubectl get x -w` watches from it.
      sendJson(
        res,
        code,
        toTable(route.type, [o], {
          now: clockNow(),
          includeObject: includeObject(req),
          resourceVersion: o.metadata.resourceVersion ?? '',
        }),
      );
    } else {
      sendJson(res, code, o, warnings);
    }
  }

  function includeObject(req: IncomingMessage): IncludeObject {
    const v = new URL(req.url ?? '/', 'http://x').searchParams.get('includeObject');
    return v === 'Object' || v === 'None' ? v : 'Metadata';
  }

  function serveWatch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const t = route.type;
    const table = wantsTable(req);
    const include = includeObject(req);
    let fieldSelector = q.get('fieldSelector') ?? '';
    if (route.name)
      fieldSelector = [fieldSelector, `metadata.name=${route.name}`].filter((s) => s !== '').join(',');
    const rv = q.get('resourceVersion') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    let first = true;
    const write = (type: string, object: unknown) => {
      if (res.writableEnded) return;
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const onEvent = (e: WatchEvent) => {
      if (table) {
        write(
          e.type,
          toTable(t, [e.object], { now: clockNow(), includeObject: include, withColumns: first }),
        );
        first = false;
      } else if (!res.writableEnded) {
        res.write(eventLine(e));
      }
      // A watcher that does not read is dropped, as the real watch cache drops slow watchers.
      if (res.writableLength > MAX_WATCH_BUFFER) finish();
    };
    let unsubscribe: () => void = () => {};
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      closers.delete(finish);
      watchClosers.delete(finish);
      if (!res.writableEnded) res.end();
    };
    closers.add(finish);
    watchClosers.add(finish);
    try {
      unsubscribe = store.watch(resourceOf(t), onEvent, {
        namespace: route.namespace,
        resourceVersion: rv === '' ? '0' : rv,
        labelSelector: q.get('labelSelector') ?? undefined,
        fieldSelector: fieldSelector || undefined,
      });
      // Dropped while replaying history.
      if (res.writableEnded) unsubscribe();
    } catch (err) {
      if (err instanceof StatusError) {
        // The real server reports an expired or bad resourceVersion inside the stream, then closes it.
        write('ERROR', err.status);
        finish();
        return;
      }
      throw err;
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '');
    const seconds = Number.isFinite(timeout) && timeout > 0 ? timeout : watchTimeout * (1 + Math.random());
    timers.push(setTimeout(finish, seconds * 1000));
    if (q.get('allowWatchBookmarks') === 'true') {
      const bookmark = setInterval(() => {
        write('BOOKMARK', {
          kind: t.kind,
          apiVersion: apiVersionOf(t),
          metadata: { resourceVersion: store.resourceVersion() },
        });
      }, bookmarkInterval);
      timers.push(bookmark);
    }
    res.on('close', finish);
  }

  function serveLog(res: ServerResponse, route: Route, q: URLSearchParams): void {
    const namespace = route.namespace ?? 'default';
    const podName = route.name!;
    const pod = store.getRaw(resourceOf(route.type), namespace, podName);
    if (!pod)
      throw new StatusError(404, 'NotFound', `pods "${podName}" not found`, { name: podName, kind: 'pods' });
    const spec = (pod['spec'] ?? {}) as {
      containers?: { name: string }[];
      initContainers?: { name: string }[];
    };
    const names = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
    let container = q.get('container') ?? '';
    if (container === '') {
      if ((spec.containers ?? []).length !== 1) {
        throw badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`,
        );
      }
      container = spec.containers![0]!.name;
    }
    if (!names.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${podName}`);
    const state = containerState(pod, container);
    const problem = logUnavailable(
      logs,
      { namespace, pod: podName, container },
      state,
      q.get('previous') === 'true',
    );
    if (problem) throw badRequest(problem);
    streamLog(
      res,
      logs,
      { namespace, pod: podName, container, terminated: state?.['terminated'] !== undefined },
      q,
      closers,
    );
  }

  function deleteOptions(body: unknown, q: URLSearchParams): DeleteOptions {
    const b = (body ?? {}) as {
      propagationPolicy?: string;
      orphanDependents?: boolean;
      preconditions?: DeleteOptions['preconditions'];
      dryRun?: string[];
    };
    const policy = q.get('propagationPolicy') ?? b.propagationPolicy;
    const options: DeleteOptions = {};
    if (policy === 'Background' || policy === 'Foreground' || policy === 'Orphan')
      options.propagationPolicy = policy;
    else if (policy)
      throw badRequest(
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      );
    if (b.orphanDependents === true && !options.propagationPolicy) options.propagationPolicy = 'Orphan';
    if (b.preconditions) options.preconditions = b.preconditions;
    if (q.getAll('dryRun').includes('All') || b.dryRun?.includes('All')) options.dryRun = true;
    return options;
  }

  function successStatus(t: ResourceType, o: KubeObject): object {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: o.metadata.name, group: t.group, kind: t.plural, uid: o.metadata.uid },
    };
  }

  async function serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    q: URLSearchParams,
  ): Promise<void> {
    const t = r.type;
    const resource = resourceOf(t);
    const method = req.method ?? 'GET';
    if (r.subresource !== undefined) {
      if (r.subresource === 'log' && t.subresources.includes('log') && method === 'GET') {
        serveLog(res, r, q);
        return;
      }
      if (r.subresource === 'binding' && t.subresources.includes('binding') && method === 'POST') {
        const binding = asObject(decodeBody(req, await readBody(req)));
        if (binding.metadata?.name !== r.name)
          throw badRequest('name in URL does not match name in Binding object');
        store.bindPod(r.namespace ?? 'default', binding);
        sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
        return;
      }
      if (r.subresource !== 'status' || !t.subresources.includes('status')) throw notFoundPath();
    }
    const status = r.subresource === 'status';
    if (r.name === undefined) {
      if (method === 'GET') {
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          serveWatch(req, res, r, q);
          return;
        }
        const list = store.listRaw(resource, r.namespace, {
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
        });
        if (wantsTable(req)) {
          sendJson(
            res,
            200,
            toTable(t, list.items, {
              now: clockNow(),
              includeObject: includeObject(req),
              resourceVersion: list.resourceVersion,
            }),
          );
        } else {
          sendJson(res, 200, {
            kind: t.listKind,
            apiVersion: apiVersionOf(t),
            metadata: { resourceVersion: list.resourceVersion },
            items: list.items,
          });
        }
        return;
      }
      if (method === 'POST') {
        const object = asObject(decodeBody(req, await readBody(req)));
        checkBodyNamespace(object, r);
        const options = writeOptions(q);
        const created = store.create(resource, object, options);
        sendJson(res, 201, created, options.warnings);
        return;
      }
      if (method === 'DELETE') {
        const body = decodeBody(req, await readBody(req));
        const options = deleteOptions(body, q);
        const list = store.listRaw(resource, r.namespace, {
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
        });
        const items: KubeObject[] = [];
        for (const o of list.items) {
          try {
            items.push(
              store.deleteObject(resource, o.metadata.namespace, o.metadata.name ?? '', options).object,
            );
          } catch (err) {
            if (!(err instanceof StatusError) || err.code !== 404) throw err;
          }
        }
        sendJson(res, 200, {
          kind: t.listKind,
          apiVersion: apiVersionOf(t),
          metadata: { resourceVersion: store.resourceVersion() },
          items,
        });
        return;
      }
      throw methodNotAllowed();
    }
    const name = r.name;
    if (method === 'GET') {
      if (q.get('watch') === 'true' || q.get('watch') === '1') {
        serveWatch(req, res, r, q);
        return;
      }
      const o = store.getRaw(resource, r.namespace, name);
      if (!o) throw notFoundFor(t, name);
      respondObject(req, res, r, 200, o);
      return;
    }
    if (method === 'PUT') {
      const object = asObject(decodeBody(req, await readBody(req)));
      if (object.metadata?.name && object.metadata.name !== name) {
        throw badRequest(
          `the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`,
        );
      }
      object.metadata = { ...(object.metadata ?? {}), name };
      checkBodyNamespace(object, r);
      const options = writeOptions(q);
      if (!status && CREATE_ON_UPDATE.has(t.kind) && !store.getRaw(resource, r.namespace, name)) {
        sendJson(res, 201, store.create(resource, object, options), options.warnings);
        return;
      }
      const updated = status
        ? store.updateStatus(resource, object, options)
        : store.update(resource, object, options);
      sendJson(res, 200, updated, options.warnings);
      return;
    }
    if (method === 'PATCH') {
      const patchType = PATCH_TYPES[mediaType(req)];
      if (!patchType) throw unsupportedPatch();
      const body = decodeBody(req, await readBody(req));
      const options = writeOptions(q);
      const patchOptions: WriteOptions & { subresource?: 'status'; force?: boolean } = { ...options };
      if (status) patchOptions.subresource = 'status';
      if (patchType === 'apply' && !options.fieldManager) {
        throw badRequest(
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      }
      const existed = store.getRaw(resource, r.namespace, name) !== undefined;
      const patched = store.patch(resource, r.namespace, name, patchType, body, patchOptions);
      sendJson(res, existed ? 200 : 201, patched, options.warnings);
      return;
    }
    if (method === 'DELETE') {
      const body = decodeBody(req, await readBody(req));
      const result = store.deleteObject(resource, r.namespace, name, deleteOptions(body, q));
      sendJson(res, 200, result.deleted ? successStatus(t, result.object) : result.object);
      return;
    }
    throw methodNotAllowed();
  }

  function notFoundFor(t: ResourceType, name: string): StatusError {
    const group = t.group === '' ? t.plural : `${t.plural}.${t.group}`;
    return new StatusError(404, 'NotFound', `${group} "${name}" not found`, {
      name,
      group: t.group,
      kind: t.plural,
    });
  }

  function serveOpenApi(res: ServerResponse, path: string): boolean {
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      sendJson(res, 200, openApiRoot(store.resources()));
      return true;
    }
    if (path.startsWith('/openapi/v3/')) {
      const gv = path.slice('/openapi/v3/'.length);
      const types = typesOfGroupVersion(store.resources(), gv);
      if (types.length === 0) return false;
      sendJson(res, 200, openApiDocument(types));
      return true;
    }
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const parts = path
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    if (path === '/version') return sendJson(res, 200, KUBE_VERSION);
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path.startsWith('/openapi/')) {
      if (!serveOpenApi(res, path)) throw notFoundPath();
      return;
    }
    if (req.method === 'GET' && (serveAggregatedDiscovery(req, res, parts) || serveDiscovery(res, parts)))
      return;
    const r = route(parts);
    if (!r) throw notFoundPath();
    await serveResource(req, res, r, url.searchParams);
  }

  const requests = new RequestCounts();
  /** Counts a request once answered (a watch when it starts: it is answered when it ends). */
  function count(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
    const r = route(parts);
    const key = {
      client: clientOf(req.headers['user-agent']),
      verb: requestVerb(req.method ?? 'GET', r?.name !== undefined, url.searchParams),
      resource: r ? r.type.plural : '(discovery)',
      subresource: r?.subresource ?? '',
    };
    if (key.verb === 'watch') requests.record({ ...key, code: 200 });
    else res.once('close', () => requests.record({ ...key, code: res.statusCode }));
  }

  const server = createServer((req, res) => {
    count(req, res);
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err instanceof StatusError) {
        sendStatus(res, err);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      sendStatus(res, new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, {}));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      const host = options.host ?? '127.0.0.1';
      serverAddress = `${host}:${address.port}`;
      resolve({
        url: `http://${host}:${address.port}`,
        port: address.port,
        requests,
        closeWatches: () => {
          for (const close of [...watchClosers]) close();
        },
        close: () =>
          new Promise<void>((done) => {
            for (const close of [...closers]) close();
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
