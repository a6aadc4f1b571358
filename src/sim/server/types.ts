import type { JSONSchema } from './schema.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** One served resource type: a built-in or a version of an established CRD. */
export interface ResourceType {
  /** "group/version/plural", or "v1/plural" for the core group. */
  name: string;
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Subresources served under the object: "status", "log", "scale". */
  subresources: string[];
  /** The openAPIV3Schema (CRDs) or a compact schema (built-ins, which keep unknown nested fields). */
  schema?: JSONSchema;
  /** Printer columns for CRDs; built-ins use the printers in tables.ts. */
  printerColumns?: PrinterColumn[];
  /** Set for custom resources: the CRD's name. */
  crd?: string;
  /** Fields besides metadata.name/namespace usable in field selectors. */
  selectableFields: string[];
  /** Objects of this type count spec changes in metadata.generation. */
  generation: boolean;
  /** The propagation policy used when a delete names none (Orphan for batch/v1 Jobs, as the real API). */
  defaultPropagation: 'Background' | 'Foreground' | 'Orphan';
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** "pods" for the core group, "jobs.batch" otherwise: how error messages name a resource. */
export function qualifiedResource(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}
