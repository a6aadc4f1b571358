// Prometheus metrics of the operator, on their own registry so tests and several operators in one
// process do not collide.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LimiterObserver } from '../llm/limiter.ts';

export class Metrics implements LimiterObserver {
  readonly registry = new Registry();

  /**
   * `process`: also serve the process's own figures (process_resident_memory_bytes, CPU seconds,
   * nodejs_heap_size_used_bytes, event-loop lag), as controller-runtime serves Go's: what a
   * memory limit is set from.
   */
  constructor(options: { process?: boolean } = {}) {
    if (options.process) collectDefaultMetrics({ register: this.registry });
  }

  readonly queueDepth = new Gauge({
    name: 'fractale_queue_depth',
    help: 'Keys waiting in a controller work queue.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly reconcilesInFlight = new Gauge({
    name: 'fractale_reconciles_in_flight',
    help: 'Reconciles running now.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'fractale_reconcile_duration_seconds',
    help: 'How long reconciles take.',
    labelNames: ['controller'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'fractale_reconcile_errors_total',
    help: 'Reconciles that failed and were retried.',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly modelCalls = new Counter({
    name: 'fractale_model_calls_total',
    help: 'Model calls, by provider, agent and outcome (ok or the error kind).',
    labelNames: ['provider', 'agent', 'outcome'],
    registers: [this.registry],
  });
  readonly modelTokens = new Counter({
    name: 'fractale_model_tokens_total',
    help: 'Model tokens, by provider, agent and kind (prompt or output).',
    labelNames: ['provider', 'agent', 'kind'],
    registers: [this.registry],
  });
  readonly modelLatency = new Histogram({
    name: 'fractale_model_latency_seconds',
    help: 'Model call latency, retries included.',
    labelNames: ['provider', 'agent'],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly modelCallsQueued = new Gauge({
    name: 'fractale_model_calls_queued',
    help: "Model calls waiting for their turn under the provider's limits (--model-concurrency, --model-tokens-per-minute).",
    labelNames: ['provider'],
    registers: [this.registry],
  });
  readonly modelCallsInFlight = new Gauge({
    name: 'fractale_model_calls_in_flight',
    help: 'Model calls sent and not yet returned, by provider.',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  readonly modelQueueWait = new Histogram({
    name: 'fractale_model_queue_wait_seconds',
    help: 'How long model calls waited for their turn before they were sent (0 when they did not wait).',
    labelNames: ['provider'],
    buckets: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  readonly steps = new Gauge({
    name: 'fractale_steps',
    help: 'AgentSteps by phase.',
    labelNames: ['phase'],
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: 'fractale_leader',
    help: '1 when this replica holds the leader lease.',
    registers: [this.registry],
  });

  modelQueueChanged(provider: string, queued: number, inFlight: number): void {
    this.modelCallsQueued.set({ provider }, queued);
    this.modelCallsInFlight.set({ provider }, inFlight);
  }

  modelQueueWaited(provider: string, seconds: number): void {
    this.modelQueueWait.observe({ provider }, seconds);
  }

  /** Records one model call. */
  recordModelCall(
    provider: string,
    agent: string,
    outcome: string,
    seconds: number,
    usage?: { promptTokens: number; outputTokens: number },
  ): void {
    this.modelCalls.inc({ provider, agent, outcome });
    this.modelLatency.observe({ provider, agent }, seconds);
    if (usage) {
      this.modelTokens.inc({ provider, agent, kind: 'prompt' }, usage.promptTokens);
      this.modelTokens.inc({ provider, agent, kind: 'output' }, usage.outputTokens);
    }
  }
}
