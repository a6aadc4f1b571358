// The admission cases of bad-input.ts applied with the real kubectl, one file each: every one must be
// refused by the API server (the sim's, or a real kube-apiserver's in test/real/bad-input.test.ts),
// naming the field, and none stored.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { kubectl } from '../helpers/kubectl.ts';
import { BAD_PLANS, BAD_STEPS, type BadInput } from './bad-input.ts';

// kubectl reads YAML 1.1, where yes, no, on and off are booleans: written as 1.1, strings stay strings.
export const YAML_1_1 = { version: '1.1' } as const;

export const manifest = (b: BadInput, name: string) => ({
  apiVersion: 'fractale.dev/v1alpha1',
  kind: b.name.startsWith('step:') ? 'AgentStep' : 'AgentPlan',
  metadata: { name, namespace: 'default' },
  spec: b.spec,
});

export const ADMISSION_CASES = [...BAD_PLANS, ...BAD_STEPS].filter((b) => b.by === 'admission');

/** Applies each admission case (a few kubectl processes at a time) and checks each refusal. */
export async function expectAdmissionRefusals(kubeconfig: string, dir: string): Promise<void> {
  const files = ADMISSION_CASES.map((b, i) => {
    const name = `bad-${String(i).padStart(2, '0')}`;
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify(manifest(b, name), YAML_1_1));
    return { b, name, file };
  });
  const results: Awaited<ReturnType<typeof kubectl>>[] = [];
  for (let i = 0; i < files.length; i += 4) {
    results.push(
      ...(await Promise.all(
        files.slice(i, i + 4).map(({ file }) => kubectl(kubeconfig, ['apply', '-f', file])),
      )),
    );
  }
  files.forEach(({ b, name }, i) => {
    const result = results[i]!;
    const field = b.admissionField ?? b.field;
    expect({ case: b.name, code: result.code, stdout: result.stdout }).toEqual({
      case: b.name,
      code: 1,
      stdout: '',
    });
    // The server's wording: `spec.steps[0].name: Invalid value: ...`, `spec.agent: Required value`, or
    // for a field it cannot decode, `unknown field "spec.gaol"` (a mapping for a list: "spec.steps.build").
    expect(result.stderr, `${b.name} (${name})`).toMatch(
      new RegExp(`(^|[\\s"])${field.replace(/[.[\]]/g, '\\$&')}([:".]|\\s)`),
    );
  });
  const stored = await kubectl(kubeconfig, ['get', 'agentplans,agentsteps', '-o', 'name']);
  expect(stored.stdout).toBe('');
}
