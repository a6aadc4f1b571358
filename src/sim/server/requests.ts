// What the simulated API server was asked, counted by client, verb, resource and response code, so
// benchmarks can say what each step attempt costs the API server. Verbs are the API's own (those of
// RBAC and audit logs): a GET of a collection is a list, with watch=true a watch.

export const API_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
] as const;
export type ApiVerb = (typeof API_VERBS)[number];

export interface RequestKey {
  /** The User-Agent's first word (`fractale-operator`, `kubectl`, ...), or "unknown". */
  client: string;
  verb: ApiVerb | 'other';
  /** The plural (`pods`, `agentsteps`); "(discovery)" for discovery, OpenAPI and /version. */
  resource: string;
  /** `status`, `log`, `binding`, or "" for the object itself. */
  subresource: string;
  code: number;
}

export interface RequestCount extends RequestKey {
  count: number;
}

/** The verb of a request, from its method, whether it names an object, and its query. */
export function requestVerb(method: string, named: boolean, query: URLSearchParams): ApiVerb | 'other' {
  switch (method) {
    case 'GET':
    case 'HEAD': {
      const watch = query.get('watch');
      if (watch !== null && watch !== '0' && watch.toLowerCase() !== 'false') return 'watch';
      return named ? 'get' : 'list';
    }
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return 'other';
  }
}

/** The client a User-Agent names: its first word, without the version. */
export function clientOf(userAgent: string | undefined): string {
  const first = (userAgent ?? '').trim().split(/[\s/]/)[0];
  return first || 'unknown';
}

export class RequestCounts {
  private readonly counts = new Map<string, RequestCount>();

  record(key: RequestKey): void {
    const id = `${key.client} ${key.verb} ${key.resource} ${key.subresource} ${key.code}`;
    const known = this.counts.get(id);
    if (known) known.count++;
    else this.counts.set(id, { ...key, count: 1 });
  }

  /** Every count so far (copies). */
  all(): RequestCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** The number of requests that match every field given. */
  total(filter: Partial<RequestKey> = {}): number {
    let sum = 0;
    for (const c of this.counts.values()) {
      if (Object.entries(filter).every(([field, value]) => c[field as keyof RequestKey] === value))
        sum += c.count;
    }
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}
