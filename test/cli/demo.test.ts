// `fractale demo` headless: the scripted LAMMPS story runs to the end, the summary tells it, the
// results JSON is written, and nothing is left running.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkDockerfile, imageReference } from '../../src/agents/build/dockerfile.ts';
import { DEMO_PLAN, DEMO_REGISTRY, DEMO_SCRIPT, demoModel } from '../../src/cli/commands/demo.ts';
import { readPlanFile } from '../../src/cli/files.ts';
import { parseScript } from '../../src/llm/index.ts';
import { fractale, tempDir, testIO } from './io.ts';

const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

describe('fractale demo', () => {
  it('runs plans/run-lammps.yaml with the scripted model and stops everything', async () => {
    const before = servers();
    const results = tempDir();
    const result = await fractale(['demo', '--results', results], testIO());
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('Model: scripted answers from demo/run-lammps.script.yaml');
    expect(out).toContain('Plan run-lammps: Succeeded (model answers were scripted)');
    expect(out).toMatch(/ {2}build \(build\): Succeeded after 2 attempt\(s\), \d+s, \d+ tokens/);
    expect(out).toMatch(/attempt 1 failed: BuildFailed \(.*server certificate verification failed/);
    expect(out).toMatch(/ {2}run \(kubernetes-job\): Succeeded after 2 attempt\(s\), \d+s, \d+ tokens/);
    expect(out).toMatch(/attempt 1 failed: \w+ \(.*ErrImageNeverPull/);
    const file = /Results JSON: (\S+)/.exec(out)?.[1];
    expect(file?.startsWith(results)).toBe(true);
    const doc = JSON.parse(readFileSync(file!, 'utf8'));
    expect(doc.steps[1].result).toContain('Total wall time');
    expect(out).toContain('The simulated cluster is stopped');

    // The API server is closed and no listening socket is left.
    const url = /Cluster: simulated at (\S+)/.exec(out)?.[1];
    await expect(fetch(`${url}/version`)).rejects.toThrow();
    expect(servers()).toBe(before);
  });

  it('optimize: builds and runs LAMMPS, then makes the run faster and prints the trials', async () => {
    const results = tempDir();
    const result = await fractale(['demo', 'optimize', '--results', results], testIO());
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('Model: scripted answers from demo/optimize-lammps.script.yaml');
    expect(out).toContain('Cluster: simulated at');
    expect(out).toContain('(demo/optimize.behaviors.yaml)');
    expect(out).toContain('Plan optimize-lammps: Succeeded (model answers were scripted)');
    expect(out).toMatch(/Best [\d.]+ timesteps\/s \(baseline [\d.]+, ratio [\d.]+\)/);
    expect(out).toMatch(/^\s+1\s+kept\s+[\d.]+ ±[\d.]+\s+4 MPI ranks with mpirun/m);
    expect(out).toMatch(/^\s+2\s+failed\s+- ±-\s+use the host network for MPI/m);
    expect(out).toMatch(/^\s+3\s+reverted\s+/m);
    expect(out.trimEnd().split('\n').at(-1)).toBe(
      'The simulated cluster is stopped; run `npm run demo -- optimize --keep` to explore it with kubectl',
    );
  }, 120_000);

  it('through the installed command: one results folder, emptied by each run, and the --keep hint of a checkout', async () => {
    const tmp = tempDir('fractale-demo-tmp-');
    const folder = join(tmp, 'fractale-demo');
    mkdirSync(folder);
    writeFileSync(join(folder, 'results-of-an-earlier-run.json'), '{}');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, '../../bin/fractale.js'), 'demo'],
      { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, GEMINI_API_KEY: '' }, timeout: 240_000 },
    );
    // Progress goes to stderr; no warning from Node among it.
    expect(stderr).not.toMatch(/Warning:|\(node:\d+\)|EBADENGINE/);
    const file = /Results JSON: (\S+)/.exec(stdout)?.[1];
    expect(file?.startsWith(`${folder}/results-`)).toBe(true);
    expect(readdirSync(folder)).toEqual([file!.slice(folder.length + 1)]);
    expect(readdirSync(tmp)).toEqual(['fractale-demo']);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(
      'The simulated cluster is stopped; run `npm run demo -- --keep` to explore it with kubectl',
    );
  }, 300_000);

  it("explains its plan's noPull, which does not apply to a built image: the first Job's pull policy is the model's mistake", () => {
    const plan = readPlanFile(DEMO_PLAN);
    expect(plan.spec.steps[1]!.context).toHaveProperty('noPull', true);
    const text = readFileSync(DEMO_PLAN, 'utf8');
    expect(text).toContain('so the plan drops noPull');
    expect(text).toContain("that is the\n        # scripted model's mistake");
    expect(existsSync(DEMO_SCRIPT)).toBe(true);
  });

  it('uses Gemini when GEMINI_API_KEY is set', () => {
    const { model, scripted } = demoModel({ GEMINI_API_KEY: 'key' });
    expect(scripted).toBe(false);
    expect(model.provider).toBe('gemini');
  });

  it('ships a script whose Job runs the image the fixed Dockerfile builds', () => {
    const text = readFileSync(DEMO_SCRIPT, 'utf8');
    const script = parseScript(text);
    // Entries are reused, so the fixes (matching the debug advice) come first, then the first tries.
    expect(script.reuse).toBe(true);
    const answers = (agent: string) => [
      ...script.responses.filter((r) => r.agent === agent && !r.match),
      ...script.responses.filter((r) => r.agent === agent && r.match),
    ];
    expect(script.responses.findIndex((r) => r.agent === 'build' && r.match)).toBeLessThan(
      script.responses.findIndex((r) => r.agent === 'build' && !r.match),
    );
    const dockerfiles = answers('build').map((r) => /```dockerfile\n([\s\S]*?)```/.exec(r.text)![1]!);
    expect(dockerfiles[0]).not.toContain('ca-certificates');
    expect(dockerfiles[1]).toContain('ca-certificates');
    const checked = checkDockerfile(dockerfiles[1]!) as { ok: boolean; dockerfile: string };
    expect(checked.ok).toBe(true);
    const image = imageReference(DEMO_REGISTRY, 'lammps', checked.dockerfile);
    const jobs = answers('kubernetes-job').map((r) =>
      parseAllDocuments(/```yaml\n([\s\S]*?)```/.exec(r.text)![1]!)[0]!.toJS(),
    );
    const containers = jobs.map((j) => j.spec.template.spec.containers[0]);
    expect(containers.map((c) => [c.image, c.imagePullPolicy])).toEqual([
      [image, 'Never'],
      [image, 'IfNotPresent'],
    ]);
  });
});
