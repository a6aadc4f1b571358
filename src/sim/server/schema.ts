/**
 * Structural-schema handling for custom resources, as apiextensions-apiserver does it: pruning of
 * unknown fields, defaulting, OpenAPI v3 validation and x-kubernetes-validations (CEL). Error causes
 * use the field paths and wording of k8s.io/apimachinery field errors.
 */
import { parse as parseCel } from '@marcbachmann/cel-js';

export interface JSONSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchema>;
  items?: JSONSchema;
  additionalProperties?: JSONSchema | boolean;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  anyOf?: JSONSchema[];
  oneOf?: JSONSchema[];
  allOf?: JSONSchema[];
  not?: JSONSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: {
    rule: string;
    message?: string;
    messageExpression?: string;
    fieldPath?: string;
    reason?: string;
  }[];
  [key: string]: unknown;
}

export interface FieldCause {
  reason: string;
  message: string;
  field: string;
}

/** Formats a value the way field errors print it: strings quoted, numbers and booleans bare, else JSON. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Removes fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields) and returns
 * their paths. `root` keeps apiVersion, kind and metadata, as the server does for every object.
 */
export function prune(value: unknown, schema: JSONSchema | undefined, path = '', root = true): string[] {
  const pruned: string[] = [];
  if (!schema) return pruned;
  if (isObject(value)) {
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    for (const key of Object.keys(value)) {
      const sub = schema.properties?.[key];
      // Object metadata is the server's, never pruned by the schema.
      if ((root || embedded) && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
      if (sub) {
        pruned.push(...prune(value[key], sub, join(path, key), false));
      } else if (isObject(schema.additionalProperties)) {
        pruned.push(...prune(value[key], schema.additionalProperties, join(path, key), false));
      } else if (schema.additionalProperties === true || preserve) {
        // kept as is
      } else {
        delete value[key];
        pruned.push(join(path, key));
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      pruned.push(...prune(item, schema.items, `${path}[${i}]`, false));
    });
  }
  return pruned;
}

/** Fills in `default` values for absent properties of present objects (and of array items). */
export function applyDefaults(value: unknown, schema: JSONSchema | undefined): void {
  if (!schema) return;
  if (isObject(value)) {
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (value[key] === undefined && sub.default !== undefined) value[key] = structuredClone(sub.default);
      if (value[key] !== undefined) applyDefaults(value[key], sub);
    }
    if (isObject(schema.additionalProperties)) {
      for (const key of Object.keys(value)) {
        if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties);
      }
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) applyDefaults(item, schema.items);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

type CompiledRule = ReturnType<typeof parseCel>;
const compiledRules = new Map<string, CompiledRule>();

/** Compiles a CEL rule once; throws the parser's error for a rule the evaluator cannot handle. */
export function compileRule(rule: string): CompiledRule {
  let compiled = compiledRules.get(rule);
  if (!compiled) {
    compiled = parseCel(rule);
    // Type-checking finds functions the evaluator lacks (e.g. Kubernetes' isURL or quantity):
    // such a rule is refused when its CRD is written, never skipped.
    const checked = compiled.check() as { valid: boolean; error?: { message?: string } };
    if (!checked.valid) throw new Error(checked.error?.message ?? 'type check failed');
    compiledRules.set(rule, compiled);
  }
  return compiled;
}

/** CEL sees integers as int (bigint here) where the schema says integer, and numbers as double. */
function toCel(v: unknown, schema: JSONSchema | undefined): unknown {
  if (typeof v === 'number') {
    return schema?.type === 'integer' || (schema?.type === undefined && Number.isInteger(v)) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map((item) => toCel(item, schema?.items));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      const sub =
        schema?.properties?.[k] ??
        (isObject(schema?.additionalProperties) ? schema.additionalProperties : undefined);
      out[k] = toCel(item, sub);
    }
    return out;
  }
  return v;
}

/** Collects every rule in a schema so a CRD with a rule we cannot compile is refused when created. */
export function collectRules(
  schema: JSONSchema | undefined,
  path: string,
  out: { path: string; rule: string }[],
): void {
  if (!schema) return;
  (schema['x-kubernetes-validations'] ?? []).forEach((r, i) => {
    out.push({ path: `${path}.x-kubernetes-validations[${i}].rule`, rule: r.rule });
  });
  for (const [k, sub] of Object.entries(schema.properties ?? {}))
    collectRules(sub, `${path}.properties[${k}]`, out);
  if (schema.items) collectRules(schema.items, `${path}.items`, out);
  if (isObject(schema.additionalProperties))
    collectRules(schema.additionalProperties, `${path}.additionalProperties`, out);
}

const ruleCounts = new WeakMap<JSONSchema, number>();

/** Whether the schema has any x-kubernetes-validations rule (then the server runs its CEL validator). */
function hasRules(schema: JSONSchema | undefined): boolean {
  if (!schema) return false;
  let count = ruleCounts.get(schema);
  if (count === undefined) {
    const rules: { path: string; rule: string }[] = [];
    collectRules(schema, '', rules);
    count = rules.length;
    ruleCounts.set(schema, count);
  }
  return count > 0;
}

/** Validates a value against a structural schema; returns causes in the order the server reports them. */
export function validate(
  value: unknown,
  schema: JSONSchema | undefined,
  path = '',
  oldValue?: unknown,
): FieldCause[] {
  const causes: FieldCause[] = [];
  walk(value, schema, path, oldValue, causes, false);
  // As apiextensions-apiserver: CEL rules run only on an object of the right shape.
  const blocking = causes.some((c) =>
    [
      'FieldValueNotSupported',
      'FieldValueRequired',
      'FieldValueTooLong',
      'FieldValueTooMany',
      'FieldValueTypeInvalid',
    ].includes(c.reason),
  );
  if (!hasRules(schema)) return causes;
  if (blocking) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: '<nil>',
      message:
        'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    });
  } else {
    walk(value, schema, path, oldValue, causes, true);
  }
  return causes;
}

function invalid(causes: FieldCause[], field: string, v: unknown, detail: string): void {
  causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${formatValue(v)}: ${detail}` });
}

/** One pass over the value: schema checks, or (`cel`) only the x-kubernetes-validations rules. */
function walk(
  v: unknown,
  s: JSONSchema | undefined,
  path: string,
  old: unknown,
  causes: FieldCause[],
  cel: boolean,
): void {
  if (!s) return;
  if (cel) {
    celWalk(v, s, path, old, causes);
    return;
  }
  const at = path === '' ? '<root>' : path;
  if (v === null) {
    if (s.nullable) return;
    if (s.type) {
      causes.push({
        reason: 'FieldValueTypeInvalid',
        field: path,
        message: `Invalid value: "null": ${at} in body must be of type ${s.type}: "null"`,
      });
    }
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      causes.push({
        reason: 'FieldValueTypeInvalid',
        field: path,
        message: `Invalid value: "${typeName(v)}": ${at} in body must be of type integer,string: "${typeName(v)}"`,
      });
      return;
    }
  } else if (s.type && !matchesType(v, s.type)) {
    causes.push({
      reason: 'FieldValueTypeInvalid',
      field: path,
      message: `Invalid value: "${typeName(v)}": ${at} in body must be of type ${s.type}: "${typeName(v)}"`,
    });
    return;
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: path,
      message: `Unsupported value: ${formatValue(v)}: supported values: ${s.enum.map(formatValue).join(', ')}`,
    });
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      invalid(
        causes,
        path,
        v,
        `${at} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`,
      );
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      invalid(
        causes,
        path,
        v,
        `${at} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`,
      );
    }
  }
  if (typeof v === 'string') {
    const length = [...v].length;
    if (s.maxLength !== undefined && length > s.maxLength) {
      causes.push({
        reason: 'FieldValueTooLong',
        field: path,
        message: `Too long: may not be more than ${s.maxLength} bytes`,
      });
    }
    if (s.minLength !== undefined && length < s.minLength) {
      invalid(causes, path, v, `${at} in body should be at least ${s.minLength} chars long`);
    }
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) {
      invalid(causes, path, v, `${at} in body should match '${s.pattern}'`);
    }
    if (s.format === 'date-time' && Number.isNaN(Date.parse(v))) {
      invalid(causes, path, v, `${at} in body must be of type date-time: ${formatValue(v)}`);
    }
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) {
      causes.push({
        reason: 'FieldValueTooMany',
        field: path,
        message: `Too many: ${v.length}: must have at most ${s.maxItems} items`,
      });
    }
    if (s.minItems !== undefined && v.length < s.minItems) {
      invalid(causes, path, v.length, `${at} in body should have at least ${s.minItems} items`);
    }
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set' || s.uniqueItems) {
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) {
          causes.push({
            reason: 'FieldValueDuplicate',
            field: `${path}[${i}]`,
            message: `Duplicate value: ${formatValue(item)}`,
          });
        }
        seen.add(key);
      });
    }
    if (listType === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        const keyObject = Object.fromEntries(keys.map((k) => [k, item[k]]));
        const key = JSON.stringify(keyObject);
        if (seen.has(key)) {
          causes.push({
            reason: 'FieldValueDuplicate',
            field: `${path}[${i}]`,
            message: `Duplicate value: ${JSON.stringify(keyObject)}`,
          });
        }
        seen.add(key);
      });
    }
    v.forEach((item, i) => {
      walk(item, s.items, `${path}[${i}]`, undefined, causes, false);
    });
  }
  if (isObject(v)) {
    for (const req of s.required ?? []) {
      if (v[req] === undefined)
        causes.push({ reason: 'FieldValueRequired', field: join(path, req), message: 'Required value' });
    }
    const size = Object.keys(v).length;
    if (s.maxProperties !== undefined && size > s.maxProperties) {
      causes.push({
        reason: 'FieldValueTooMany',
        field: path,
        message: `Too many: ${size}: must have at most ${s.maxProperties} items`,
      });
    }
    if (s.minProperties !== undefined && size < s.minProperties) {
      invalid(causes, path, size, `${at} in body should have at least ${s.minProperties} properties`);
    }
    const oldObject = isObject(old) ? old : undefined;
    for (const [key, item] of Object.entries(v)) {
      const sub =
        s.properties?.[key] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
      if (path === '' && key === 'metadata') continue;
      walk(item, sub, join(path, key), oldObject?.[key], causes, false);
    }
  }
  for (const alt of ['anyOf', 'oneOf'] as const) {
    const options = s[alt];
    if (!options || options.length === 0) continue;
    const passing = options.filter((o) => validate(v, o, path).length === 0).length;
    if ((alt === 'anyOf' && passing === 0) || (alt === 'oneOf' && passing !== 1)) {
      invalid(
        causes,
        path,
        v,
        `${at} in body must validate ${alt === 'anyOf' ? 'at least one schema (anyOf)' : 'one and only one schema (oneOf)'}`,
      );
    }
  }
  for (const sub of s.allOf ?? []) walk(v, sub, path, old, causes, false);
  if (s.not && validate(v, s.not, path).length === 0) {
    invalid(causes, path, v, `${at} in body must not validate the schema (not)`);
  }
}

function celWalk(v: unknown, s: JSONSchema, path: string, old: unknown, causes: FieldCause[]): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      if (s.items) celWalk(item, s.items, `${path}[${i}]`, undefined, causes);
    });
  } else if (isObject(v)) {
    const oldObject = isObject(old) ? old : undefined;
    for (const [key, item] of Object.entries(v)) {
      if (path === '' && key === 'metadata') continue;
      const sub =
        s.properties?.[key] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
      if (sub) celWalk(item, sub, join(path, key), oldObject?.[key], causes);
    }
  }
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    // Transition rules (oldSelf) apply only to updates of an existing value.
    if (/\boldSelf\b/.test(rule.rule) && old === undefined) continue;
    let ok: unknown;
    try {
      ok = compileRule(rule.rule)({ self: toCel(v, s), oldSelf: toCel(old, s) });
    } catch (err) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: path,
        message: `Invalid value: "${s.type ?? 'object'}": ${rule.rule}: evaluation error: ${(err as Error).message}`,
      });
      continue;
    }
    if (ok !== true) {
      const fieldPath = rule.fieldPath ? path + rule.fieldPath : path;
      causes.push({
        reason: rule.reason === 'FieldValueRequired' ? 'FieldValueRequired' : 'FieldValueInvalid',
        field: fieldPath,
        message: `Invalid value: "${s.type ?? 'object'}": ${rule.message ?? `failed rule: ${rule.rule}`}`,
      });
    }
  }
}
