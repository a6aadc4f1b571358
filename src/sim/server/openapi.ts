/**
 * OpenAPI v3 documents per group-version, as `kubectl apply` (server-side field validation is chosen
 * from the PATCH operation's x-kubernetes-group-version-kind and fieldValidation parameter) and
 * `kubectl explain` (components.schemas by GVK) read them. PATCH lists only the patch types the
 * server accepts for every kind, so kubectl builds strategic patches from its compiled types.
 */
import { createHash } from 'node:crypto';
import type { JSONSchema } from './schema.ts';
import type { ResourceType } from './types.ts';

/** "api/v1" or "apis/batch/v1": the keys of the /openapi/v3 root. */
export function groupVersionPath(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
}

/** The component name the real server uses: io.k8s.api.core.v1.Pod, dev.fractale.v1alpha1.AgentPlan. */
function schemaName(t: ResourceType): string {
  if (t.crd) return `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`;
  if (t.group === 'apiextensions.k8s.io')
    return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${t.version}.${t.kind}`;
  const group = t.group === '' ? 'core' : t.group.replace(/\.k8s\.io$/, '');
  return `io.k8s.api.${group}.${t.version}.${t.kind}`;
}

export function openApiDocument(types: ResourceType[]): object {
  const paths: Record<string, object> = {};
  const schemas: Record<string, object> = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const base = `/${groupVersionPath(t)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
    const ok = (description: string) => ({
      '200': { description, content: { 'application/json': { schema: ref } } },
    });
    const op = (action: string, extra: object = {}) => ({
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      ...extra,
    });
    paths[base] = {
      get: op('list', { responses: { '200': { description: 'OK' } } }),
      post: op('post', {
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        requestBody: { content: { 'application/json': { schema: ref } } },
        responses: ok('OK'),
      }),
    };
    paths[`${base}/{name}`] = {
      get: op('get', { responses: ok('OK') }),
      put: op('put', {
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        requestBody: { content: { 'application/json': { schema: ref } } },
        responses: ok('OK'),
      }),
      patch: op('patch', {
        parameters: [
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        requestBody: {
          content: {
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
            'application/apply-patch+yaml': { schema: { type: 'object' } },
          },
        },
        responses: ok('OK'),
      }),
      delete: op('delete', { responses: { '200': { description: 'OK' } } }),
    };
    if (t.subresources.includes('status')) {
      paths[`${base}/{name}/status`] = {
        get: op('get', { responses: ok('OK') }),
        patch: op('patch', {
          parameters: [
            { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          ],
          requestBody: {
            content: {
              'application/json-patch+json': { schema: { type: 'object' } },
              'application/merge-patch+json': { schema: { type: 'object' } },
              'application/apply-patch+yaml': { schema: { type: 'object' } },
            },
          },
          responses: ok('OK'),
        }),
      };
    }
    const schema: JSONSchema = structuredClone(t.schema ?? { type: 'object' });
    schemas[schemaName(t)] = { ...schema, 'x-kubernetes-group-version-kind': [gvk] };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.34.0' },
    paths,
    components: { schemas },
  };
}

export function documentHash(document: object): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').slice(0, 128).toUpperCase();
}

/** The /openapi/v3 root: one entry per served group-version, each with the hash of its document. */
export function openApiRoot(types: ResourceType[]): { paths: Record<string, { serverRelativeURL: string }> } {
  const byPath = new Map<string, ResourceType[]>();
  for (const t of types) {
    const p = groupVersionPath(t);
    byPath.set(p, [...(byPath.get(p) ?? []), t]);
  }
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [p, ts] of byPath) {
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${documentHash(openApiDocument(ts))}` };
  }
  return { paths };
}

export function typesOfGroupVersion(types: ResourceType[], path: string): ResourceType[] {
  return types.filter((t) => groupVersionPath(t) === path);
}
