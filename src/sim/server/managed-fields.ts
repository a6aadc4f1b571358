/**
 * A small model of server-side apply field ownership: each apply records, per field manager, the
 * fields its configuration set (metadata.managedFields, FieldsV1 encoding); the next apply by the
 * same manager removes the fields it set before and no longer sets. Lists are owned whole (atomic),
 * and conflicts between managers are not detected (as if every apply were forced).
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Rec;
  subresource?: string;
}

/** Fields that identify the object rather than belong to a manager. */
const IDENTITY = new Set([
  'apiVersion',
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.creationTimestamp',
  'metadata.managedFields',
]);

/** The leaf paths an applied configuration sets; maps are followed, everything else is a leaf. */
export function fieldPaths(config: unknown, prefix: string[] = []): string[][] {
  if (!isRec(config)) return prefix.length > 0 ? [prefix] : [];
  const keys = Object.keys(config);
  if (keys.length === 0) return prefix.length > 0 ? [prefix] : [];
  const out: string[][] = [];
  for (const key of keys) {
    const path = [...prefix, key];
    if (IDENTITY.has(path.join('.'))) continue;
    out.push(...fieldPaths(config[key], path));
  }
  return out;
}

export function encodeFieldsV1(paths: string[][]): Rec {
  const root: Rec = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) {
      const k = `f:${key}`;
      if (!isRec(node[k])) node[k] = {};
      node = node[k] as Rec;
    }
  }
  return root;
}

export function decodeFieldsV1(fields: unknown, prefix: string[] = []): string[][] {
  if (!isRec(fields)) return [];
  const keys = Object.keys(fields).filter((k) => k.startsWith('f:'));
  if (keys.length === 0) return prefix.length > 0 ? [prefix] : [];
  return keys.flatMap((k) => decodeFieldsV1(fields[k], [...prefix, k.slice(2)]));
}

/** Removes the fields `manager` applied before and does not apply now, then records what it applies now. */
export function applyOwnership(
  object: Rec,
  config: unknown,
  manager: string,
  apiVersion: string,
  time: string,
): void {
  const metadata = (isRec(object['metadata']) ? object['metadata'] : {}) as Rec;
  const entries = (
    Array.isArray(metadata['managedFields']) ? metadata['managedFields'] : []
  ) as ManagedFieldsEntry[];
  const previous = entries.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
  const now = fieldPaths(config);
  const nowKeys = new Set(now.map((p) => p.join('\u0000')));
  const prefixes = new Set(now.flatMap((p) => p.map((_, i) => p.slice(0, i + 1).join('\u0000'))));
  const ownedByOthers = new Set(
    entries
      .filter((e) => e !== previous)
      .flatMap((e) => decodeFieldsV1(e.fieldsV1))
      .map((p) => p.join('\u0000')),
  );
  for (const path of previous ? decodeFieldsV1(previous.fieldsV1) : []) {
    const key = path.join('\u0000');
    if (nowKeys.has(key) || ownedByOthers.has(key)) continue;
    removePath(object, path, prefixes);
  }
  const kept = entries.filter((e) => e !== previous);
  const fieldsV1 = encodeFieldsV1(now);
  // An apply that sets the same fields keeps the entry's time, so that it can be a no-op write.
  const same = previous && JSON.stringify(previous.fieldsV1) === JSON.stringify(fieldsV1);
  kept.push({
    manager,
    operation: 'Apply',
    apiVersion,
    time: same ? previous.time : time,
    fieldsType: 'FieldsV1',
    fieldsV1,
  });
  metadata['managedFields'] = kept;
  object['metadata'] = metadata;
}

/** Deletes a field, then the maps it leaves empty unless the current configuration still sets them. */
function removePath(object: Rec, path: string[], keep: Set<string>): void {
  const parents: Rec[] = [];
  let node: unknown = object;
  for (const key of path.slice(0, -1)) {
    if (!isRec(node)) return;
    parents.push(node);
    node = node[key];
  }
  if (!isRec(node)) return;
  delete node[path[path.length - 1]!];
  for (let depth = path.length - 1; depth > 0; depth--) {
    const parent = parents[depth - 1]!;
    const key = path[depth - 1]!;
    const child = parent[key];
    if (!isRec(child) || Object.keys(child).length > 0 || keep.has(path.slice(0, depth).join('\u0000')))
      break;
    delete parent[key];
  }
}
