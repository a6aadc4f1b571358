// The chaos harness in small (bench/chaos.ts runs it with 100 plans and 30 kills): a few plans of
// every kind, the operator as its own process, killed with SIGKILL and restarted, behind an API
// server that fails writes and cuts watches, and in front of a model that fails. The goals are the
// benchmark's; a missed one fails the test with the figure.
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../bench/chaos/scenarios.ts';
import { chaosBench, formatReport } from '../../bench/chaos.ts';

describe('the chaos harness', () => {
  it('meets every goal with a few plans: kills, API faults, model faults', async () => {
    const report = await chaosBench({
      plans: SCENARIOS.length * 2,
      kills: 6,
      speed: 0.02,
      seed: 7,
      modelLatencyMs: 100,
      killGapMs: [300, 1_200],
      timeoutMs: 8 * 60_000,
    });
    const table = formatReport(report);
    expect(
      report.goals.filter((g) => !g.met),
      table,
    ).toEqual([]);
    // The runs happened as described: kills were made, and faults injected.
    const run = (name: string) => report.runs.find((r) => r.name === name)!;
    expect(run('kills').kills).toBeGreaterThanOrEqual(6);
    expect(run('api-faults').faults['errorsAfter'] ?? 0, table).toBeGreaterThan(0);
    expect(run('api-faults').faults['conflicts'] ?? 0, table).toBeGreaterThan(0);
    const modelFaults = Object.entries(run('model-faults').faults)
      .filter(([fault]) => !fault.includes('persistent'))
      .reduce((sum, [, n]) => sum + n, 0);
    expect(modelFaults, table).toBeGreaterThan(0);
  }, 900_000);
});
