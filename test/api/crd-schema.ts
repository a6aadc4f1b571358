// Validates objects against the generated CRDs' openAPIV3Schema, strictly: unknown fields are errors
// (as `kubectl apply --validate=strict` makes them), except under x-kubernetes-preserve-unknown-fields.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';

type Schema = Record<string, unknown>;

function strict(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, strict(v)]),
      );
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = typeof value === 'object' ? strict(value as Schema) : value;
    } else out[key] = value;
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

// date-time checked as the API server does (RFC 3339); unregistered, ajv warns once per use.
// (A CommonJS module: its plugin is `.default` both to TypeScript and at run time.)
const ajv = ajvFormats.default(new Ajv({ allErrors: true, strict: false }), ['date-time']);
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
for (const file of ['fractale.dev_agentplans.yaml', 'fractale.dev_agentsteps.yaml']) {
  const crd = parse(readFileSync(join(import.meta.dirname, '../../crds', file), 'utf8'));
  const schema = crd.spec.versions[0].schema.openAPIV3Schema as Schema;
  // metadata is validated by the API server itself, not by the CRD schema.
  const props = { ...(schema['properties'] as Record<string, Schema>) };
  const { metadata: _metadata, ...rest } = props;
  validators.set(crd.spec.names.kind, ajv.compile(strict({ ...schema, properties: { ...rest } })));
}

/** Returns `field: message` errors for an object of a fractale kind, or [] when it is valid. */
export function crdErrors(object: { kind: string }): string[] {
  const validate = validators.get(object.kind);
  if (!validate) return [`kind: unknown kind ${object.kind}`];
  const { metadata: _metadata, ...rest } = object as Record<string, unknown>;
  if (validate(rest)) return [];
  return (validate.errors ?? []).map((e) => {
    let field = e.instancePath
      .replace(/^\//, '')
      .replace(/\/(\d+)/g, '[$1]')
      .replace(/\//g, '.');
    if (e.keyword === 'required') field += `${field ? '.' : ''}${String(e.params['missingProperty'])}`;
    const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : '';
    return `${field || '(root)'}: ${e.message}${extra}`;
  });
}
