import { describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { callRecords, DEFAULT_PRICES, parsePriceTable, tokenSummaries } from './tokens.ts';

const runs = loadRuns();
const cells = ['lammps-specific', 'lammps-vague'].map((name) => ({
  name,
  runs: runs.filter((r) => r.cell === name),
}));

describe('call records', () => {
  it("have one record per call the steps recorded, the debug helper's included", () => {
    const calls = callRecords(runs);
    expect(calls).toHaveLength(32);
    expect(calls.filter((c) => c.agent === 'debug')).toHaveLength(11);
    expect(calls.reduce((n, c) => n + c.totalTokens, 0)).toBe(43820 - 2100);
    expect(calls[0]).toEqual({
      plan: 'agents-lammps-specific-r1',
      cell: 'lammps-specific',
      application: 'lammps',
      variant: 'specific',
      model: '',
      repetition: 1,
      planStatus: 'Succeeded',
      step: 'build',
      stepRun: 'agents-lammps-specific-r1-build',
      agent: 'build',
      attempt: 1,
      promptTokens: 1000,
      outputTokens: 300,
      totalTokens: 1300,
      seconds: 4.2,
    });
  });

  it('name their step run, so the calls of a recovery stay apart from the first run', () => {
    const calls = callRecords(runs).filter((c) => c.plan === 'agents-lammps-vague-r3' && c.step === 'build');
    const byRun = new Map<string, number[]>();
    for (const c of calls) byRun.set(c.stepRun!, [...(byRun.get(c.stepRun!) ?? []), c.attempt]);
    // Both step runs have an attempt 1: only step_run tells them apart.
    expect([...byRun.keys()]).toEqual(['agents-lammps-vague-r3-build', 'agents-lammps-vague-r3-build-r2']);
    for (const attempts of byRun.values()) expect(attempts).toContain(1);
    expect(calls.every((c) => c.planStatus === 'Succeeded')).toBe(true);
    expect(
      callRecords(runs)
        .filter((c) => c.plan === 'agents-lammps-specific-r2')
        .every((c) => c.planStatus === 'Failed'),
    ).toBe(true);
  });
});

describe('token summaries', () => {
  it("sum each cell's tokens, the manager's included, and price them", () => {
    const [specific, vague] = tokenSummaries(cells, DEFAULT_PRICES);
    expect(specific).toMatchObject({
      cell: 'lammps-specific',
      calls: 11,
      promptTokens: 11500,
      outputTokens: 2230,
      totalTokens: 13730,
      succeeded: 1,
      tokensPerSuccess: 13730,
      price: { inputPerMillion: 1.25, outputPerMillion: 10 },
    });
    // (11,500 × 1.25 + 2,230 × 10) / 1e6
    expect(specific!.dollars).toBeCloseTo(0.036675, 12);
    // vague r3's recovery: one manager call of 2,000 + 100 tokens.
    expect(vague).toMatchObject({ calls: 22, promptTokens: 25400, outputTokens: 4690, totalTokens: 30090 });
    expect(vague!.dollars).toBeCloseTo(0.07865, 12);
    expect(vague!.dollarsPerSuccess).toBeCloseTo(0.07865 / 3, 12);
  });

  it('leave dollars out for a model without a price', () => {
    const [specific] = tokenSummaries(cells, { 'gpt-4o': DEFAULT_PRICES['gpt-4o']! });
    expect(specific!.dollars).toBeUndefined();
    expect(specific!.price).toBeUndefined();
    expect(specific!.totalTokens).toBe(13730);
  });
});

describe('the model that answered', () => {
  it('prices a run whose plan names no model by the model its calls recorded', () => {
    const specific = structuredClone(cells[0]!);
    for (const run of specific.runs) {
      delete run.modelName;
      for (const step of run.results.steps)
        for (const call of step.metadata.ask_gemini) call.model = 'gemini-2.5-pro';
    }
    const [summary] = tokenSummaries([specific], DEFAULT_PRICES);
    expect(summary!.price).toEqual({ inputPerMillion: 1.25, outputPerMillion: 10 });
    expect(summary!.dollars).toBeCloseTo(0.036675, 12);
    // Without any recorded model there is no price.
    for (const run of specific.runs)
      for (const step of run.results.steps) for (const call of step.metadata.ask_gemini) delete call.model;
    expect(tokenSummaries([specific], DEFAULT_PRICES)[0]!.dollars).toBeUndefined();
  });
});

describe('price tables', () => {
  it('read YAML and JSON', () => {
    expect(parsePriceTable('gemini-2.5-pro: { inputPerMillion: 1.25, outputPerMillion: 10 }\n')).toEqual({
      'gemini-2.5-pro': { inputPerMillion: 1.25, outputPerMillion: 10 },
    });
    expect(parsePriceTable('{"my-model": {"inputPerMillion": 0, "outputPerMillion": 0.5}}')).toEqual({
      'my-model': { inputPerMillion: 0, outputPerMillion: 0.5 },
    });
  });

  it('name the source and the field in errors', () => {
    expect(() =>
      parsePriceTable('gemini-2.5-pro: { inputPerMillion: 1.25, outputPerMillion: ten }', 'prices.yaml'),
    ).toThrow(/^prices\.yaml: gemini-2\.5-pro\.outputPerMillion: /);
    expect(() => parsePriceTable('m: { inputPerMillion: -1, outputPerMillion: 1 }', 'p')).toThrow(
      'p: m.inputPerMillion: must be 0 or more',
    );
    expect(() => parsePriceTable('m: { input: 1, inputPerMillion: 1, outputPerMillion: 1 }', 'p')).toThrow(
      /^p: m: .*input/,
    );
    expect(() => parsePriceTable('- 1\n- 2', 'p')).toThrow(/^p: \(top level\): /);
    expect(() => parsePriceTable('a: [', 'p')).toThrow(/^p: not valid YAML or JSON/);
  });

  it('has defaults for the models the operator uses', () => {
    expect(Object.keys(DEFAULT_PRICES).sort()).toEqual([
      'gemini-2.0-flash',
      'gemini-2.5-flash',
      'gemini-2.5-pro',
      'gpt-4o',
      'gpt-4o-mini',
    ]);
  });
});
