// Facts about the cluster for prompts: the nodes, and the MiniCluster schema from the installed CRD.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import type { ClusterFacts } from '../step/driver.ts';

type Node = KubeObject & {
  status?: { allocatable?: Record<string, string> };
};
type Crd = KubeObject & {
  spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }[] };
};

/** A compact, description-free outline of a schema: `field: type` lines, nested by indentation. */
export function outlineSchema(schema: Record<string, unknown>, depth = 0, maxDepth = 4): string {
  const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const lines: string[] = [];
  for (const [name, child] of Object.entries(properties)) {
    const type = String(child['type'] ?? 'object');
    const items = child['items'] as Record<string, unknown> | undefined;
    const label = type === 'array' ? `[]${String(items?.['type'] ?? 'object')}` : type;
    lines.push(`${'  '.repeat(depth)}${name}: ${label}`);
    const nested = type === 'array' ? items : child;
    if (nested && depth < maxDepth) {
      const inner = outlineSchema(nested, depth + 1, maxDepth);
      if (inner) lines.push(inner);
    }
  }
  return lines.join('\n');
}

/** Reads cluster facts, caching them for a while: nodes and CRDs change rarely. */
export class ClusterFactsReader {
  private readonly client: KubeClient;
  private cached: { at: number; facts: ClusterFacts; miniCluster: boolean } | undefined;
  private readonly ttlMs: number;

  constructor(client: KubeClient, ttlMs = 60_000) {
    this.client = client;
    this.ttlMs = ttlMs;
  }

  async facts(agent: string): Promise<ClusterFacts> {
    const all = await this.read();
    return agent === 'minicluster' ? all.facts : { ...(all.facts.nodes ? { nodes: all.facts.nodes } : {}) };
  }

  async miniClusterInstalled(): Promise<boolean> {
    return (await this.read()).miniCluster;
  }

  /** One read at a time: steps that start together wait for the same read, not one each. */
  private reading: Promise<{ at: number; facts: ClusterFacts; miniCluster: boolean }> | undefined;

  private read() {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return Promise.resolve(this.cached);
    this.reading ??= this.readOnce().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readOnce() {
    const facts: ClusterFacts = {};
    try {
      const nodes = await this.client.list<Node>(RESOURCES.nodes);
      if (nodes.items.length > 0) {
        const first = nodes.items[0]!;
        const cpu = first.status?.allocatable?.['cpu'];
        const memory = first.status?.allocatable?.['memory'];
        const arch = first.metadata.labels?.['kubernetes.io/arch'];
        facts.nodes = `${nodes.items.length} node(s); each about ${cpu ?? '?'} CPU, ${memory ?? '?'} memory${arch ? `, ${arch}` : ''}`;
      }
    } catch {
      // Namespaced installs cannot list nodes; prompts then go without.
    }
    let miniCluster = false;
    const crd = await this.client.find<Crd>(RESOURCES.crds, undefined, 'miniclusters.flux-framework.org');
    const version = crd?.spec?.versions?.find((v) => v.name === 'v1alpha2');
    if (version) {
      miniCluster = true;
      const spec = (
        version.schema?.openAPIV3Schema?.['properties'] as Record<string, Record<string, unknown>> | undefined
      )?.['spec'];
      if (spec) facts.miniClusterSchema = outlineSchema(spec, 0, 2);
      if (version.schema?.openAPIV3Schema) facts.miniClusterCrdSchema = version.schema.openAPIV3Schema;
    }
    this.cached = { at: Date.now(), facts, miniCluster };
    return this.cached;
  }
}
