/**
 * Reads the Kubernetes protobuf envelope (`k8s\0` + runtime.Unknown) and the few object messages
 * kubectl's typed clients send (`kubectl create job|configmap|namespace|secret|serviceaccount`),
 * using the field numbers of k8s.io/api generated.proto. Unknown fields are skipped.
 */

type FieldType = 'string' | 'int' | 'bool' | 'bytes' | 'stringMap' | 'bytesMap' | Message;
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
interface Message {
  fields: Record<number, Field>;
}

export class ProtobufError extends Error {}

const msg = (fields: Record<number, Field>): Message => ({ fields });

const ownerReference = msg({
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
});

const objectMeta = msg({
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  11: { name: 'labels', type: 'stringMap' },
  12: { name: 'annotations', type: 'stringMap' },
  13: { name: 'ownerReferences', type: ownerReference, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
});

const envVar = msg({ 1: { name: 'name', type: 'string' }, 2: { name: 'value', type: 'string' } });
const resources = msg({
  1: { name: 'limits', type: 'stringMap' },
  2: { name: 'requests', type: 'stringMap' },
});

const container = msg({
  1: { name: 'name', type: 'string' },
  2: { name: 'image', type: 'string' },
  3: { name: 'command', type: 'string', repeated: true },
  4: { name: 'args', type: 'string', repeated: true },
  5: { name: 'workingDir', type: 'string' },
  7: { name: 'env', type: envVar, repeated: true },
  8: { name: 'resources', type: resources },
  14: { name: 'imagePullPolicy', type: 'string' },
  16: { name: 'stdin', type: 'bool' },
  18: { name: 'tty', type: 'bool' },
});

const podSpec = msg({
  2: { name: 'containers', type: container, repeated: true },
  3: { name: 'restartPolicy', type: 'string' },
  4: { name: 'terminationGracePeriodSeconds', type: 'int' },
  5: { name: 'activeDeadlineSeconds', type: 'int' },
  6: { name: 'dnsPolicy', type: 'string' },
  7: { name: 'nodeSelector', type: 'stringMap' },
  8: { name: 'serviceAccountName', type: 'string' },
  10: { name: 'nodeName', type: 'string' },
  20: { name: 'initContainers', type: container, repeated: true },
});

const podTemplateSpec = msg({
  1: { name: 'metadata', type: objectMeta },
  2: { name: 'spec', type: podSpec },
});
const labelSelector = msg({ 1: { name: 'matchLabels', type: 'stringMap' } });

const jobSpec = msg({
  1: { name: 'parallelism', type: 'int' },
  2: { name: 'completions', type: 'int' },
  3: { name: 'activeDeadlineSeconds', type: 'int' },
  4: { name: 'selector', type: labelSelector },
  5: { name: 'manualSelector', type: 'bool' },
  6: { name: 'template', type: podTemplateSpec },
  7: { name: 'backoffLimit', type: 'int' },
  8: { name: 'ttlSecondsAfterFinished', type: 'int' },
  9: { name: 'completionMode', type: 'string' },
  10: { name: 'suspend', type: 'bool' },
});

const KINDS: Record<string, Message> = {
  Job: msg({ 1: { name: 'metadata', type: objectMeta }, 2: { name: 'spec', type: jobSpec } }),
  ConfigMap: msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'data', type: 'stringMap' },
    3: { name: 'binaryData', type: 'bytesMap' },
    4: { name: 'immutable', type: 'bool' },
  }),
  Namespace: msg({ 1: { name: 'metadata', type: objectMeta } }),
  Secret: msg({
    1: { name: 'metadata', type: objectMeta },
    2: { name: 'data', type: 'bytesMap' },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: 'stringMap' },
    5: { name: 'immutable', type: 'bool' },
  }),
  ServiceAccount: msg({ 1: { name: 'metadata', type: objectMeta } }),
  Pod: msg({ 1: { name: 'metadata', type: objectMeta }, 2: { name: 'spec', type: podSpec } }),
};

class Reader {
  pos = 0;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ProtobufError('truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wireType}`);
  }
}

const text = new TextDecoder();

function readMap(bytes: Uint8Array, valueAsBase64: boolean): [string, string] {
  const r = new Reader(bytes);
  let key = '';
  let value = '';
  while (!r.done()) {
    const tag = Number(r.varint());
    const field = tag >> 3;
    if ((tag & 7) !== 2) {
      r.skip(tag & 7);
      continue;
    }
    const b = r.bytes();
    if (field === 1) key = text.decode(b);
    else if (field === 2) value = valueAsBase64 ? Buffer.from(b).toString('base64') : text.decode(b);
  }
  return [key, value];
}

function decodeMessage(bytes: Uint8Array, message: Message): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = Number(r.varint());
    const number = tag >> 3;
    const wireType = tag & 7;
    const field = message.fields[number];
    if (!field) {
      r.skip(wireType);
      continue;
    }
    let value: unknown;
    if (field.type === 'int') {
      value = Number(BigInt.asIntN(64, r.varint()));
    } else if (field.type === 'bool') {
      value = r.varint() !== 0n;
    } else {
      const b = r.bytes();
      if (field.type === 'string') value = text.decode(b);
      else if (field.type === 'bytes') value = Buffer.from(b).toString('base64');
      else if (field.type === 'stringMap' || field.type === 'bytesMap') {
        const [k, v] = readMap(b, field.type === 'bytesMap');
        if (out[field.name] === undefined) out[field.name] = {};
        (out[field.name] as Record<string, string>)[k] = v;
        continue;
      } else value = decodeMessage(b, field.type);
    }
    // Go writes unset (non-pointer) strings as "", which its JSON form omits and defaulting treats as unset.
    if (value === '' && !field.repeated) continue;
    if (field.repeated) {
      if (out[field.name] === undefined) out[field.name] = [];
      (out[field.name] as unknown[]).push(value);
    } else {
      out[field.name] = value;
    }
  }
  return out;
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** Decodes a `application/vnd.kubernetes.protobuf` body into the JSON object it stands for. */
export function decodeKubernetesProtobuf(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b))
    throw new ProtobufError('missing the k8s protobuf prefix');
  const unknown = new Reader(body.subarray(4));
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  while (!unknown.done()) {
    const tag = Number(unknown.varint());
    const number = tag >> 3;
    if ((tag & 7) !== 2) {
      unknown.skip(tag & 7);
      continue;
    }
    const b = unknown.bytes();
    if (number === 1) {
      const typeMeta = decodeMessage(
        b,
        msg({ 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } }),
      );
      apiVersion = String(typeMeta['apiVersion'] ?? '');
      kind = String(typeMeta['kind'] ?? '');
    } else if (number === 2) {
      raw = b;
    }
  }
  const message = KINDS[kind];
  if (!message) throw new ProtobufError(`no protobuf decoding for kind "${kind}"`);
  return { apiVersion, kind, ...decodeMessage(raw, message) };
}
