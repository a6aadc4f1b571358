/**
 * The patch formats the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
 * Kubernetes strategic merge patch (lists of built-in types merged by their merge keys).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Thrown for a patch that cannot be applied; the server answers with `code` (400 or 422). */
export class PatchError extends Error {
  code: number;
  constructor(message: string, code = 400) {
    super(message);
    this.code = code;
  }
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...(target as JsonObject) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v) as Json;
  }
  return result;
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer: "${pointer}"`);
  return pointer.slice(1).split('/').map(unescapePointer);
}

function arrayIndex(arr: Json[], token: string, forAdd: boolean, pointer: string): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new PatchError(`invalid array index "${token}" in ${pointer}`, 422);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) {
    throw new PatchError(`unable to access invalid index: ${i}`, 422);
  }
  return i;
}

function parentOf(doc: Json, tokens: string[], pointer: string): Json {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false, pointer)]!;
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t]!;
    else throw new PatchError(`doc is missing path: "${pointer}": missing value`, 422);
  }
  return cur;
}

function getAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false, pointer)]!;
  if (isObject(parent) && Object.hasOwn(parent, last)) return parent[last]!;
  throw new PatchError(`doc is missing path: "${pointer}": missing value`, 422);
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, pointer), 1)[0]!;
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const v = parent[last]!;
    delete parent[last];
    return v;
  }
  throw new PatchError(`Unable to remove nonexistent key: ${last}: missing value`, 422);
}

function addAt(doc: Json, pointer: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, !replace, pointer);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, last)) {
      throw new PatchError(`doc is missing key: ${pointer}: missing value`, 422);
    }
    parent[last] = value;
  } else {
    throw new PatchError(`doc is missing path: "${pointer}": missing value`, 422);
  }
  return doc;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) {
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  let doc = clone(target) as Json;
  for (const op of operations as JsonObject[]) {
    const path = String(op['path'] ?? '');
    switch (op['op']) {
      case 'add':
        doc = addAt(doc, path, clone(op['value'] ?? null), false);
        break;
      case 'replace':
        doc = addAt(doc, path, clone(op['value'] ?? null), true);
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'move': {
        const v = removeAt(doc, String(op['from']));
        doc = addAt(doc, path, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, clone(getAt(doc, String(op['from']))), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op['value'])) {
          throw new PatchError(`testing value ${path} failed: test failed`, 422);
        }
        break;
      default:
        throw new PatchError(`Unexpected kind: ${String(op['op'])}`);
    }
  }
  return doc;
}

/**
 * Merge keys of the built-in list fields (patchMergeKey in k8s.io/api); lists not named here are
 * replaced whole, as for atomic lists. Primitive lists with patchStrategy merge are `PRIMITIVE_MERGE`.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologySpreadConstraints',
  resourceClaims: 'name',
  secrets: 'name',
};
const PRIMITIVE_MERGE = new Set(['finalizers']);

/** Service ports are keyed by `port`, Pod container ports by `containerPort`. */
function mergeKeyFor(field: string, kind: string | undefined): string | undefined {
  if (field === 'ports' && kind === 'Service') return 'port';
  if (field === 'topologySpreadConstraints') return 'topologyKey';
  return MERGE_KEYS[field];
}

export function strategicMergePatch(target: unknown, patch: unknown, kind?: string): unknown {
  return smpObject(isObject(target) ? target : {}, patch, kind);
}

function smpObject(original: JsonObject, patch: unknown, kind: string | undefined): Json {
  if (!isObject(patch)) return clone(patch as Json);
  const directive = patch['$patch'];
  if (directive === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  if (directive === 'delete') return null;
  let result: JsonObject = { ...original };
  const retainKeys = patch['$retainKeys'];
  if (Array.isArray(retainKeys)) {
    const keep = new Set(retainKeys.map(String));
    result = Object.fromEntries(Object.entries(result).filter(([k]) => keep.has(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    if (key === '$patch' || key === '$retainKeys') continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (Array.isArray(value)) {
      result[key] = smpList(key, Array.isArray(current) ? current : [], value, kind);
    } else if (isObject(value)) {
      const merged = smpObject(isObject(current) ? current : {}, value, kind);
      if (merged === null) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/') && Array.isArray(value)) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const list = result[field];
      if (Array.isArray(list)) {
        const drop = new Set(value.map((v) => JSON.stringify(v)));
        result[field] = list.filter((v) => !drop.has(JSON.stringify(v)));
      }
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') && Array.isArray(value)) {
      const field = key.slice('$setElementOrder/'.length);
      const list = result[field];
      if (Array.isArray(list)) result[field] = orderList(list, value, mergeKeyFor(field, kind));
    }
  }
  return result;
}

function smpList(field: string, original: Json[], patch: Json[], kind: string | undefined): Json[] {
  const mergeKey = mergeKeyFor(field, kind);
  if (PRIMITIVE_MERGE.has(field)) {
    const out = [...original];
    for (const v of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
    return out;
  }
  if (!mergeKey) {
    if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) return [];
    return clone(patch);
  }
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) {
    return clone(patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace')));
  }
  const out: Json[] = [...original];
  for (const item of patch) {
    if (!isObject(item)) {
      out.push(item);
      continue;
    }
    const keyValue = JSON.stringify(item[mergeKey]);
    const at = out.findIndex((o) => isObject(o) && JSON.stringify(o[mergeKey]) === keyValue);
    if (item['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = smpObject(out[at] as JsonObject, item, kind);
    else out.push(smpObject({}, item, kind));
  }
  return out;
}

/** Orders a merged list as `$setElementOrder` says; items not named keep their relative order at the end. */
function orderList(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const keyOf = (v: Json) => JSON.stringify(mergeKey && isObject(v) ? v[mergeKey] : v);
  const rank = new Map(order.map((o, i) => [keyOf(o), i]));
  return [...list].sort(
    (a, b) => (rank.get(keyOf(a)) ?? order.length) - (rank.get(keyOf(b)) ?? order.length),
  );
}
