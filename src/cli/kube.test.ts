import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeconfigPath } from './kube.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'fractale-kube-'));

describe('which kubeconfig is used', () => {
  it('takes --kubeconfig relative to the working directory, and refuses a missing one', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'kc'), '');
    expect(kubeconfigPath('kc', { cwd, env: {} })).toBe(join(cwd, 'kc'));
    expect(() => kubeconfigPath('nope', { cwd, env: {} })).toThrow(
      `kubeconfig ${join(cwd, 'nope')} does not exist`,
    );
  });

  it('takes the first existing file of KUBECONFIG, else ~/.kube/config', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'second'), '');
    const env = { KUBECONFIG: [join(cwd, 'first'), join(cwd, 'second')].join(delimiter) };
    expect(kubeconfigPath(undefined, { cwd, env })).toBe(join(cwd, 'second'));
    const home = dir();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), '');
    expect(kubeconfigPath(undefined, { cwd, env: { HOME: home } })).toBe(join(home, '.kube', 'config'));
  });

  it('says how to get a cluster when there is no kubeconfig', () => {
    expect(() => kubeconfigPath(undefined, { cwd: dir(), env: { HOME: dir() } })).toThrow(/fractale sim/);
  });
});
