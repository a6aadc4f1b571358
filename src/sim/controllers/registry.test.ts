import { describe, expect, it } from 'vitest';
import { matchesImagePattern, parseImageReference, repositoryName, SimRegistry } from './registry.ts';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04'],
    ['fluxrm/flux-sched:jammy', 'docker.io/fluxrm/flux-sched:jammy'],
    ['ghcr.io/converged-computing/metric-lammps', 'ghcr.io/converged-computing/metric-lammps:latest'],
    ['localhost:5000/app:1', 'localhost:5000/app:1'],
    ['registry.local/app@sha256:abc', 'registry.local/app@sha256:abc'],
  ])('%s normalises to %s', (image, normalized) => {
    expect(parseImageReference(image).normalized).toBe(normalized);
  });

  it('names the repository', () => {
    expect(repositoryName('gcr.io/kaniko-project/executor:v1.23.2')).toBe('executor');
    expect(repositoryName('localhost:5000/kaniko')).toBe('kaniko');
  });

  it('matches patterns against the whole reference, as written or normalised', () => {
    expect(matchesImagePattern(['docker.io/library/.*'], 'busybox')).toBe(true);
    expect(matchesImagePattern(['docker.io/library/.*'], 'evil.io/docker.io/library/x')).toBe(false);
    expect(matchesImagePattern(['ghcr.io/.*'], 'ghcr.io/a/b:1')).toBe(true);
  });
});

describe('SimRegistry', () => {
  it('finds pushed images by tag and digest, whatever the spelling', () => {
    const registry = new SimRegistry();
    const pushed = registry.push('registry.local/lammps:1', `sha256:${'ab'.repeat(32)}`, new Date(0));
    expect(registry.has('registry.local/lammps:1')).toBe(true);
    expect(registry.has(`registry.local/lammps@${pushed.digest}`)).toBe(true);
    expect(registry.has('registry.local/lammps:2')).toBe(false);
    registry.push('myapp', `sha256:${'cd'.repeat(32)}`, new Date(0));
    expect(registry.has('docker.io/library/myapp:latest')).toBe(true);
  });
});
