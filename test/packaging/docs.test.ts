// The install guides: the files they name exist, their helm commands render with the real helm, and
// the names they create match what the chart expects; and docs/experiments.md lists what the code has.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { root, runHelm } from '../../scripts/render-config.ts';
import { CATEGORY_LABELS, FAILURE_CATEGORIES } from '../../src/analysis/taxonomy.ts';
import { DEFAULT_PRICES } from '../../src/analysis/tokens.ts';
import { validateAgentExperiment } from '../../src/experiment/validate.ts';
import { CSV_COLUMNS } from '../../src/report/csv.ts';
import { find, operatorEnv, parseManifests } from './manifests.ts';

const GUIDES = ['docs/install-kind.md', 'docs/install-gke.md'];

/** The commands of a guide's bash blocks, continuation lines joined, heredoc bodies kept apart. */
function commands(markdown: string): { lines: string[]; heredocs: string[] } {
  const lines: string[] = [];
  const heredocs: string[] = [];
  for (const block of markdown.matchAll(/```bash\n([\s\S]*?)```/g)) {
    const text = block[1]!.replace(/\\\n\s*/g, '');
    let heredoc: { end: string; body: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (heredoc) {
        if (line.trim() === heredoc.end) {
          heredocs.push(heredoc.body.join('\n'));
          heredoc = undefined;
        } else heredoc.body.push(line);
        continue;
      }
      const start = /<<'?(\w+)'?/.exec(line);
      if (start) heredoc = { end: start[1]!, body: [] };
      if (line.trim()) lines.push(line.trim());
    }
  }
  return { lines, heredocs };
}

/** Splits a command line into words, honouring double quotes (enough for the guides). */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

const work = mkdtempSync(join(tmpdir(), 'fractale-docs-'));
symlinkSync(join(root, 'charts'), join(work, 'charts'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// What a reader would have exported before pasting the commands.
const READER_ENV = { PROJECT_ID: 'my-project', REGION: 'europe-west4', PATH: process.env['PATH'] ?? '' };

describe.each(GUIDES)('%s', (guide) => {
  const { lines, heredocs } = commands(readFileSync(join(root, guide), 'utf8'));

  it('names only repository files that exist', () => {
    const paths = lines.flatMap((line) =>
      [...line.matchAll(/(?:^|\s)(?:-f|-k)\s+((?:\.\/)?(?:charts|config|plans)\/\S*)/g)].map((m) => m[1]!),
    );
    for (const line of lines)
      if (line.startsWith('helm install')) paths.push(words(line).find((w) => w.startsWith('./charts/'))!);
    expect(paths.length).toBeGreaterThan(2);
    for (const path of paths) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('installs the chart with commands helm renders', () => {
    // Commands that write files the install needs (the GKE guide fills in its values file) run first.
    for (const line of lines.filter((l) => l.startsWith('sed '))) {
      execFileSync('sh', ['-c', line], { cwd: work, env: READER_ENV });
    }
    const installs = lines.filter((line) => line.startsWith('helm install'));
    expect(installs).toHaveLength(1);
    const args = words(installs[0]!).slice(2);
    const rendered = parseManifests(
      runHelm([
        'template',
        ...args.map((a) =>
          a.startsWith('./') || a.includes('/') || a.endsWith('.yaml') ? join(work, a) : a,
        ),
      ]),
    );
    const env = operatorEnv(rendered);
    expect(env['FRACTALE_REGISTRY'], 'the guide sets a registry for builds').toBeTruthy();
    expect(JSON.stringify(rendered)).not.toMatch(/PROJECT_ID|REGION-/);

    // The Secret the guide creates is the one the operator reads.
    const secret = lines.find((l) => l.includes('create secret generic'));
    expect(secret).toBeDefined();
    const [name, key] = env['FRACTALE_API_KEY_SECRET']!.split(':');
    expect(secret).toContain(`create secret generic ${name} --from-literal=${key}=`);
    expect(words(secret!)).toContain('fractale-system');

    // The image the guide pushes is the one the Deployment runs.
    const image = (find(rendered, 'Deployment')[0]!['spec'] as DeploymentSpec).template.spec.containers[0]!
      .image;
    const pushed = lines
      .filter((l) => /^(docker push|gcloud builds submit)/.test(l))
      .map((l) =>
        words(l)
          .find((w) => w.includes('/fractale:'))!
          .replace(/\$(\w+)/g, (_, v: string) => envOf(v)),
      );
    expect(pushed.length).toBeGreaterThan(0);
    for (const ref of pushed) expect(ref).toBe(image);
  });

  it('applies the LAMMPS plan and watches the steps', () => {
    expect(lines).toContain('kubectl apply -f plans/run-lammps.yaml');
    expect(lines).toContain('kubectl get agentsteps -w');
    expect(lines.some((l) => l.startsWith('helm uninstall'))).toBe(true);
  });

  it('writes well-formed YAML in its heredocs', () => {
    for (const body of heredocs) expect(() => parse(body)).not.toThrow();
  });
});

const envOf = (name: string) => (READER_ENV as Record<string, string>)[name] ?? `$${name}`;
type DeploymentSpec = { template: { spec: { containers: { image: string }[] } } };

describe('docs/install-kind.md', () => {
  const { lines, heredocs } = commands(readFileSync(join(root, 'docs/install-kind.md'), 'utf8'));

  it('points containerd at the registry under both of its names, and Kaniko at the in-cluster one', () => {
    const cluster = parse(heredocs.find((h) => h.includes('kind: Cluster'))!);
    expect(cluster.containerdConfigPatches[0]).toContain('config_path = "/etc/containerd/certs.d"');
    expect(lines.join('\n')).toContain('for registry in localhost:5001 kind-registry:5000');
    expect(lines.join('\n')).toContain('[host."http://kind-registry:5000"]');
    expect(lines.join('\n')).toContain('docker network connect kind kind-registry');
    const values = parse(readFileSync(join(root, 'charts/fractale/values-kind.yaml'), 'utf8'));
    expect(values.build).toEqual({ registry: 'kind-registry:5000', insecureRegistry: true });
    expect(values.image.repository).toBe('localhost:5001/fractale');
  });
});

// docs/experiments.md: what it lists is what the code has, and what it names exists.
describe('docs/experiments.md', () => {
  const markdown = readFileSync(join(root, 'docs/experiments.md'), 'utf8');
  /** The first column of the table after `heading` (up to the next heading), without backticks. */
  const tableAfter = (heading: string): string[][] => {
    const start = markdown.indexOf(`\n${heading}\n`);
    expect(start, heading).toBeGreaterThan(0);
    const rest = markdown.slice(start + heading.length + 2);
    const end = rest.search(/\n#{2,4} /);
    return (end < 0 ? rest : rest.slice(0, end))
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
      .slice(1)
      .map((l) =>
        l
          .slice(2, -2)
          .split(' | ')
          .map((c) => c.replaceAll('`', '').trim()),
      );
  };

  it('lists every column of each CSV, in order', () => {
    for (const [file, columns] of Object.entries(CSV_COLUMNS))
      expect(
        tableAfter(`#### ${file}`).map((row) => row[0]),
        file,
      ).toEqual([...columns]);
  });

  it('lists the failure categories with their labels, and the default prices', () => {
    expect(tableAfter('### The failure taxonomy').map((row) => [row[0], row[1]])).toEqual(
      FAILURE_CATEGORIES.map((c) => [c, CATEGORY_LABELS[c]]),
    );
    const prices = tableAfter('### Tokens and cost').map(([model, input, output]) => [
      model!.replace(/ \(.*\)$/, ''),
      Number(input),
      Number(output),
    ]);
    expect(prices).toEqual(
      Object.entries(DEFAULT_PRICES).map(([m, p]) => [m, p.inputPerMillion, p.outputPerMillion]),
    );
  });

  it('has an example AgentExperiment the operator accepts', () => {
    const examples = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => parse(m[1]!))
      .filter((doc) => doc?.kind === 'AgentExperiment');
    expect(examples).toHaveLength(1);
    for (const doc of examples) expect(validateAgentExperiment(doc)).toMatchObject({ ok: true });
  });

  it('links to pages and anchors that exist, and names files that exist', () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} -]/gu, '')
        .replaceAll(' ', '-');
    const anchors = new Set([...markdown.matchAll(/^#{1,4} (.+)$/gm)].map((m) => slug(m[1]!)));
    for (const [, target] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (target!.startsWith('#')) expect(anchors, target).toContain(target!.slice(1));
      else if (!/^https?:/.test(target!)) expect(existsSync(join(root, 'docs', target!)), target).toBe(true);
    }
    const paths = [...markdown.matchAll(/`((?:src|test|demo|docs|plans)\/[\w./-]+)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) expect(existsSync(join(root, path)), path).toBe(true);
  });
});
