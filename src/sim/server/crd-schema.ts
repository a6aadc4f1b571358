/**
 * What kube-apiserver checks in a CRD's openAPIV3Schema when the CRD is written, in its words
 * (k8s.io/apiextensions-apiserver: apis/apiextensions/validation and apiserver/schema, v0.34):
 * the OpenAPI subset it supports, the structural-schema invariants (every field typed, metadata
 * limited to name and generateName, no additionalProperties beside properties or at the root,
 * value validations free of types and descriptions), defaults valid against their schema and
 * already pruned, and the estimated cost of x-kubernetes-validations rules.
 *
 * Paths are written as field.Path prints them (`properties[spec].items`). Where the real server
 * walks a Go map the order of several errors is not fixed; one broken rule gives one error.
 */
import { estimateRuleCost, RULE_COST_LIMIT, SCHEMA_COST_LIMIT } from './cel-cost.ts';
import { compileRule, type FieldCause, type JSONSchema, prune, validate } from './schema.ts';

const OPENAPI_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const UNSUPPORTED: [string, string][] = [
  ['id', 'id is not supported'],
  ['additionalItems', 'additionalItems is not supported'],
  ['patternProperties', 'patternProperties is not supported'],
  ['definitions', 'definitions is not supported'],
  ['dependencies', 'dependencies is not supported'],
  ['$ref', '$ref is not supported'],
];
const VALIDATION_REASONS = [
  'FieldValueDuplicate',
  'FieldValueForbidden',
  'FieldValueInvalid',
  'FieldValueRequired',
];
const META_FIELDS = ['apiVersion', 'kind', 'metadata'];

type Level = 'root' | 'item' | 'field';

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** JSON as Go's encoding/json writes it for a field error's value: map keys sorted. */
export function goJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${goJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return goJson(v);
}

const forbidden = (field: string, detail: string): FieldCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${detail}`,
});
const required = (field: string, detail: string): FieldCause => ({
  reason: 'FieldValueRequired',
  field,
  message: detail ? `Required value: ${detail}` : 'Required value',
});
const invalidValue = (field: string, value: unknown, detail: string): FieldCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${goValue(value)}: ${detail}`,
});
const notSupported = (field: string, value: unknown, supported: string[]): FieldCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

const key = (path: string, name: string) => `${path}.properties[${name}]`;

/**
 * The errors kube-apiserver reports for one version's openAPIV3Schema at `path` (for example
 * `spec.validation.openAPIV3Schema`), in the order it reports them: the structural errors (sorted,
 * as ValidateStructural sorts them) or else the defaults' errors, then the OpenAPI ones, then the
 * rules' cost.
 */
export function crdSchemaErrors(schema: JSONSchema, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  if (schema.nullable === true)
    causes.push(forbidden(`${path}.nullable`, 'nullable cannot be true at the root'));
  const structural = structuralErrors(schema, 'root', path);
  structural.sort((a, b) => errorText(a).localeCompare(errorText(b), 'en'));
  causes.push(...structural);
  if (structural.length === 0) causes.push(...defaultErrors(schema, path, schema, false));
  const openapi = openApiErrors(schema, path, { root: true, insideMeta: false, metaDefault: '' });
  causes.push(...openapi);
  if (structural.length === 0 && openapi.length === 0) causes.push(...costErrors(schema, path));
  return causes;
}

const errorText = (c: FieldCause) => `${c.field}: ${c.message}`;

// ---- the OpenAPI subset (ValidateCustomResourceDefinitionOpenAPISchema) ----

interface OpenApiContext {
  root: boolean;
  insideMeta: boolean;
  /** Why a default is refused here ("in top-level metadata"), or '' where defaults are allowed. */
  metaDefault: string;
}

function openApiErrors(s: JSONSchema, path: string, ctx: OpenApiContext): FieldCause[] {
  const causes: FieldCause[] = [];
  if (typeof s.type === 'string' && s.type !== '' && !OPENAPI_TYPES.includes(s.type)) {
    causes.push(notSupported(`${path}.type`, s.type, OPENAPI_TYPES));
  }
  if (s.default !== undefined && ctx.metaDefault) {
    causes.push(forbidden(`${path}.default`, `must not be set ${ctx.metaDefault}`));
  }
  for (const [keyword, detail] of UNSUPPORTED) {
    if (s[keyword] !== undefined) causes.push(forbidden(`${path}.${keyword}`, detail));
  }
  if (s.type === 'null') {
    causes.push(forbidden(`${path}.type`, 'type cannot be set to null, use nullable as an alternative'));
  }
  if (Array.isArray(s.items)) {
    causes.push(forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  }
  if (ctx.insideMeta && s['x-kubernetes-embedded-resource'] === true) {
    causes.push(
      forbidden(`${path}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'),
    );
  }
  if (s.uniqueItems === true) {
    causes.push(
      forbidden(
        `${path}.uniqueItems`,
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  }
  const hasProperties = isObject(s.properties) && Object.keys(s.properties).length > 0;
  if (s.additionalProperties !== undefined && hasProperties && s.additionalProperties !== true) {
    causes.push(
      forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'),
    );
  }
  if (isObject(s.additionalProperties)) {
    causes.push(
      ...openApiErrors(s.additionalProperties as JSONSchema, `${path}.additionalProperties`, {
        root: false,
        insideMeta: ctx.insideMeta,
        metaDefault: ctx.insideMeta
          ? 'inside additionalProperties applying to object metadata'
          : ctx.metaDefault,
      }),
    );
  }
  for (const [name, sub] of Object.entries(s.properties ?? {})) {
    const meta = (ctx.root || s['x-kubernetes-embedded-resource'] === true) && META_FIELDS.includes(name);
    causes.push(
      ...openApiErrors(sub, key(path, name), {
        root: false,
        insideMeta: ctx.insideMeta || meta,
        metaDefault: meta && ctx.root ? `in top-level ${name}` : ctx.metaDefault,
      }),
    );
  }
  const nested = { ...ctx, root: false };
  if (isObject(s.not)) causes.push(...openApiErrors(s.not, `${path}.not`, nested));
  for (const alt of ['allOf', 'oneOf', 'anyOf'] as const) {
    (s[alt] ?? []).forEach((sub, i) => {
      causes.push(...openApiErrors(sub, `${path}.${alt}[${i}]`, nested));
    });
  }
  if (isObject(s.items)) causes.push(...openApiErrors(s.items, `${path}.items`, nested));
  causes.push(...extensionErrors(s, path));
  return causes;
}

/** x-kubernetes-* extensions and x-kubernetes-validations as written (not their CEL). */
function extensionErrors(s: JSONSchema, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const preserve = s['x-kubernetes-preserve-unknown-fields'];
  if (preserve === false) {
    causes.push(
      invalidValue(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'),
    );
  }
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined) {
    if (!s.type)
      causes.push(required(`${path}.type`, 'must be object if x-kubernetes-map-type is specified'));
    else if (s.type !== 'object')
      causes.push(
        invalidValue(`${path}.type`, s.type, 'must be object if x-kubernetes-map-type is specified'),
      );
    if (mapType !== 'atomic' && mapType !== 'granular')
      causes.push(notSupported(`${path}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));
  }
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (!s.type)
      causes.push(required(`${path}.type`, 'must be array if x-kubernetes-list-type is specified'));
    else if (s.type !== 'array')
      causes.push(
        invalidValue(`${path}.type`, s.type, 'must be array if x-kubernetes-list-type is specified'),
      );
    if (!['atomic', 'set', 'map'].includes(String(listType)))
      causes.push(notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
    if (listType === 'map' && !(s['x-kubernetes-list-map-keys'] ?? []).length)
      causes.push(
        required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'),
      );
  }
  (s['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
    const at = `${path}.x-kubernetes-validations[${i}]`;
    if (!rule.rule) causes.push(required(`${at}.rule`, 'rule is not specified'));
    if (rule.message !== undefined && rule.message.trim() === '')
      causes.push(invalidValue(`${at}.message`, rule.message, 'must be non-empty if specified'));
    else if (rule.message !== undefined && /[\n\r]/.test(rule.message))
      causes.push(invalidValue(`${at}.message`, rule.message, 'must not contain line breaks'));
    if (rule.reason !== undefined && !VALIDATION_REASONS.includes(rule.reason))
      causes.push(notSupported(`${at}.reason`, rule.reason, VALIDATION_REASONS));
    if (rule.rule) {
      try {
        compileRule(rule.rule);
      } catch (err) {
        // The server prints the rule as its internal Go struct (no JSON tags: every field, in order).
        const value = `{"Rule":${JSON.stringify(rule.rule)},"Message":${JSON.stringify(rule.message ?? '')},"MessageExpression":${JSON.stringify(rule.messageExpression ?? '')},"Reason":${rule.reason ? JSON.stringify(rule.reason) : 'null'},"FieldPath":${JSON.stringify(rule.fieldPath ?? '')},"OptionalOldSelf":null}`;
        causes.push({
          reason: 'FieldValueInvalid',
          field: `${at}.rule`,
          message: `Invalid value: ${value}: compilation failed: ${(err as Error).message.split('\n')[0]}`,
        });
      }
    }
  });
  return causes;
}

// ---- structural invariants (schema.ValidateStructural) ----

function structuralErrors(s: JSONSchema, level: Level, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  if (s.type === 'array' && s.items === undefined)
    causes.push(required(`${path}.items`, 'must be specified'));
  if (isObject(s.items)) causes.push(...structuralErrors(s.items, 'item', `${path}.items`));
  for (const [name, sub] of Object.entries(s.properties ?? {})) {
    causes.push(...structuralErrors(sub, 'field', key(path, name)));
  }
  if (s.additionalProperties !== undefined) {
    if (level === 'root')
      causes.push(forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
    if (isObject(s.additionalProperties))
      causes.push(...structuralErrors(s.additionalProperties, 'field', `${path}.additionalProperties`));
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) {
    causes.push(
      invalidValue(
        `${path}.x-kubernetes-preserve-unknown-fields`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  if (intOrString && embedded) {
    causes.push(
      invalidValue(
        `${path}.x-kubernetes-embedded-resource`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  causes.push(...valueValidationErrors(s, path, intOrString));
  if (embedded && s.type !== 'object') {
    if (!s.type)
      causes.push(required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else
      causes.push(
        invalidValue(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'),
      );
  } else if (!s.type && !intOrString && !preserve) {
    const where = {
      root: 'at the root',
      item: 'for specified array items',
      field: 'for specified object fields',
    };
    causes.push(required(`${path}.type`, `must not be empty ${where[level]}`));
  }
  if (embedded && s.additionalProperties !== undefined) {
    causes.push(
      forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'),
    );
  }
  if (level === 'root' && s.type && s.type !== 'object') {
    causes.push(invalidValue(`${path}.type`, s.type, 'must be object at the root'));
  }
  const checkMetadata = level === 'root' || embedded;
  for (const name of ['kind', 'apiVersion']) {
    const sub = s.properties?.[name];
    if (sub && checkMetadata && sub.type !== 'string') {
      causes.push(invalidValue(`${key(path, name)}.type`, sub.type ?? '', 'must be string'));
    }
  }
  const metadata = s.properties?.['metadata'];
  if (metadata) {
    const at = key(path, 'metadata');
    if (checkMetadata && metadata.type !== 'object')
      causes.push(invalidValue(`${at}.type`, metadata.type ?? '', 'must be object'));
    if (level === 'root' && !onlyNameAndGenerateName(metadata)) {
      causes.push(
        forbidden(
          at,
          'must not specify anything other than name and generateName, but metadata is implicitly specified',
        ),
      );
    }
  }
  if (embedded && !preserve && Object.keys(s.properties ?? {}).length === 0) {
    causes.push(
      required(
        `${path}.properties`,
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
  return causes;
}

/**
 * Root metadata may say only `type` (which is ignored) and constraints on name and generateName:
 * the server owns ObjectMeta, so a description, a rule or any other property is refused.
 */
function onlyNameAndGenerateName(metadata: JSONSchema): boolean {
  const names = Object.keys(metadata.properties ?? {});
  const onlyNames = names.every((n) => n === 'name' || n === 'generateName');
  return Object.keys(metadata).every((k) => {
    if (k === 'type' || k === 'default') return true;
    if (k === 'properties') return onlyNames;
    return false;
  });
}

const FORBIDDEN_IN_VALUE_VALIDATION: [string, string][] = [
  ['type', 'must be empty to be structural'],
  ['default', 'must be undefined to be structural'],
  ['title', 'must be empty to be structural'],
  ['description', 'must be empty to be structural'],
  ['nullable', 'must be false to be structural'],
  ['x-kubernetes-preserve-unknown-fields', 'must be false to be structural'],
  ['x-kubernetes-embedded-resource', 'must be false to be structural'],
  ['x-kubernetes-int-or-string', 'must be false to be structural'],
  ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
  ['x-kubernetes-list-type', 'must be undefined to be structural'],
  ['x-kubernetes-map-type', 'must be undefined to be structural'],
];

/** anyOf, allOf, oneOf and not may only constrain values, never declare their shape. */
function valueValidationErrors(s: JSONSchema, path: string, intOrString: boolean): FieldCause[] {
  // int-or-string is spelt `anyOf: [{type: integer}, {type: string}]` by generators; it is allowed.
  const skipAnyOf = intOrString && isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = intOrString && isIntOrStringAnyOf(s.allOf?.[0]?.anyOf);
  const causes = alternatives(s, path, skipAnyOf, skipFirstAllOfAnyOf).flatMap(([v, at, skip]) =>
    nestedErrors(v, at, skip),
  );
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch (err) {
      causes.push(
        invalidValue(
          `${path}.pattern`,
          s.pattern,
          `must be a valid regular expression, but isn't: ${(err as Error).message}`,
        ),
      );
    }
  }
  return causes;
}

/** The value validations under a node, each with its path and whether its own anyOf is skipped. */
function alternatives(
  s: JSONSchema,
  path: string,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
): [JSONSchema, string, boolean][] {
  const list = (name: 'anyOf' | 'allOf' | 'oneOf', skipFirst = false): [JSONSchema, string, boolean][] =>
    (s[name] ?? []).map((v, i) => [v, `${path}.${name}[${i}]`, i === 0 && skipFirst]);
  const out = [...(skipAnyOf ? [] : list('anyOf')), ...list('allOf', skipFirstAllOfAnyOf), ...list('oneOf')];
  if (isObject(s.not)) out.push([s.not, `${path}.not`, false]);
  return out;
}

function isIntOrStringAnyOf(options: JSONSchema[] | undefined): boolean {
  return (
    options?.length === 2 &&
    options.every((o, i) => Object.keys(o).length === 1 && o.type === ['integer', 'string'][i])
  );
}

function nestedErrors(v: JSONSchema, path: string, skipAnyOf: boolean): FieldCause[] {
  const causes = alternatives(v, path, skipAnyOf, false).flatMap(([o, at, skip]) =>
    nestedErrors(o, at, skip),
  );
  if (isObject(v.items)) causes.push(...nestedErrors(v.items, `${path}.items`, false));
  for (const [name, sub] of Object.entries(v.properties ?? {}))
    causes.push(...nestedErrors(sub, key(path, name), false));
  for (const [keyword, detail] of FORBIDDEN_IN_VALUE_VALIDATION) {
    const value = v[keyword];
    const set = Array.isArray(value)
      ? value.length > 0
      : value !== undefined && value !== false && value !== '';
    if (set) causes.push(forbidden(`${path}.${keyword}`, detail));
  }
  if (v.additionalProperties !== undefined)
    causes.push(forbidden(`${path}.additionalProperties`, 'must be undefined to be structural'));
  if ((v['x-kubernetes-validations'] ?? []).length > 0)
    causes.push(forbidden(`${path}.x-kubernetes-validations`, 'must be empty to be structural'));
  if (v.properties?.['metadata'])
    causes.push(forbidden(key(path, 'metadata'), 'must not be specified in a nested context'));
  return causes;
}

// ---- defaults (structuraldefaulting.ValidateDefaults) ----

/** A default must already be pruned and valid against the schema it sits in. */
function defaultErrors(s: JSONSchema, path: string, root: JSONSchema, insideMeta: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  if (s.default !== undefined && !insideMeta) {
    const pruned = structuredClone(s.default);
    prune(pruned, s, '', s['x-kubernetes-embedded-resource'] === true);
    if (goJson(pruned) !== goJson(s.default)) {
      causes.push(invalidValue(`${path}.default`, s.default, 'must not have unknown fields'));
    } else {
      // The server validates the default as a document of its own: causes under `<path>.default`,
      // and messages whose body path is relative to the default (empty for the default itself).
      for (const c of validate(structuredClone(s.default), s, '')) {
        causes.push({
          ...c,
          field: c.field ? `${path}.default.${c.field}` : `${path}.default`,
          message: c.message.replace('<root> in body', ' in body'),
        });
      }
    }
  }
  if (isObject(s.items)) causes.push(...defaultErrors(s.items, `${path}.items`, root, insideMeta));
  for (const [name, sub] of Object.entries(s.properties ?? {})) {
    const meta = (s === root || s['x-kubernetes-embedded-resource'] === true) && name === 'metadata';
    causes.push(...defaultErrors(sub, key(path, name), root, insideMeta || meta));
  }
  return causes;
}

// ---- rule cost (cel.Compile's estimate against celconfig limits) ----

function costErrors(schema: JSONSchema, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const expensive: { path: string; cost: number }[] = [];
  let total = 0;
  for (const { path: rulePath, cost } of estimateRuleCost(schema, path)) {
    if (cost > RULE_COST_LIMIT)
      causes.push(forbidden(rulePath, costMessage('estimated rule cost', cost, RULE_COST_LIMIT)));
    total += cost;
    if (cost >= SCHEMA_COST_LIMIT / 100) expensive.push({ path: rulePath, cost });
  }
  if (total > SCHEMA_COST_LIMIT) {
    expensive.sort((a, b) => b.cost - a.cost);
    for (const e of expensive.slice(0, 4)) {
      causes.push(
        forbidden(
          e.path,
          'contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema',
        ),
      );
    }
    causes.push(
      forbidden(
        path,
        costMessage(
          'x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema',
          total,
          SCHEMA_COST_LIMIT,
        ),
      ),
    );
  }
  return causes;
}

function costMessage(name: string, cost: number, limit: number): string {
  const factor = cost / limit;
  const shown =
    factor > 100 ? 'more than 100x' : factor < 1.5 ? `${factor.toFixed(6)}x` : `${factor.toFixed(1)}x`;
  return `${name} exceeds budget by factor of ${shown} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}

/**
 * The schema errors of a v1 CRD's versions. The server validates the internal form, where a schema
 * shared by every version is hoisted to `spec.validation`: that is the path it reports then (so a
 * one-version CRD's errors read `spec.validation.openAPIV3Schema...`).
 */
export function versionSchemaErrors(versions: unknown[]): FieldCause[] {
  const schemas = versions.map((v) => {
    const schema = isObject(v) && isObject(v['schema']) ? v['schema']['openAPIV3Schema'] : undefined;
    return isObject(schema) ? (schema as JSONSchema) : undefined;
  });
  const missing = schemas.flatMap((s, i) =>
    s ? [] : [required(`spec.versions[${i}].schema.openAPIV3Schema`, '')],
  );
  if (missing.length > 0) return missing;
  const first = schemas[0]!;
  if (schemas.every((s) => goJson(s) === goJson(first)))
    return crdSchemaErrors(first, 'spec.validation.openAPIV3Schema');
  return schemas.flatMap((s, i) => crdSchemaErrors(s!, `spec.versions[${i}].schema.openAPIV3Schema`));
}
