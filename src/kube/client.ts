// A small JSON client over a KubeConfig. Objects stay plain JSON (client-node's typed APIs turn
// timestamps into Dates, which would differ from what watches deliver); authentication, TLS and
// proxies come from client-node's KubeConfig, exactly as its Watch uses them.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import fetch, { type RequestInit } from 'node-fetch';
import { type Resource, resourcePath } from './resources.ts';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** An API error, with the Status the server returned. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: number;
  readonly reason: string;
  readonly status: Record<string, unknown> | undefined;
  constructor(code: number, reason: string, message: string, status?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.status = status;
  }
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown) =>
  e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
}

export const FIELD_MANAGER = 'fractale';

/**
 * Makes every request authorised by this KubeConfig (ours and client-node's watches alike) say who
 * sends it, as client-go's User-Agent does: audit logs, and the simulated cluster's request counts,
 * then tell the operator from the CLI and other clients. Returns the same KubeConfig.
 */
export function identify(config: KubeConfig, component: string): KubeConfig {
  const agent = `fractale-${component} (${process.platform}/${process.arch}) node/${process.versions.node}`;
  const apply = config.applyToFetchOptions.bind(config);
  config.applyToFetchOptions = async (options) => {
    const init = await apply(options);
    (init.headers as unknown as Headers).set('user-agent', agent);
    return init;
  };
  return config;
}
/**
 * One keep-alive connection pool per KubeConfig, shared by every client on it. client-node builds a
 * new Agent for each request, so each request opened a TCP connection (and, against a real API
 * server, a TLS handshake): most of the operator's CPU under load. The pool copies the options
 * client-node chose (CA, client certificate, TLS verification) and keeps connections open. Proxy
 * agents are left as client-node makes them.
 */
const POOLS = new WeakMap<KubeConfig, HttpAgent>();

export function pooledAgent(config: KubeConfig, agent: unknown): unknown {
  const known = POOLS.get(config);
  if (known) return known;
  const type = agent?.constructor;
  if (type !== HttpAgent && type !== HttpsAgent) return agent;
  const options = (agent as HttpAgent & { options: Record<string, unknown> }).options;
  const pool =
    type === HttpsAgent
      ? new HttpsAgent({ ...options, keepAlive: true })
      : new HttpAgent({ ...options, keepAlive: true });
  POOLS.set(config, pool);
  return pool;
}

/**
 * The longest a request (never a watch: those are client-node's) may wait for its answer. A
 * connection kept alive can die without a word (a proxy or load balancer dropping it): the request
 * on it would wait for ever and its reconcile with it, so the key never ran again. Aborted, it fails
 * like any error and the queue retries it. kubectl's discovery uses 32 s.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** One fetch, its timeout said as such (node-fetch says only "The operation was aborted"). */
async function fetchOnce(url: string, method: string, path: string, timeoutMs: number, init: RequestInit) {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as Error).name === 'AbortError')
      throw new Error(`${method} ${path}: no answer from the API server within ${timeoutMs / 1000} s`);
    throw error;
  }
}

/** Resends of a request the server answered 429 with Retry-After, and the longest wait honoured. */
const RETRY_AFTER_TRIES = 3;
const MAX_RETRY_AFTER_SECONDS = 10;

export class KubeClient {
  readonly config: KubeConfig;
  private readonly timeoutMs: number;
  constructor(config: KubeConfig, options: { requestTimeoutMs?: number } = {}) {
    this.config = config;
    this.timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  private server(): string {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  /** Sends one request and returns the parsed JSON (or text for non-JSON replies). */
  async request<T = unknown>(
    method: string,
    path: string,
    options: {
      query?: Record<string, string | number | boolean | undefined>;
      body?: unknown;
      contentType?: string;
      text?: boolean;
    } = {},
  ): Promise<T> {
    const url = new URL(this.server() + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const init = await this.config.applyToFetchOptions({});
    // The credentials (a bearer token, basic auth) come as a Headers instance: copy its entries,
    // since spreading it gives {} and every request would go out anonymous.
    const headers = Object.fromEntries((init.headers as unknown as Headers).entries());
    headers['accept'] = 'application/json';
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const agent = pooledAgent(this.config, init.agent) as RequestInit['agent'];
    const send = () =>
      fetchOnce(url.toString(), method, path, this.timeoutMs, {
        ...init,
        agent,
        signal: AbortSignal.timeout(this.timeoutMs) as RequestInit['signal'],
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    let response = await send();
    // As client-go does: a 429 with Retry-After was not processed, so any request may be sent again
    // after the wait the server asked for (bounded, so a throttled reconcile still ends).
    for (let retry = 1; response.status === 429 && retry <= RETRY_AFTER_TRIES; retry++) {
      const seconds = Number(response.headers.get('retry-after'));
      if (!Number.isFinite(seconds) || seconds < 0) break;
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, MAX_RETRY_AFTER_SECONDS) * 1000));
      response = await send();
    }
    const text = await response.text();
    if (!response.ok) {
      let status: Record<string, unknown> | undefined;
      try {
        status = JSON.parse(text);
      } catch {
        status = undefined;
      }
      throw new ApiError(
        response.status,
        String(status?.['reason'] ?? response.statusText),
        String(status?.['message'] ?? (text || response.statusText)),
        status,
      );
    }
    if (options.text) return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T extends KubeObject>(r: Resource, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(r, namespace, name));
  }

  /** Returns the object, or undefined when it does not exist. */
  async find<T extends KubeObject>(
    r: Resource,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(r, namespace, name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  list<T extends KubeObject>(
    r: Resource,
    namespace?: string,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(r, namespace), { query: { ...options } });
  }

  create<T extends KubeObject>(r: Resource, object: T): Promise<T> {
    return this.request<T>('POST', resourcePath(r, object.metadata.namespace), {
      body: object,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  replace<T extends KubeObject>(r: Resource, object: T): Promise<T> {
    return this.request<T>('PUT', resourcePath(r, object.metadata.namespace, object.metadata.name), {
      body: object,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  replaceStatus<T extends KubeObject>(r: Resource, object: T): Promise<T> {
    return this.request<T>(
      'PUT',
      resourcePath(r, object.metadata.namespace, object.metadata.name, 'status'),
      {
        body: object,
        query: { fieldManager: FIELD_MANAGER },
      },
    );
  }

  patch<T extends KubeObject>(
    r: Resource,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: { type?: PatchType; subresource?: 'status' } = {},
  ): Promise<T> {
    const type = options.type ?? 'merge';
    return this.request<T>('PATCH', resourcePath(r, namespace, name, options.subresource), {
      body,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { fieldManager: FIELD_MANAGER, ...(type === 'apply' ? { force: true } : {}) },
    });
  }

  /** Deletes with background propagation; a missing object is not an error. */
  async delete(
    r: Resource,
    namespace: string | undefined,
    name: string,
    propagationPolicy: 'Background' | 'Foreground' | 'Orphan' = 'Background',
  ): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(r, namespace, name), { body: { propagationPolicy } });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** A container's log, optionally only its tail. */
  logs(
    namespace: string,
    pod: string,
    options: { container?: string; tailLines?: number; limitBytes?: number } = {},
  ): Promise<string> {
    return this.request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${pod}/log`, {
      query: options,
      text: true,
    });
  }
}
