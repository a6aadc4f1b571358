import { describe, expect, it } from 'vitest';
import type { ManifestPolicy } from '../kube/policy.ts';
import { readManifestAnswer } from './manifest.ts';

const policy: ManifestPolicy = {
  kind: 'Job',
  namespace: 'hpc',
  name: 'demo-run-1',
  image: 'registry.fractale:5000/app:0123456789ab',
  labels: { 'app.kubernetes.io/managed-by': 'fractale' },
  activeDeadlineSeconds: 600,
};
const JOB =
  'apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app\n          command: ["run"]';

describe('readManifestAnswer', () => {
  it.each([
    {
      name: 'a yaml block in prose',
      answer: `Here is the Job:\n\n\`\`\`yaml\n${JOB}\n\`\`\`\nIt runs once.`,
    },
    { name: 'a bare manifest', answer: JOB },
    { name: 'a bare manifest after a comment', answer: `# the run\n${JOB}` },
  ])('reads $name and applies the policy', ({ answer }) => {
    const result = readManifestAnswer(answer, policy);
    if (!result.ok) throw new Error(result.explanation);
    expect((result.object as { metadata: { name: string } }).metadata.name).toBe('demo-run-1');
  });

  it('refuses an answer without a manifest, with an error for the model', () => {
    const result = readManifestAnswer('I would need more details first.', policy);
    expect(result).toMatchObject({ ok: false, reason: 'NotOneDocument' });
    if (!result.ok) expect(result.explanation).toMatch(/no ```yaml code block/);
  });

  it('passes policy refusals through', () => {
    const result = readManifestAnswer(`\`\`\`yaml\n${JOB}\n      hostNetwork: true\n\`\`\``, policy);
    expect(result).toMatchObject({ ok: false, reason: 'HostNamespace' });
  });

  it('reads a bare manifest after many comment lines without a super-linear scan', () => {
    // Found while probing hostile answers: the old multi-line regex took about two minutes on 100,000 comment lines.
    const result = readManifestAnswer(`${'# note\n'.repeat(30_000)}${JOB}`, policy);
    expect(result.ok).toBe(true);
  });

  it('refuses a 5 MB answer as TooLarge before parsing it', () => {
    const result = readManifestAnswer(`\`\`\`yaml\n${JOB}\n${'# pad\n'.repeat(900_000)}\`\`\``, policy);
    expect(result).toMatchObject({ ok: false, reason: 'TooLarge' });
    if (!result.ok) expect(result.explanation).toMatch(/larger than the 256 KiB an answer may be/);
  });
});
