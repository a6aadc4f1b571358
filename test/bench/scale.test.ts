// The scale harness in small (bench/scale.ts runs it with up to 500 plans and sweeps): 20 plans, the
// sim and the operator each in its own process. Figures are counts, not timings: every plan
// succeeds with its scripted attempts and model calls, every Job's end is answered by a status
// write, nothing is read with a GET that the informer caches hold, and plans keeping no failed
// attempt (spec.retain.failedAttempts: 0) are left with only their successful Jobs.
import { describe, expect, it } from 'vitest';
import { ATTEMPTS_PER_PLAN, MODEL_CALLS_PER_PLAN, runScale } from '../../bench/scale/harness.ts';
import { formatReport, scaleBench } from '../../bench/scale.ts';

describe('the scale harness', () => {
  it('runs 20 plans to Succeeded and measures them', async () => {
    const report = await scaleBench({
      sizes: [20],
      sweepPlans: 20,
      concurrencies: [],
      modelConcurrencies: [],
      concurrency: 4,
      latencyMs: 50,
      // Not faster: a run's deadline (3,600 s) passes at this speed too, 108 s of real time here.
      speed: 0.03,
      only: ['load'],
    });
    const table = formatReport(report);
    const run = report.load[0]!;
    expect(run.succeeded, table).toBe(20);
    expect(run.attempts, table).toBe(20 * ATTEMPTS_PER_PLAN);
    expect(run.extraAttempts, table).toBe(0);
    expect(Object.keys(run.failures).sort(), table).toEqual(['BuildFailed', 'RunFailed']);
    expect(run.model.repeatedPrompts, table).toBe(0);
    expect(run.model.calls, table).toBe(20 * MODEL_CALLS_PER_PLAN);
    expect(run.model.tokensPerPlan, table).toBeGreaterThan(0);
    // 2 Kaniko Jobs and 2 run Jobs per plan, each answered by a write of its step's status.
    expect(run.latency.samples, table).toBe(20 * 4);
    expect(run.latency.unanswered, table).toBe(0);
    // Reads come from the caches and the operator's own writes: before, 8.5 GETs per attempt. (A rare
    // GET is allowed: a retried pass may look once more.)
    expect(run.requests.objectGetsPerAttempt, table).toBeLessThanOrEqual(0.05);
    expect(run.requests.gets['pods/log'], table).toBeGreaterThanOrEqual(20 * ATTEMPTS_PER_PLAN);
    expect(run.requests.perAttempt.create, table).toBeGreaterThan(0);
    expect(run.operator.cpuSeconds, table).toBeGreaterThan(0);
    expect(run.operator.peakRssMB, table).toBeGreaterThan(run.operator.rssAtReadyMB - 1);
    expect(run.footprint.byResource['jobs']?.count, table).toBe(20 * 4);
    // Deleting the plans leaves only their Events (which expire on their own).
    expect(run.footprint.afterDeletion?.resources, table).toEqual(['events']);
    expect(table).toContain('Goals:');
  }, 600_000);

  it('keeps only the successful Jobs of plans that retain no failed attempt', async () => {
    const run = await runScale({
      name: 'retention-0',
      plans: 5,
      concurrency: 4,
      modelLatencyMs: 20,
      // Not faster: a run's deadline (3,600 s) passes at this speed too, 108 s of real time here.
      speed: 0.03,
      timeoutMs: 300_000,
      failedAttemptsToKeep: 0,
    });
    expect(run.succeeded).toBe(5);
    expect(run.footprint.byResource['jobs']?.count).toBe(5 * 2);
  }, 600_000);
});
