// A checkout set up and run with an older Node (the system's Node 20, as the README allows): npm ci
// warns of no engine, and bin/fractale.js runs again on the project's Node 24.
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './io.ts';

const root = join(import.meta.dirname, '../..');
const BIN = join(root, 'bin/fractale.js');
const run = promisify(execFile);

/** A Node on the PATH that cannot run TypeScript (older than 22.18), outside the project. */
function olderNode(): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d && !d.includes('node_modules'));
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const node = join(dir, 'node');
    if (!existsSync(node)) continue;
    const probe = spawnSync(node, ['-p', 'Boolean(process.features.typescript)'], { encoding: 'utf8' });
    if (probe.status === 0 && probe.stdout.trim() === 'false') return node;
  }
  return undefined;
}

const oldNode = olderNode();
/** That Node's own npm (npm-cli.js next to it), so npm checks engines against it. */
const oldNpm =
  oldNode && existsSync(join(dirname(oldNode), 'npm'))
    ? realpathSync(join(dirname(oldNode), 'npm'))
    : undefined;
const version = oldNode ? spawnSync(oldNode, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';

describe.skipIf(!oldNode)(`a checkout on ${version || 'an older Node'}`, () => {
  it('runs bin/fractale.js again on the project Node 24: same output, same exit code, no warning', async () => {
    const help = await run(oldNode!, [BIN, '--help'], { cwd: root, encoding: 'utf8' });
    expect(help.stdout).toMatch(/^Usage: fractale /);
    expect(help.stderr).toBe('');
    const version = await run(oldNode!, [BIN, '--version'], { cwd: root, encoding: 'utf8' });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const failed = await run(oldNode!, [BIN, 'agent', 'compile'], { cwd: root, encoding: 'utf8' }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('unknown agent "compile"') });
    expect((failed as { stderr: string }).stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
  });

  it('says in one line how to get Node 24 when the checkout has no node_modules yet', async () => {
    const checkout = tempDir('fractale-bare-checkout-');
    mkdirSync(join(checkout, 'bin'));
    mkdirSync(join(checkout, 'src/cli'), { recursive: true });
    copyFileSync(BIN, join(checkout, 'bin/fractale.js'));
    writeFileSync(join(checkout, 'package.json'), '{"type": "module"}\n');
    writeFileSync(join(checkout, 'src/cli/main.ts'), 'export const main = async (): Promise<number> => 0;\n');
    const result = await run(oldNode!, [join(checkout, 'bin/fractale.js'), '--help'], {
      encoding: 'utf8',
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect((result as { stderr: string }).stderr).toBe(
      `fractale: this checkout runs on Node 24 (this is Node ${version.slice(1)}): run \`npm ci\` in it, then \`npx fractale\`\n`,
    );
  });

  it.skipIf(!oldNpm)(
    'npm ci prints no warning: no EBADENGINE, nothing else',
    async () => {
      // A dry run reads package.json and the lockfile and checks every package's engines, as npm ci does.
      const dir = tempDir('fractale-npm-ci-');
      for (const file of ['package.json', 'package-lock.json'])
        copyFileSync(join(root, file), join(dir, file));
      const { stdout, stderr } = await run(
        oldNode!,
        [oldNpm!, 'ci', '--dry-run', '--prefer-offline', '--no-audit', '--no-fund'],
        {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, PATH: `${dirname(oldNode!)}${delimiter}${process.env['PATH'] ?? ''}` },
          timeout: 120_000,
        },
      );
      expect(stdout).toMatch(/added \d+ packages/);
      expect(stderr).not.toMatch(/npm warn|EBADENGINE/i);
    },
    180_000,
  );
});
