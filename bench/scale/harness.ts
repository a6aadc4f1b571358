// One scale run: the simulated cluster in its own process (bench/scale/sim-process.ts), a fake Gemini
// server in this one answering from the chaos script after a fixed latency, and the operator as its
// own process (`fractale operator`, the real SDK against the fake server), as in production. Every
// plan is build → run with one failed build and one failed run (scenario build-run-crash: 4
// attempts, 2 Kaniko Jobs, 2 run Jobs, 6 model calls), all applied at once.

import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FakeGeminiBehavior,
  type FakeGeminiServer,
  type RecordedGeminiRequest,
  startFakeGeminiServer,
} from '../../src/llm/fake-gemini-server.ts';
import { DEFAULT_MODEL_CONCURRENCY } from '../../src/llm/limiter.ts';
import { answer, CHAOS_REGISTRY, FACTS, planFor } from '../chaos/scenarios.ts';
import { cpuSeconds, processMemory } from './proc.ts';
import { type Footprint, SCALE_NAMESPACE, type SimRequest, type SimStats } from './protocol.ts';

const SOURCE_MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
/** What the container image runs: the compiled CLI (`npm run build`). */
export const COMPILED_MAIN = join(import.meta.dirname, '../../dist/cli/main.js');
const SIM_PROCESS = join(import.meta.dirname, 'sim-process.ts');
const REAL_PROCESS = join(import.meta.dirname, 'real-process.ts');
const API_KEY = 'scale-bench-key';
export const SCENARIO = 'build-run-crash' as const;
export const ATTEMPTS_PER_PLAN = FACTS[SCENARIO].attempts;
export const MODEL_CALLS_PER_PLAN = FACTS[SCENARIO].modelCalls;
const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;

export interface ScaleRunOptions {
  name: string;
  plans: number;
  /** The operator's --concurrency. */
  concurrency: number;
  /** The operator's --model-concurrency; the operator's default when absent. */
  modelConcurrency?: number;
  modelLatencyMs: number;
  /** Multiplies the sim's durations (build 8 s / 30 s, run 2 s / 10 s in the behaviours). */
  speed: number;
  timeoutMs: number;
  /** The plans' spec.retain.failedAttempts (each step's failed attempts that keep their Jobs); default 1. */
  failedAttemptsToKeep?: number;
  /** sim: the simulated cluster's API server; real: kube-apiserver, etcd and kube-controller-manager. */
  lane?: Lane;
  /** Run the compiled operator (dist/, as the image does; `npm run build` first) or the sources. */
  compiled?: boolean;
  /** Delete the plans at the end and measure what is left (garbage collection). */
  measureDeletion?: boolean;
  log?: (line: string) => void;
}

export type Lane = 'sim' | 'real';

export interface ScaleFigures {
  name: string;
  lane: Lane;
  plans: number;
  concurrency: number;
  modelConcurrency: number | 'default';
  failedAttemptsToKeep: number;
  /** The operator ran compiled (dist/) or from the sources. */
  compiled: boolean;
  modelLatencyMs: number;
  succeeded: number;
  failed: number;
  unfinished: number;
  wallSeconds: number;
  /** The least the model's latency allows: a plan's calls in sequence, or all calls through the limit. */
  modelFloorSeconds: number;
  beyondFloorSeconds: number;
  plansPerSecond: number;
  attempts: number;
  /** Attempts beyond the script's 4 per plan (a failure the script did not write). */
  extraAttempts: number;
  /** Why attempts failed: the script's two per plan, and any other. */
  failures: SimStats['failures'];
  operator: {
    rssAtReadyMB: number;
    peakRssMB: number;
    /** (peak RSS − RSS when ready) / plans. */
    bytesPerPlan: number;
    cpuSeconds: number;
    cpuMsPerAttempt: number;
  };
  requests: {
    /** Requests the operator made while plans ran, per attempt, by verb. */
    perAttempt: Record<(typeof VERBS)[number], number>;
    writesPerAttempt: number;
    total: number;
    /** Every client's requests while plans ran (the sim's own world is one). */
    byClient: Record<string, number>;
    /** At start (lists and watches of the informers). */
    startup: number;
    /** GETs by resource (and subresource): the log reads are expected, GETs of objects are not. */
    gets: Record<string, number>;
    /** GETs of work objects (not logs, nor the CRD read once a minute) per attempt: 0 when read from informer caches. */
    objectGetsPerAttempt: number;
    /** Every request per attempt, by "verb resource[/subresource]". */
    byResource: Record<string, number>;
    /** Answers with an error code, by code (409 conflicts, 404s, ...). */
    errors: Record<string, number>;
  };
  model: {
    calls: number;
    callsPerPlan: number;
    tokensPerPlan: number;
    /** Prompts the model was sent more than once (each a call the operator paid for twice). */
    repeatedPrompts: number;
    /** Up to three of them, cut short, to say which step and agent asked again. */
    repeatedExamples: string[];
    /** Most requests the model server had at once. */
    peakInFlight: number;
  };
  latency: {
    samples: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    unanswered: number;
    /** The real lane: a pod's end → its Job's terminal condition (the Job controller's time, not ours). */
    jobControllerLag?: { p50Ms: number; p99Ms: number };
  };
  /** The sim's process: its API server, controllers and kubelets (it shares the 2 cores). */
  sim: { peakRssMB: number; cpuSeconds: number };
  footprint: {
    bytesPerPlan: number;
    objectsPerPlan: number;
    byResource: Footprint['objects'];
    largest: Footprint['largest'];
    /** What is left once the plans are deleted, by resource. */
    afterDeletion?: { objects: number; bytes: number; resources: string[] };
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MB = 1024 * 1024;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The most requests open at once, each open for `latencyMs` from its arrival. */
export function peakOverlap(arrivals: number[], latencyMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[start]! <= sorted[end]! - latencyMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

function repeats(prompts: string[]): { repeatedPrompts: number; repeatedExamples: string[] } {
  const seen = new Map<string, number>();
  for (const p of prompts) seen.set(p, (seen.get(p) ?? 0) + 1);
  const repeated = [...seen.entries()].filter(([, n]) => n > 1);
  return {
    repeatedPrompts: repeated.reduce((sum, [, n]) => sum + n - 1, 0),
    repeatedExamples: repeated
      .slice(0, 3)
      .map(
        ([p, n]) =>
          `${n}× ${p.slice(0, 60).replace(/\s+/g, ' ')} … ${/chaos plan [^)]*\)/.exec(p)?.[0] ?? ''}`,
      ),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A request without its id (the id is added when it is sent). */
type SimCall = SimRequest extends infer R ? (R extends SimRequest ? Omit<R, 'id'> : never) : never;

/** The sim's process and a typed call into it. */
interface SimProcess {
  child: ChildProcess;
  kubeconfigPath: string;
  call<T>(request: SimCall): Promise<T>;
}

async function startSimProcess(speed: number, lane: Lane): Promise<SimProcess> {
  const child = fork(lane === 'real' ? REAL_PROCESS : SIM_PROCESS, ['--speed', String(speed)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const ready = new Promise<{ kubeconfigPath: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sim's process exited with ${code}`)));
    child.on(
      'message',
      (message: { ready?: { kubeconfigPath: string }; id?: number; value?: unknown; error?: string }) => {
        if (message.ready) return resolve(message.ready);
        const waiter = pending.get(message.id ?? -1);
        if (!waiter) return;
        pending.delete(message.id!);
        if (message.error) waiter.reject(new Error(message.error));
        else waiter.resolve(message.value);
      },
    );
  });
  const { kubeconfigPath } = await ready;
  return {
    child,
    kubeconfigPath,
    call: <T>(request: SimCall) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...request, id });
      }),
  };
}

const promptOf = (request: RecordedGeminiRequest) =>
  (request.body.contents?.at(-1)?.parts ?? []).map((part) => part.text ?? '').join('');

export async function runScale(options: ScaleRunOptions): Promise<ScaleFigures> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), `fractale-scale-${options.name}-`));
  const sim = await startSimProcess(options.speed, options.lane ?? 'sim');

  const arrivals: number[] = [];
  const gemini: FakeGeminiServer = await startFakeGeminiServer({
    apiKey: API_KEY,
    fallback: (request) => {
      arrivals.push(performance.now());
      const text = answer(promptOf(request));
      if (!text) return { type: 'error', status: 400, message: 'scale script: no answer' };
      const then: FakeGeminiBehavior = { type: 'text', text };
      return options.modelLatencyMs > 0 ? { type: 'slow', delayMs: options.modelLatencyMs, then } : then;
    },
  });

  const healthPort = await freePort();
  const logFile = createWriteStream(join(dir, 'operator.log'));
  const operator = spawn(
    process.execPath,
    [
      // FRACTALE_SCALE_PROFILE=DIR writes a CPU profile of the operator there (for Chrome DevTools).
      ...(process.env['FRACTALE_SCALE_PROFILE']
        ? ['--cpu-prof', '--cpu-prof-dir', process.env['FRACTALE_SCALE_PROFILE']]
        : []),
      // FRACTALE_SCALE_NODE_FLAGS: flags for the operator's Node (e.g. V8's heap sizes), to compare.
      ...(process.env['FRACTALE_SCALE_NODE_FLAGS']?.split(' ').filter(Boolean) ?? []),
      options.compiled ? COMPILED_MAIN : SOURCE_MAIN,
      'operator',
      '--provider',
      'gemini',
      '--registry',
      CHAOS_REGISTRY,
      '--namespaces',
      SCALE_NAMESPACE,
      '--concurrency',
      String(options.concurrency),
      ...(options.modelConcurrency ? ['--model-concurrency', String(options.modelConcurrency)] : []),
      '--health-port',
      String(healthPort),
      '--metrics-port',
      '0',
      '--leader-elect',
      'false',
      '--log-level',
      'warn',
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: sim.kubeconfigPath,
        GEMINI_API_KEY: API_KEY,
        GEMINI_BASE_URL: gemini.url,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  operator.stdout?.pipe(logFile, { end: false });
  operator.stderr?.pipe(logFile, { end: false });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    operator.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const stopAll = async () => {
    operator.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    operator.kill('SIGKILL');
    logFile.end();
    await gemini.close();
    await sim.call({ op: 'stop' }).catch(() => {});
    sim.child.kill();
  };

  try {
    // Ready: informers synced (the operator's /readyz).
    const readyBy = Date.now() + 180_000;
    for (;;) {
      if (exitCode !== undefined)
        throw new Error(`the operator exited with ${exitCode}; see ${dir}/operator.log`);
      if (Date.now() > readyBy) throw new Error('the operator was not ready within 180 s');
      const ok = await fetch(`http://127.0.0.1:${healthPort}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await sleep(100);
    }
    const startup = await sim.call<SimStats>({ op: 'stats' });
    const startupRequests = startup.requests
      .filter((r) => r.client === 'fractale-operator')
      .reduce((sum, r) => sum + r.count, 0);
    await sim.call({ op: 'reset-requests' });
    const pid = operator.pid!;
    const rssAtReady = processMemory(pid).rssBytes;
    const cpuAtReady = cpuSeconds(pid);
    const simCpuAtReady = cpuSeconds(sim.child.pid!);

    const plans = Array.from({ length: options.plans }, (_, i) => {
      const plan = planFor(SCENARIO, `s${String(i).padStart(4, '0')}`, SCALE_NAMESPACE) as {
        spec: Record<string, unknown>;
      };
      if (options.failedAttemptsToKeep !== undefined)
        plan.spec['retain'] = { failedAttempts: options.failedAttemptsToKeep };
      return plan;
    });
    const started = performance.now();
    await sim.call({ op: 'apply', plans });
    log(`${options.name}: ${options.plans} plans applied`);
    let progress = { total: 0, done: 0, failed: 0 };
    let lastLog = Date.now();
    const deadline = Date.now() + options.timeoutMs;
    while (Date.now() < deadline) {
      progress = await sim.call<typeof progress>({ op: 'progress' });
      if (progress.done === options.plans) break;
      if (exitCode !== undefined)
        throw new Error(`the operator exited with ${exitCode}; see ${dir}/operator.log`);
      if (Date.now() - lastLog > 10_000) {
        log(`${options.name}: ${progress.done}/${options.plans} plans done`);
        lastLog = Date.now();
      }
      await sleep(50);
    }
    const wallSeconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpuAtReady;
    const simCpu = cpuSeconds(sim.child.pid!) - simCpuAtReady;
    const operatorMemory = processMemory(pid);
    const stats = await sim.call<SimStats>({ op: 'stats' });
    let afterDeletion: ScaleFigures['footprint']['afterDeletion'];
    if (options.measureDeletion) {
      const left = await sim.call<Footprint>({ op: 'delete-plans', timeoutMs: 120_000 });
      afterDeletion = {
        objects: left.totalObjects,
        bytes: left.totalBytes,
        resources: Object.keys(left.objects).sort(),
      };
    }

    const mine = stats.requests.filter((r) => r.client === 'fractale-operator');
    const attempts = stats.steps.reduce((sum, s) => sum + s.attempts, 0);
    const perAttempt = (n: number) => (attempts > 0 ? round(n / attempts, 2) : 0);
    const byVerb = (verb: string) => mine.filter((r) => r.verb === verb).reduce((sum, r) => sum + r.count, 0);
    const byResource: Record<string, number> = {};
    const gets: Record<string, number> = {};
    const errors: Record<string, number> = {};
    for (const r of mine) {
      const what = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
      byResource[`${r.verb} ${what}`] = (byResource[`${r.verb} ${what}`] ?? 0) + r.count;
      if (r.verb === 'get') gets[what] = (gets[what] ?? 0) + r.count;
      if (r.code >= 400)
        errors[`${r.code} ${r.verb} ${what}`] = (errors[`${r.code} ${r.verb} ${what}`] ?? 0) + r.count;
    }
    // The MiniCluster CRD, read for the prompts' cluster facts once a minute, is not a work object.
    const objectGets = mine
      .filter(
        (r) => r.verb === 'get' && r.subresource !== 'log' && r.resource !== 'customresourcedefinitions',
      )
      .reduce((sum, r) => sum + r.count, 0);
    const modelCalls = gemini.requests.filter((r) => r.method === 'POST').length;
    const tokens = stats.steps.reduce((sum, s) => sum + s.tokens, 0);
    const limit = options.modelConcurrency ?? DEFAULT_MODEL_CONCURRENCY;
    const modelFloorSeconds =
      Math.max(MODEL_CALLS_PER_PLAN, (MODEL_CALLS_PER_PLAN * options.plans) / limit) *
      (options.modelLatencyMs / 1000);
    const phases = stats.plans.map((p) => p.phase);
    return {
      name: options.name,
      lane: options.lane ?? 'sim',
      plans: options.plans,
      concurrency: options.concurrency,
      modelConcurrency: options.modelConcurrency ?? 'default',
      failedAttemptsToKeep: options.failedAttemptsToKeep ?? 1,
      compiled: options.compiled ?? false,
      modelLatencyMs: options.modelLatencyMs,
      succeeded: phases.filter((p) => p === 'Succeeded').length,
      failed: phases.filter((p) => p === 'Failed').length,
      unfinished: phases.filter((p) => p !== 'Succeeded' && p !== 'Failed').length,
      wallSeconds: round(wallSeconds, 2),
      modelFloorSeconds: round(modelFloorSeconds, 2),
      beyondFloorSeconds: round(wallSeconds - modelFloorSeconds, 2),
      plansPerSecond: round(options.plans / wallSeconds, 2),
      attempts,
      extraAttempts: attempts - ATTEMPTS_PER_PLAN * options.plans,
      failures: stats.failures,
      operator: {
        rssAtReadyMB: round(rssAtReady / MB),
        peakRssMB: round(operatorMemory.peakRssBytes / MB),
        bytesPerPlan: Math.round((operatorMemory.peakRssBytes - rssAtReady) / options.plans),
        cpuSeconds: round(cpu, 2),
        cpuMsPerAttempt: attempts > 0 ? round((cpu * 1000) / attempts, 2) : 0,
      },
      requests: {
        perAttempt: Object.fromEntries(VERBS.map((verb) => [verb, perAttempt(byVerb(verb))])) as Record<
          (typeof VERBS)[number],
          number
        >,
        writesPerAttempt: perAttempt(WRITE_VERBS.reduce((sum, verb) => sum + byVerb(verb), 0)),
        total: mine.reduce((sum, r) => sum + r.count, 0),
        startup: startupRequests,
        byClient: stats.requests.reduce<Record<string, number>>((sum, r) => {
          sum[r.client] = (sum[r.client] ?? 0) + r.count;
          return sum;
        }, {}),
        gets,
        objectGetsPerAttempt: perAttempt(objectGets),
        byResource: Object.fromEntries(
          Object.entries(byResource)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, n]) => [key, perAttempt(n)]),
        ),
        errors,
      },
      model: {
        calls: modelCalls,
        callsPerPlan: round(modelCalls / options.plans, 2),
        tokensPerPlan: Math.round(tokens / options.plans),
        ...repeats(gemini.requests.filter((r) => r.method === 'POST').map(promptOf)),
        peakInFlight: peakOverlap(arrivals, options.modelLatencyMs),
      },
      latency: {
        samples: stats.reactionMs.length,
        p50Ms: round(quantile(stats.reactionMs, 0.5)),
        p99Ms: round(quantile(stats.reactionMs, 0.99)),
        maxMs: round(Math.max(0, ...stats.reactionMs)),
        unanswered: stats.unanswered,
        ...(stats.jobControllerLagMs?.length
          ? {
              jobControllerLag: {
                p50Ms: round(quantile(stats.jobControllerLagMs, 0.5)),
                p99Ms: round(quantile(stats.jobControllerLagMs, 0.99)),
              },
            }
          : {}),
      },
      sim: { peakRssMB: round(stats.memory.peakRssBytes / MB), cpuSeconds: round(simCpu, 2) },
      footprint: {
        bytesPerPlan: Math.round(stats.footprint.totalBytes / options.plans),
        objectsPerPlan: round(stats.footprint.totalObjects / options.plans, 2),
        byResource: stats.footprint.objects,
        largest: stats.footprint.largest,
        ...(afterDeletion ? { afterDeletion } : {}),
      },
    };
  } finally {
    await stopAll();
    if (!process.env['FRACTALE_SCALE_KEEP']) rmSync(dir, { recursive: true, force: true });
    else log(`${options.name}: operator log kept in ${dir}`);
  }
}
