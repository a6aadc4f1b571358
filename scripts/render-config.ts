// Renders config/ (kustomize bases for people who do not use Helm) from charts/fractale, so the two
// install paths cannot drift: `node scripts/render-config.ts` rewrites every file it owns under
// config/, and test/packaging checks that config/ is what this script renders. The CRDs in
// config/crd/bases are written by `npm run generate:crds`, not here.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, parseAllDocuments, stringify } from 'yaml';
import { toolsDir } from './fetch-tools.ts';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const chartDir = join(root, 'charts', 'fractale');
export const helmPath = join(toolsDir, 'helm');

/** The release config/ is rendered as: the chart's defaults, installed as `fractale` in `fractale-system`. */
export const CONFIG_RELEASE = { name: 'fractale', namespace: 'fractale-system' } as const;

const GENERATED = '# Generated from charts/fractale by `node scripts/render-config.ts`. Do not edit.\n';

/** Folders of config/ that this script owns entirely (a stale file there is an error). */
export const OWNED_DIRS = ['config/rbac', 'config/manager', 'config/samples', 'config/default'] as const;

export type HelmOptions = { release?: string; namespace?: string; values?: string[]; set?: string[] };

/**
 * Runs the real `helm template` on the chart and returns its stdout. Helm's cache and config go to a
 * throw-away folder so nothing outside it is written. Throws with helm's stderr when helm fails.
 */
export function helmTemplate(options: HelmOptions = {}): string {
  const args = [
    'template',
    options.release ?? CONFIG_RELEASE.name,
    chartDir,
    '--namespace',
    options.namespace ?? CONFIG_RELEASE.namespace,
  ];
  for (const file of options.values ?? []) args.push('--values', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  return runHelm(args);
}

/** Runs helm with HOME-independent cache and config folders; returns stdout or throws with stderr. */
export function runHelm(args: string[]): string {
  const home = mkdtempSync(join(tmpdir(), 'fractale-helm-'));
  try {
    return execFileSync(helmPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: home,
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
      },
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`helm ${args[0]} failed: ${stderr.trim() || String(error)}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** A Kubernetes object as plain data, as parsed from YAML. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<string, unknown>;
} & Record<string, unknown>;

/** Parses multi-document YAML (helm or kustomize output) into objects, skipping empty documents. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value) out.push(value);
  }
  return out;
}

const snake = (kind: string) => kind.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

/** config/ file name of a rendered object: its kind, then its name without the release prefix. */
function fileNameOf(object: Manifest): string {
  const rest = object.metadata.name.replace(new RegExp(`^${CONFIG_RELEASE.name}-?`), '').replace(/-/g, '_');
  return `${snake(object.kind)}${rest ? `_${rest}` : ''}.yaml`;
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const MANAGER_KINDS = new Set(['Deployment', 'Service']);

/** Helm's own labels do not belong on objects kustomize manages. */
function asKustomizeObject(object: Manifest): Manifest {
  const copy = structuredClone(object);
  const relabel = (labels: Record<string, string> | undefined) => {
    if (!labels) return;
    delete labels['helm.sh/chart'];
    if (labels['app.kubernetes.io/managed-by']) labels['app.kubernetes.io/managed-by'] = 'kustomize';
  };
  relabel(copy.metadata.labels);
  const template = (copy['spec'] as { template?: { metadata?: { labels?: Record<string, string> } } })
    ?.template;
  relabel(template?.metadata?.labels);
  return copy;
}

const yamlText = (value: unknown) => stringify(value, { lineWidth: 0 });

function kustomization(resources: string[], extra: Record<string, unknown> = {}, comment = ''): string {
  const doc = new Document({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    ...extra,
    resources,
  });
  return GENERATED + comment + doc.toString({ lineWidth: 0 });
}

/** The sample plans and steps copied into config/samples: plans/*.yaml and plans/steps/*.yaml. */
function samplePlans(): { source: string; target: string }[] {
  const list = (dir: string) =>
    readdirSync(join(root, dir))
      .filter((file) => file.endsWith('.yaml'))
      .sort();
  return [
    ...list('plans').map((file) => ({ source: `plans/${file}`, target: file })),
    ...list('plans/steps').map((file) => ({ source: `plans/steps/${file}`, target: `step-${file}` })),
  ];
}

/** Every file this script owns under config/, keyed by its path from the repository root. */
export function renderConfig(): Map<string, string> {
  const files = new Map<string, string>();
  const objects = parseManifests(helmTemplate()).map(asKustomizeObject);
  const rbac: string[] = [];
  const manager: string[] = [];
  for (const object of objects) {
    const folder = RBAC_KINDS.has(object.kind) ? rbac : MANAGER_KINDS.has(object.kind) ? manager : undefined;
    if (!folder) throw new Error(`render-config: no config/ folder for kind ${object.kind}`);
    const file = fileNameOf(object);
    if (folder.includes(file)) throw new Error(`render-config: two objects map to ${file}`);
    folder.push(file);
    const dir = folder === rbac ? 'config/rbac' : 'config/manager';
    files.set(`${dir}/${file}`, GENERATED + yamlText(object));
  }
  files.set('config/rbac/kustomization.yaml', kustomization(rbac.sort()));
  files.set('config/manager/kustomization.yaml', kustomization(manager.sort()));

  const crds = readdirSync(join(root, 'crds'))
    .filter((file) => file.endsWith('.yaml'))
    .sort();
  files.set('config/crd/kustomization.yaml', kustomization(crds.map((file) => `bases/${file}`)));

  const samples = samplePlans();
  for (const { source, target } of samples) {
    const text = readFileSync(join(root, source), 'utf8');
    files.set(
      `config/samples/${target}`,
      `# Copied from ${source} by \`node scripts/render-config.ts\`. Edit ${source}.\n${text}`,
    );
  }
  files.set(
    'config/samples/kustomization.yaml',
    kustomization(
      samples.map((s) => s.target),
      {},
      '# The sample plans, applied to the namespace of your choice: kubectl apply -k config/samples -n NAMESPACE\n',
    ),
  );

  files.set(
    'config/default/namespace.yaml',
    GENERATED +
      yamlText({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: CONFIG_RELEASE.namespace, labels: { 'app.kubernetes.io/part-of': 'fractale' } },
      }),
  );
  files.set(
    'config/default/kustomization.yaml',
    kustomization(
      ['namespace.yaml', '../crd', '../rbac', '../manager'],
      { namespace: CONFIG_RELEASE.namespace },
      "# The operator with the chart's default values: kubectl apply -k config/default\n" +
        `# Then create its model API key: kubectl -n ${CONFIG_RELEASE.namespace} create secret generic ` +
        `${CONFIG_RELEASE.name}-api-key --from-literal=api-key="$GEMINI_API_KEY"\n`,
    ),
  );
  return files;
}

/** Files under the owned folders of config/ that renderConfig() would not write. */
export function staleConfigFiles(rendered: Map<string, string>): string[] {
  const stale: string[] = [];
  for (const dir of OWNED_DIRS) {
    let entries: string[] = [];
    try {
      entries = readdirSync(join(root, dir));
    } catch {
      continue;
    }
    for (const file of entries) if (!rendered.has(`${dir}/${file}`)) stale.push(`${dir}/${file}`);
  }
  return stale;
}

/** Writes config/ from the chart, removing files the chart no longer renders. */
export function writeConfig(): void {
  const files = renderConfig();
  for (const path of staleConfigFiles(files)) rmSync(join(root, path));
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  console.log(`Wrote ${files.size} files under config/`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeConfig();
