/**
 * The static cost estimate kube-apiserver makes of a CRD's x-kubernetes-validations rules, so the
 * sim refuses the rules a real server refuses. It follows cel-go's cost model where rules spend
 * their cost (identifiers and selects 1, calls 1, string traversals 0.1 per byte, a macro's body
 * once per element of the collection it ranges over) and apiextensions' size estimates (a list with
 * no maxItems holds as many of its smallest items as fit in a 3 MiB request). It is an estimate of
 * an estimate: it agrees with the real server on which rules pass and on the wording, and on
 * "more than 100x" for the quadratic rules that are the usual culprit; a factor below 100 may
 * differ in its decimals.
 */
import { parse as parseCel } from '@marcbachmann/cel-js';
import type { JSONSchema } from './schema.ts';

/** celconfig.PerCallLimit-derived StaticEstimatedCostLimit and StaticEstimatedCRDCostLimit. */
export const RULE_COST_LIMIT = 10_000_000;
export const SCHEMA_COST_LIMIT = 100_000_000;
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

/** What a CEL value of a schema node can be: its element type and how many elements it may hold. */
interface Shape {
  kind: 'list' | 'map' | 'object' | 'string' | 'scalar';
  schema: JSONSchema | undefined;
  /** Elements of a list or map, characters (bytes) of a string. */
  maxSize: number;
  minSerializedSize: number;
}

function shapeOf(s: JSONSchema | undefined): Shape {
  if (!s) return { kind: 'scalar', schema: s, maxSize: 0, minSerializedSize: 1 };
  if (s['x-kubernetes-int-or-string'])
    return {
      kind: 'string',
      schema: s,
      maxSize: s.maxLength !== undefined ? s.maxLength * 4 : MAX_REQUEST_BYTES - 2,
      minSerializedSize: 1,
    };
  switch (s.type) {
    case 'array': {
      const item = shapeOf(s.items);
      const max = s.maxItems ?? Math.floor((MAX_REQUEST_BYTES - 2) / (item.minSerializedSize + 1));
      return { kind: 'list', schema: s, maxSize: max, minSerializedSize: 2 };
    }
    case 'object': {
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        const value = shapeOf(s.additionalProperties);
        const max = s.maxProperties ?? Math.floor((MAX_REQUEST_BYTES - 2) / (value.minSerializedSize + 6));
        return { kind: 'map', schema: s, maxSize: max, minSerializedSize: 2 };
      }
      let min = 2;
      for (const name of s.required ?? []) {
        const prop = s.properties?.[name];
        if (prop && prop.default === undefined) min += name.length + shapeOf(prop).minSerializedSize + 4;
      }
      return { kind: 'object', schema: s, maxSize: 0, minSerializedSize: min };
    }
    case 'string': {
      let max = MAX_REQUEST_BYTES - 2;
      if (s.format === 'date-time' || s.format === 'duration') max = 32;
      else if (s.format === 'date') max = 12;
      else if (s.maxLength !== undefined) max = s.format === 'byte' ? s.maxLength : s.maxLength * 4;
      else if (s.enum?.length) max = Math.max(...s.enum.map((e) => String(e).length));
      return { kind: 'string', schema: s, maxSize: max, minSerializedSize: 2 };
    }
    case 'boolean':
      return { kind: 'scalar', schema: s, maxSize: 0, minSerializedSize: 4 };
    default:
      return { kind: 'scalar', schema: s, maxSize: 0, minSerializedSize: 1 };
  }
}

function elementSchema(shape: Shape): JSONSchema | undefined {
  if (shape.kind === 'list') return shape.schema?.items;
  if (shape.kind === 'map' && typeof shape.schema?.additionalProperties === 'object')
    return shape.schema.additionalProperties as JSONSchema;
  return undefined;
}

interface Node {
  op: string;
  args: unknown;
}

const STRING_TRAVERSAL = 0.1;
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

/** Estimates one expression's maximum cost with `self` bound to the rule's schema node. */
function costOf(node: Node, scope: Map<string, Shape>): { cost: number; shape: Shape | undefined } {
  const args = node.args as unknown[];
  switch (node.op) {
    case 'value':
      return { cost: 0, shape: undefined };
    case 'id':
      return { cost: 1, shape: scope.get(node.args as string) };
    case '.':
    case '.?': {
      const target = costOf(args[0] as Node, scope);
      const field = args[1] as string;
      const sub =
        target.shape?.kind === 'object'
          ? target.shape.schema?.properties?.[field]
          : elementSchema(target.shape ?? shapeOf(undefined));
      const selectCost = target.shape?.kind === 'object' || target.shape?.kind === 'map' ? 1 : 0;
      return { cost: target.cost + selectCost, shape: sub ? shapeOf(sub) : undefined };
    }
    case '[]':
    case '[?]': {
      const target = costOf(args[0] as Node, scope);
      const index = costOf(args[1] as Node, scope);
      const sub = target.shape ? elementSchema(target.shape) : undefined;
      return { cost: target.cost + index.cost + 1, shape: sub ? shapeOf(sub) : undefined };
    }
    case 'rcall': {
      const [name, target, callArgs] = args as [string, Node, Node[]];
      const receiver = costOf(target, scope);
      if (MACROS.has(name) && callArgs.length === 2) return macroCost(name, receiver, callArgs, scope);
      let cost = receiver.cost + 1;
      let length = receiver.shape?.kind === 'string' ? receiver.shape.maxSize : 0;
      for (const a of callArgs) {
        const c = costOf(a, scope);
        cost += c.cost;
        if (c.shape?.kind === 'string') length = Math.max(length, c.shape.maxSize);
      }
      // String functions (contains, startsWith, matches, ...) traverse their receiver.
      if (receiver.shape?.kind === 'string') cost += Math.ceil(length * STRING_TRAVERSAL);
      return { cost, shape: undefined };
    }
    case 'call': {
      const [, callArgs] = args as [string, Node[]];
      let cost = 1;
      for (const a of callArgs) cost += costOf(a, scope).cost;
      return { cost, shape: undefined };
    }
    case '&&':
    case '||': {
      const [l, r] = args as Node[];
      return { cost: costOf(l!, scope).cost + costOf(r!, scope).cost, shape: undefined };
    }
    case '?:': {
      const [c, t, f] = args as Node[];
      return {
        cost: costOf(c!, scope).cost + Math.max(costOf(t!, scope).cost, costOf(f!, scope).cost),
        shape: undefined,
      };
    }
    case 'list':
    case 'map': {
      let cost = 10;
      for (const a of (Array.isArray(node.args) ? node.args : []) as unknown[]) {
        if (a && typeof a === 'object' && 'op' in (a as object)) cost += costOf(a as Node, scope).cost;
        else if (Array.isArray(a))
          for (const b of a) if (b && typeof b === 'object') cost += costOf(b as Node, scope).cost;
      }
      return { cost, shape: undefined };
    }
    default: {
      // Operators: the operands, plus 1, plus a string traversal for string comparisons.
      let cost = 1;
      let length = 0;
      let allStrings = true;
      for (const a of Array.isArray(args) ? args : []) {
        if (!a || typeof a !== 'object' || !('op' in (a as object))) continue;
        const c = costOf(a as Node, scope);
        cost += c.cost;
        if (c.shape?.kind === 'string') length = Math.max(length, c.shape.maxSize);
        else allStrings = false;
      }
      if (allStrings && length > 0) cost += Math.ceil(length * STRING_TRAVERSAL);
      return { cost, shape: undefined };
    }
  }
}

/** A macro expands to a comprehension: its range once, then step and condition once per element. */
function macroCost(
  name: string,
  receiver: { cost: number; shape: Shape | undefined },
  [variable, body]: Node[],
  scope: Map<string, Shape>,
): { cost: number; shape: Shape | undefined } {
  const count = receiver.shape?.maxSize ?? 0;
  const element = receiver.shape ? elementSchema(receiver.shape) : undefined;
  const inner = new Map(scope);
  inner.set(String(variable!.args), shapeOf(element));
  const bodyCost = costOf(body!, inner).cost;
  // accumulator handling of each macro's expansion (cel-go parser/macro.go)
  const perElement = { all: 3, exists: 4, exists_one: 2, map: 12, filter: 13 }[name] ?? 3;
  const result = name === 'exists_one' ? 2 : 1;
  return { cost: receiver.cost + result + count * (bodyCost + perElement), shape: undefined };
}

export interface RuleCost {
  path: string;
  rule: string;
  cost: number;
}

/**
 * Every rule in the schema with its estimated cost: the expression's own cost times the number of
 * times it can run (the product of the sizes of the lists and maps above it).
 */
export function estimateRuleCost(schema: JSONSchema, path: string): RuleCost[] {
  const out: RuleCost[] = [];
  const walk = (s: JSONSchema, at: string, cardinality: number) => {
    (s['x-kubernetes-validations'] ?? []).forEach((r, i) => {
      let cost: number;
      try {
        const ast = (parseCel(r.rule) as unknown as { ast: Node }).ast;
        const scope = new Map<string, Shape>([
          ['self', shapeOf(s)],
          ['oldSelf', shapeOf(s)],
        ]);
        cost = costOf(ast, scope).cost;
      } catch {
        return;
      }
      out.push({ path: `${at}.x-kubernetes-validations[${i}].rule`, rule: r.rule, cost: cost * cardinality });
    });
    for (const [name, sub] of Object.entries(s.properties ?? {}))
      walk(sub, `${at}.properties[${name}]`, cardinality);
    const shape = shapeOf(s);
    if (s.items && typeof s.items === 'object')
      walk(s.items, `${at}.items`, cardinality * Math.max(shape.maxSize, 1));
    if (s.additionalProperties && typeof s.additionalProperties === 'object')
      walk(
        s.additionalProperties as JSONSchema,
        `${at}.additionalProperties`,
        cardinality * Math.max(shape.maxSize, 1),
      );
  };
  walk(schema, path, 1);
  return out;
}
