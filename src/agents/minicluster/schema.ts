// A compact outline of the MiniCluster schema for the prompt: field names, types and defaults, read
// from the cluster's CRD so the model writes against the Flux Operator that is actually installed.
// `kubectl explain --recursive` (the seed's source) costs several thousand tokens; this costs far fewer.
import { MINICLUSTER_API_VERSION } from './views.ts';

export interface OpenApiSchema {
  type?: string;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema | boolean;
  default?: unknown;
  enum?: unknown[];
  anyOf?: OpenApiSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/**
 * Paths left out of the outline: status, and what the manifest policy refuses or the agent must not
 * touch (security contexts, Secrets, host namespaces, sidecar services, bursting to other clusters).
 * `*.x` matches the field x at any depth.
 */
export const DEFAULT_OMIT = [
  'status',
  'metadata',
  'spec.services',
  'spec.archive',
  'spec.flux.bursting',
  'spec.flux.mungeSecret',
  'spec.flux.curveCert',
  'spec.containers.secrets',
  'spec.pod.hostIPC',
  'spec.pod.hostPID',
  'spec.pod.serviceAccountName',
  '*.imagePullSecret',
  '*.securityContext',
  '*.lifeCycle',
  '*.resources.claims',
] as const;

export interface OutlineOptions {
  omit?: readonly string[];
  /** Deepest nesting shown; deeper objects show as `object`. */
  maxDepth?: number;
}

const matches = (path: string, pattern: string) =>
  pattern.startsWith('*.')
    ? path === pattern.slice(2) || path.endsWith(`.${pattern.slice(2)}`)
    : path === pattern;

function typeOf(schema: OpenApiSchema): string {
  if (schema['x-kubernetes-int-or-string']) return 'int-or-string';
  if (schema.anyOf) return schema.anyOf.map(typeOf).join('|');
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'any'}`;
  if (
    schema.type === 'object' &&
    schema.additionalProperties &&
    typeof schema.additionalProperties === 'object'
  ) {
    return `map of ${typeOf(schema.additionalProperties)}`;
  }
  return schema.type ?? 'any';
}

/** Indented `name: type` lines, one per field; lists of objects show as `name[]:` with their fields below. */
export function schemaOutline(schema: OpenApiSchema, options: OutlineOptions = {}): string {
  const omit = options.omit ?? DEFAULT_OMIT;
  const maxDepth = options.maxDepth ?? 6;
  const out: string[] = [];
  const walk = (node: OpenApiSchema, path: string, depth: number) => {
    for (const [name, child] of Object.entries(node.properties ?? {}).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const childPath = path ? `${path}.${name}` : name;
      if (omit.some((pattern) => matches(childPath, pattern))) continue;
      const indent = '  '.repeat(depth);
      const fields = child.type === 'array' ? child.items : child;
      const nested = fields?.properties && Object.keys(fields.properties).length > 0;
      const suffix = [
        child.enum ? `one of ${child.enum.map(String).join('|')}` : undefined,
        child.default !== undefined && typeof child.default !== 'object'
          ? `default ${String(child.default)}`
          : undefined,
      ]
        .filter(Boolean)
        .join(', ');
      if (nested && depth < maxDepth) {
        out.push(`${indent}${name}${child.type === 'array' ? '[]' : ''}:${suffix ? ` (${suffix})` : ''}`);
        walk(fields!, childPath, depth + 1);
      } else {
        out.push(`${indent}${name}: ${nested ? 'object' : typeOf(child)}${suffix ? ` (${suffix})` : ''}`);
      }
    }
  };
  walk(schema, '', 0);
  return out.join('\n');
}

/** The outline of the MiniCluster version fractale writes, from a CRD object as read from the API. */
export function miniclusterSchemaOutline(crd: unknown, options: OutlineOptions = {}): string | undefined {
  const version = MINICLUSTER_API_VERSION.split('/')[1];
  const versions = (
    crd as { spec?: { versions?: { name?: string; schema?: { openAPIV3Schema?: OpenApiSchema } }[] } }
  )?.spec?.versions;
  const schema = versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
  return schema ? schemaOutline(schema, options) : undefined;
}
