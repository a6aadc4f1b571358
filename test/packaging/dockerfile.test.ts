// The operator image's Dockerfile, read as instructions (no Docker daemon is needed): stages, base
// images, the non-root user, production-only dependencies, labels and the entrypoint.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../scripts/render-config.ts';

type Instruction = { keyword: string; args: string };
type Stage = { image: string; name?: string; instructions: Instruction[] };

/** Splits a Dockerfile into stages of instructions, joining continuation lines and dropping comments. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!;
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`cannot read FROM ${args}`);
      stages.push({ image: from[1]!, name: from[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1)!;
const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

/** The stage a `COPY --from=<stage>` names. */
const copiedFrom = (copy: Instruction) => /--from=(\S+)/.exec(copy.args)?.[1];

describe('Dockerfile', () => {
  it('is multi-stage: the final stage copies its files from earlier stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const sources = all(final, 'COPY').map(copiedFrom).filter(Boolean);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(stageNames.has(source)).toBe(true);
  });

  it('pins every base image by the major version of the Node the project uses', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const nodeMajor = String(pkg.devDependencies.node).replace(/^\D*/, '').split('.')[0];
    expect(nodeMajor).toBe('24');
    for (const stage of stages) {
      if (stageNames.has(stage.image)) continue;
      const tag = /:([^/@]+)$/.exec(stage.image)?.[1];
      expect(tag, stage.image).toBeDefined();
      expect(tag).not.toBe('latest');
      // The major appears in the tag (node:24-...) or in the distroless image name (nodejs24-...).
      expect(stage.image, stage.image).toMatch(new RegExp(`(:${nodeMajor}(-|$))|(nodejs${nodeMajor}-)`));
      expect(tag, `${stage.image} is pinned by major, not by an exact patch release`).not.toMatch(
        /\d+\.\d+\.\d+/,
      );
    }
  });

  it('runs the final stage as a numeric non-root user', () => {
    const users = all(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0]!;
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
  });

  it('installs no dev dependencies into the final stage', () => {
    // The final stage runs no npm at all; its node_modules come from a stage that ran `npm ci --omit=dev`.
    for (const run of all(final, 'RUN')) expect(run.args).not.toMatch(/\bnpm\b/);
    const modules = all(final, 'COPY').filter((c) => /node_modules/.test(c.args));
    expect(modules).toHaveLength(1);
    const source = stages.find((s) => s.name === copiedFrom(modules[0]!));
    expect(source, 'node_modules is copied from a named stage').toBeDefined();
    const installs = all(source!, 'RUN').filter((r) => /\bnpm (ci|install|i)\b/.test(r.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toContain('--omit=dev');
    // The build stage's node_modules (with dev dependencies) never reach the final stage.
    const build = stages.filter((s) => all(s, 'RUN').some((r) => /npm run build/.test(r.args)));
    expect(build.length).toBe(1);
    expect(copiedFrom(modules[0]!)).not.toBe(build[0]!.name);
  });

  it('may skip install scripts for production dependencies: none of them has one', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path && !entry.dev && entry.hasInstallScript)
      .map(([path]) => path);
    expect(withScripts).toEqual([]);
    const deps = stages.find((s) =>
      all(final, 'COPY').some((c) => copiedFrom(c) === s.name && /node_modules/.test(c.args)),
    );
    expect(all(deps!, 'RUN').some((r) => r.args.includes('--ignore-scripts'))).toBe(true);
  });

  it('builds with dev dependencies: npm ci, then npm run build', () => {
    const build = stages.find((s) => all(s, 'RUN').some((r) => /npm run build/.test(r.args)))!;
    const runs = all(build, 'RUN').map((r) => r.args);
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(runs.findIndex((r) => r.includes('npm run build'))).toBeGreaterThan(ci);
  });

  it('carries the OCI labels', () => {
    const labels = all(final, 'LABEL')
      .map((l) => l.args)
      .join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'licenses'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('starts the operator with node in exec form (signals reach Node directly)', () => {
    const entrypoints = all(final, 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const argv = JSON.parse(entrypoints[0]!.args) as string[];
    expect(argv[0]).toMatch(/(^|\/)node$/);
    expect(argv.slice(1)).toEqual(['/app/dist/cli/main.js', 'operator']);
    // tsconfig.build.json compiles src/ to dist/, so the entrypoint's file is src/cli/main.ts.
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(root, 'src', 'cli', 'main.ts'))).toBe(true);
  });

  it('copies into the build only files that exist and that .dockerignore lets through', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    for (const stage of stages) {
      for (const copy of all(stage, 'COPY').filter((c) => !copiedFrom(c))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const source of parts.slice(0, -1)) {
          expect(existsSync(join(root, source)), source).toBe(true);
          expect(allowed, `${source} passes .dockerignore`).toContain(source.replace(/\/$/, ''));
        }
      }
    }
    expect(allowed).not.toContain('node_modules');
    expect(allowed).not.toContain('.git');
  });
});
