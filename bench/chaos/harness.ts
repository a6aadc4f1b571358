// One chaos run: the simulated cluster and a fake Gemini server in this process, the operator as its
// own process (`fractale operator`, the real SDK against the fake server), plans applied at once,
// and faults of one kind: SIGKILLs of the operator (one replica, then two with leader election), an
// API server that fails writes and cuts watches (through src/sim/faults.ts), or a model that fails
// at set rates. The figures come from what the cluster stored and what the model server received.

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../../src/api/names.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import {
  type FakeGeminiBehavior,
  type FakeGeminiServer,
  type RecordedGeminiRequest,
  startFakeGeminiServer,
} from '../../src/llm/fake-gemini-server.ts';
import { type FaultProxy, type FaultRates, startFaultProxy } from '../../src/sim/faults.ts';
import { type SimCluster, startSimCluster, writeSimKubeconfig } from '../../src/sim/index.ts';
import {
  answer,
  CHAOS_NAMESPACE,
  CHAOS_REGISTRY,
  chaosBehaviors,
  chaosPlans,
  FACTS,
  planFor,
  type Scenario,
} from './scenarios.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const API_KEY = 'chaos-harness-key';
const TERMINAL = new Set(['Succeeded', 'Failed']);
/** A step whose status has not changed for this long while it is not finished is stuck. */
export const STUCK_MS = 60_000;

/** Rates of model faults, per HTTP request to the model. */
export interface ModelFaultRates {
  rateLimited: number;
  serverError: number;
  /** Answers slower than the operator's --model-timeout. */
  timeout: number;
  /** A candidate withheld (finishReason SAFETY). */
  blocked: number;
  empty: number;
  /** A 200 whose body is not JSON. */
  malformed: number;
}

export const DEFAULT_MODEL_FAULTS: ModelFaultRates = {
  rateLimited: 0.05,
  serverError: 0.05,
  timeout: 0.02,
  blocked: 0.02,
  empty: 0.02,
  malformed: 0.02,
};

export interface KillPlan {
  count: number;
  /** Random gap between kills (ms). */
  gapMs: [number, number];
  /** After this many kills a second replica joins, both electing a leader. */
  twoReplicasAfter: number;
}

export interface ChaosRunOptions {
  name: string;
  plans: number;
  /** Multiplies the sim's durations. */
  speed: number;
  /** Milliseconds the fake model takes to answer. */
  modelLatencyMs: number;
  kills?: KillPlan;
  apiFaults?: FaultRates;
  modelFaults?: ModelFaultRates;
  /** Plans whose every prompt is blocked / every request fails with 500 (model-faults runs). */
  persistentModelFaults?: { blocked: number; outage: number };
  seed: number;
  timeoutMs: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export interface ChaosFigures {
  name: string;
  plans: number;
  completed: number;
  /** Plans that ended Failed naming a model fault the model client does not retry (blocked, empty). */
  endedNamingModelFault: number;
  wrongPhase: { plan: string; scenario: string; phase: string | undefined; message: string | undefined }[];
  wallSeconds: number;
  kills: number;
  /** Replica exits nobody asked for (crashes), by exit code. */
  unexpectedExits: number;
  lostLeaseExits: number;
  duplicateObjects: number;
  /** Which: resource/name. */
  duplicates: string[];
  historyMissing: number;
  historyDoubled: number;
  /** Attempts beyond the scripts' (a fault that cost an attempt). */
  extraAttempts: number;
  expectedModelCalls: number;
  /** Distinct prompts asked. */
  modelCalls: number;
  modelRequests: number;
  /** Prompts asked again with no operator kill in between (a restart that did not reuse an answer, or a replay). */
  unexplainedRepeats: number;
  /** Prompts asked again after a kill: the call was in flight, or its answer not yet stored. */
  repeatsAfterKill: number;
  /** Of those, the ones whose answer had been sent before the kill (received, but not yet stored). */
  repeatsAnswerLost: number;
  maxRequestsPerCall: number;
  stuckSteps: string[];
  /** Why attempts failed, over all steps (the scripts' own failures included). */
  failureReasons: Record<string, number>;
  /** Up to five distinct messages per reason. */
  failureMessages: Record<string, string[]>;
  leftovers: Record<string, number>;
  faults: Record<string, number>;
  persistent: {
    plan: string;
    expect: string;
    phase?: string;
    reason?: string;
    message?: string;
    ok: boolean;
  }[];
}

/** A small seeded generator (mulberry32), so a run's faults and kills can be replayed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Replica {
  id: number;
  process: ChildProcess;
  exited: Promise<number | null>;
  killed: boolean;
}

type Obj = {
  metadata: {
    name?: string;
    uid?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

const promptOf = (request: RecordedGeminiRequest) =>
  (request.body.contents?.at(-1)?.parts ?? []).map((part) => part.text ?? '').join('');

export async function runChaos(options: ChaosRunOptions): Promise<ChaosFigures> {
  const log = options.log ?? (() => {});
  const random = seeded(options.seed);
  const dir = mkdtempSync(join(tmpdir(), `fractale-chaos-${options.name}-`));
  const sim: SimCluster = await startSimCluster({ behaviors: chaosBehaviors(), speed: options.speed });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(sim.kubeconfigPath);
  const client = new KubeClient(kubeConfig);
  let proxy: FaultProxy | undefined;
  let operatorKubeconfig = sim.kubeconfigPath;
  if (options.apiFaults) {
    proxy = await startFaultProxy(sim.url, options.apiFaults, seeded(options.seed + 1));
    operatorKubeconfig = join(dir, 'kubeconfig-faulty');
    writeSimKubeconfig(operatorKubeconfig, proxy.url);
  }

  // The model: scripted answers after a fixed latency, with faults at set rates.
  const modelRandom = seeded(options.seed + 2);
  const faults = options.modelFaults;
  const modelFaultCounts: Record<string, number> = {};
  const count = (what: string) => {
    modelFaultCounts[what] = (modelFaultCounts[what] ?? 0) + 1;
  };
  const timeoutSeconds = 3;
  const latency = (then: FakeGeminiBehavior): FakeGeminiBehavior =>
    options.modelLatencyMs > 0 ? { type: 'slow', delayMs: options.modelLatencyMs, then } : then;
  const gemini: FakeGeminiServer = await startFakeGeminiServer({
    apiKey: API_KEY,
    fallback: (request) => {
      const prompt = promptOf(request);
      if (prompt.includes('MODEL-BLOCKS-THIS')) {
        count('blocked prompt (persistent)');
        return { type: 'blocked', where: 'prompt' };
      }
      if (prompt.includes('MODEL-OUTAGE')) {
        count('500 (persistent)');
        return { type: 'error', status: 500 };
      }
      if (faults) {
        let roll = modelRandom();
        const pick = (rate: number) => {
          roll -= rate;
          return roll < 0;
        };
        if (pick(faults.rateLimited)) {
          count('429 with RetryInfo');
          return { type: 'rate-limited', retryAfterSeconds: 1 };
        }
        if (pick(faults.serverError)) {
          count('500');
          return { type: 'error', status: 500 };
        }
        if (pick(faults.timeout)) {
          count('timeout');
          return { type: 'slow', delayMs: (timeoutSeconds + 2) * 1000 };
        }
        if (pick(faults.blocked)) {
          count('candidate blocked');
          return latency({ type: 'blocked', where: 'candidate' });
        }
        if (pick(faults.empty)) {
          count('empty answer');
          return latency({ type: 'empty' });
        }
        if (pick(faults.malformed)) {
          count('malformed body');
          return latency({ type: 'malformed' });
        }
      }
      const text = answer(prompt);
      if (!text)
        return {
          type: 'error',
          status: 400,
          message: `chaos script: no answer for "${prompt.slice(0, 80)}"`,
        };
      return latency({ type: 'text', text });
    },
  });
  const requestTimes: number[] = [];
  const originalPush = gemini.requests.push.bind(gemini.requests);
  gemini.requests.push = (...items: RecordedGeminiRequest[]) => {
    for (const _ of items) requestTimes.push(Date.now());
    return originalPush(...items);
  };

  // Every Job and MiniCluster ever created, by name: two uids under one name is a duplicate.
  const created = new Map<string, Set<string>>();
  const unwatch = ['batch/v1/jobs', 'flux-framework.org/v1alpha2/miniclusters'].map((resource) =>
    sim.store.watch(
      resource,
      (event) => {
        if (event.type !== 'ADDED') return;
        const key = `${resource}/${event.object.metadata.name}`;
        const uids = created.get(key) ?? new Set<string>();
        uids.add(event.object.metadata.uid ?? '');
        created.set(key, uids);
      },
      { namespace: CHAOS_NAMESPACE },
    ),
  );

  await client.create(RESOURCES.namespaces, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: CHAOS_NAMESPACE },
  } as never);

  // The operator replicas.
  const replicas = new Map<number, Replica>();
  const logs: WriteStream[] = [];
  let nextId = 0;
  let unexpectedExits = 0;
  let lostLeaseExits = 0;
  let leaderElect = false;
  let stopping = false;
  const startReplica = (): Replica => {
    const id = nextId++;
    const logFile = createWriteStream(join(dir, `operator-${id}.log`));
    logs.push(logFile);
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'operator',
        '--provider',
        'gemini',
        '--registry',
        CHAOS_REGISTRY,
        '--namespaces',
        CHAOS_NAMESPACE,
        '--concurrency',
        String(options.concurrency ?? 4),
        '--health-port',
        '0',
        '--metrics-port',
        '0',
        '--leader-elect',
        String(leaderElect),
        '--lease-namespace',
        CHAOS_NAMESPACE,
        '--lease-duration',
        '4',
        '--renew-deadline',
        '3',
        '--retry-period',
        '1',
        '--model-timeout',
        String(timeoutSeconds),
        '--log-level',
        'info',
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: operatorKubeconfig,
          GEMINI_API_KEY: API_KEY,
          GEMINI_BASE_URL: gemini.url,
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(logFile, { end: false });
    child.stderr?.pipe(logFile, { end: false });
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    const replica: Replica = {
      id,
      process: child,
      killed: false,
      exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    };
    void replica.exited.then((code) => {
      if (replica.killed || stopping) return;
      // Lost the lease (exit 1 after "Lost the leader lease") or crashed: start it again either way.
      if (code === 1 && tail.includes('Lost the leader lease')) lostLeaseExits++;
      else {
        unexpectedExits++;
        log(
          `replica ${id} exited with ${code}: ${tail.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`,
        );
      }
      if (unexpectedExits > 20) {
        stopping = true;
        log(`${options.name}: the operator keeps exiting; giving up on this run`);
        return;
      }
      replicas.delete(id);
      const again = startReplica();
      replicas.set(again.id, again);
    });
    return replica;
  };
  const first = startReplica();
  replicas.set(first.id, first);

  // The plans, applied at once.
  const plans = chaosPlans(options.plans).map((p) => ({ ...p, persistent: undefined as string | undefined }));
  for (let i = 0; i < (options.persistentModelFaults?.blocked ?? 0); i++)
    plans.push({ name: `m-blocked-${i}`, scenario: 'cost', persistent: 'MODEL-BLOCKS-THIS' });
  for (let i = 0; i < (options.persistentModelFaults?.outage ?? 0); i++)
    plans.push({ name: `m-outage-${i}`, scenario: 'cost', persistent: 'MODEL-OUTAGE' });
  const started = Date.now();
  for (const plan of plans) {
    const object = planFor(plan.scenario, plan.name) as {
      spec: { steps: { context: Record<string, string> }[] };
    };
    if (plan.persistent) {
      const context = object.spec.steps[0]!.context;
      context['instruction'] = `${context['instruction']} ${plan.persistent}`;
    }
    await client.create(RESOURCES.agentPlans, object as never);
  }
  log(`${options.name}: ${plans.length} plans applied`);

  // Watch progress, kill on schedule.
  const lastChange = new Map<string, { rv: string; at: number; terminal: boolean }>();
  const stuck = new Set<string>();
  const killTimes: number[] = [];
  const observe = () => {
    const now = Date.now();
    for (const step of sim.store.listRaw('fractale.dev/v1alpha1/agentsteps', CHAOS_NAMESPACE)
      .items as Obj[]) {
      const name = step.metadata.name!;
      const rv = step.metadata.resourceVersion ?? '';
      const terminal = TERMINAL.has(String(step.status?.['phase'] ?? ''));
      const known = lastChange.get(name);
      if (!known || known.rv !== rv) lastChange.set(name, { rv, at: now, terminal });
      else if (!terminal && now - known.at > STUCK_MS) stuck.add(name);
    }
  };
  const plansDone = () => {
    const items = sim.store.listRaw('fractale.dev/v1alpha1/agentplans', CHAOS_NAMESPACE).items as Obj[];
    return items.filter(
      (p) =>
        TERMINAL.has(String(p.status?.['phase'] ?? '')) ||
        // A plan under a lasting outage never ends: it is done once it waits for the model, saying why.
        (p.metadata.name?.startsWith('m-outage-') && stepWaitingForModel(sim, p.metadata.name)),
    ).length;
  };
  let nextKill = options.kills ? started + gap(options.kills.gapMs, random) : Number.POSITIVE_INFINITY;
  const deadline = started + options.timeoutMs;
  while (Date.now() < deadline && !stopping) {
    observe();
    if (plansDone() === plans.length) break;
    if (options.kills && killTimes.length < options.kills.count && Date.now() >= nextKill) {
      const victim = chooseVictim([...replicas.values()], leaderElect ? leaseHolder(sim) : undefined, random);
      if (victim) {
        victim.killed = true;
        victim.process.kill('SIGKILL');
        killTimes.push(Date.now());
        await victim.exited;
        replicas.delete(victim.id);
        if (killTimes.length === options.kills.twoReplicasAfter && !leaderElect) {
          // From here on two replicas elect a leader: the survivor of a kill takes over.
          leaderElect = true;
          const a = startReplica();
          const b = startReplica();
          replicas.set(a.id, a);
          replicas.set(b.id, b);
        } else {
          const again = startReplica();
          replicas.set(again.id, again);
        }
        log(
          `${options.name}: kill ${killTimes.length} (replica ${victim.id}), ${plansDone()}/${plans.length} plans done`,
        );
      }
      nextKill = Date.now() + gap(options.kills.gapMs, random);
    }
    await sleep(200);
  }
  const wallSeconds = (Date.now() - started) / 1000;
  observe();

  // Figures from what the cluster stored.
  const planObjects = new Map(
    (sim.store.list('fractale.dev/v1alpha1/agentplans', CHAOS_NAMESPACE).items as Obj[]).map((p) => [
      p.metadata.name!,
      p,
    ]),
  );
  const wrongPhase: ChaosFigures['wrongPhase'] = [];
  const persistent: ChaosFigures['persistent'] = [];
  let completed = 0;
  let endedNamingModelFault = 0;
  const asScripted = new Set<string>();
  for (const plan of plans) {
    const object = planObjects.get(plan.name);
    const phase = object?.status?.['phase'] as string | undefined;
    const message = object?.status?.['message'] as string | undefined;
    if (plan.persistent) {
      const reason = object?.status?.['reason'] as string | undefined;
      const ok =
        plan.persistent === 'MODEL-BLOCKS-THIS'
          ? phase === 'Failed' && reason === 'ModelUnavailable' && /blocked/.test(message ?? '')
          : stepWaitingForModel(sim, plan.name);
      persistent.push({
        plan: plan.name,
        expect:
          plan.persistent === 'MODEL-BLOCKS-THIS'
            ? 'Failed, ModelUnavailable, naming the block'
            : 'waiting for the model (WaitingForModel), naming the 500',
        ...(phase ? { phase } : {}),
        ...(reason ? { reason } : {}),
        ...(message ? { message: message.slice(0, 200) } : {}),
        ok,
      });
      continue;
    }
    if (phase === FACTS[plan.scenario as Scenario].phase) {
      completed++;
      asScripted.add(plan.name);
    } else if (
      faults &&
      phase === 'Failed' &&
      object?.status?.['reason'] === 'ModelUnavailable' &&
      /blocked|withheld|empty answer|no candidate/.test(message ?? '')
    ) {
      // An answer the model withheld is not retried (a block is the model's decision): the plan ends
      // naming it, without spending an attempt.
      endedNamingModelFault++;
    } else wrongPhase.push({ plan: plan.name, scenario: plan.scenario, phase, message });
  }
  const steps = sim.store.list('fractale.dev/v1alpha1/agentsteps', CHAOS_NAMESPACE).items as Obj[];
  let historyMissing = 0;
  const failureReasons: Record<string, number> = {};
  const failureMessages: Record<string, string[]> = {};
  let historyDoubled = 0;
  let attempts = 0;
  const persistentPlans = new Set(plans.filter((p) => p.persistent).map((p) => p.name));
  for (const step of steps) {
    const status = step.status ?? {};
    const history = (status['history'] as { attempt: number }[] | undefined) ?? [];
    const plan = step.metadata.labels?.[LABELS.plan] ?? '';
    if (asScripted.has(plan)) attempts += history.length;
    if (!TERMINAL.has(String(status['phase'] ?? ''))) continue;
    const last = Number(status['attempt'] ?? 0);
    const seen = new Map<number, number>();
    for (const entry of history) seen.set(entry.attempt, (seen.get(entry.attempt) ?? 0) + 1);
    // A step that failed because the model did not answer spent no attempt on it: that attempt has
    // no history entry, by design.
    const unanswered = status['reason'] === 'ModelUnavailable' ? last : 0;
    for (let a = 1; a <= last; a++) if (!seen.has(a) && a !== unanswered) historyMissing++;
    for (const entry of history as { attempt: number; outcome?: string; reason?: string }[])
      if (entry.outcome === 'Failed') {
        const reason = entry.reason ?? '';
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
        const message = String((entry as { message?: string }).message ?? '').slice(0, 160);
        const known = failureMessages[reason] ?? [];
        failureMessages[reason] = known;
        if (known.length < 5 && !known.includes(message)) known.push(message);
      }
    for (const n of seen.values()) if (n > 1) historyDoubled += n - 1;
  }
  const expectedAttempts = plans
    .filter((p) => asScripted.has(p.name))
    .reduce((sum, p) => sum + FACTS[p.scenario as Scenario].attempts, 0);

  // Model calls: one distinct prompt is one call; more requests for it are retries or repeats.
  const byPrompt = new Map<string, number[]>();
  gemini.requests.forEach((request, i) => {
    if (request.method !== 'POST') return;
    const prompt = promptOf(request);
    if (persistentPlans.size > 0 && /MODEL-BLOCKS-THIS|MODEL-OUTAGE/.test(prompt)) return;
    // Calls of plans that ended early (a withheld answer) are not the script's.
    const plan = /chaos plan (\S+),/.exec(prompt)?.[1];
    if (plan && !asScripted.has(plan)) return;
    const times = byPrompt.get(prompt) ?? [];
    times.push(requestTimes[i] ?? 0);
    byPrompt.set(prompt, times);
  });
  let modelRequests = 0;
  let unexplainedRepeats = 0;
  let repeatsAfterKill = 0;
  let repeatsAnswerLost = 0;
  let maxRequestsPerCall = 0;
  for (const times of byPrompt.values()) {
    modelRequests += times.length;
    maxRequestsPerCall = Math.max(maxRequestsPerCall, times.length);
    if (faults) continue; // with model faults, repeats are the client's retries
    for (let i = 1; i < times.length; i++) {
      const kill = killTimes.find((t) => t >= times[i - 1]! - 50 && t <= times[i]!);
      if (kill === undefined) unexplainedRepeats++;
      else {
        repeatsAfterKill++;
        // The fake model answered `modelLatencyMs` after the request arrived.
        if (kill > times[i - 1]! + options.modelLatencyMs + 20) repeatsAnswerLost++;
      }
    }
  }
  const expectedModelCalls = plans
    .filter((p) => asScripted.has(p.name))
    .reduce((sum, p) => sum + FACTS[p.scenario as Scenario].modelCalls, 0);

  // Delete the plans; everything they own must go.
  for (const plan of plans)
    await client.delete(RESOURCES.agentPlans, CHAOS_NAMESPACE, plan.name).catch(() => {});
  const leftovers = await waitForEmpty(sim, 60_000);

  stopping = true;
  for (const replica of replicas.values()) replica.process.kill('SIGTERM');
  await Promise.race([Promise.all([...replicas.values()].map((r) => r.exited)), sleep(10_000)]);
  for (const replica of replicas.values()) replica.process.kill('SIGKILL');
  for (const stop of unwatch) stop();
  for (const file of logs) file.end();
  await proxy?.close();
  await gemini.close();
  await sim.stop();
  const keep = process.env['FRACTALE_CHAOS_KEEP'];
  if (!keep) rmSync(dir, { recursive: true, force: true });
  else log(`${options.name}: operator logs kept in ${dir}`);

  let duplicateObjects = 0;
  const duplicates: string[] = [];
  for (const [key, uids] of created) {
    duplicateObjects += uids.size - 1;
    if (uids.size > 1) duplicates.push(key);
  }
  return {
    name: options.name,
    plans: plans.filter((p) => !p.persistent).length,
    completed,
    endedNamingModelFault,
    wrongPhase,
    wallSeconds,
    kills: killTimes.length,
    unexpectedExits,
    lostLeaseExits,
    duplicateObjects,
    duplicates,
    historyMissing,
    historyDoubled,
    extraAttempts: attempts - expectedAttempts,
    expectedModelCalls,
    modelCalls: byPrompt.size,
    modelRequests,
    unexplainedRepeats,
    repeatsAfterKill,
    repeatsAnswerLost,
    maxRequestsPerCall,
    stuckSteps: [...stuck],
    failureReasons,
    failureMessages,
    leftovers,
    faults: { ...(proxy ? { ...proxy.counts } : {}), ...modelFaultCounts },
    persistent,
  };
}

function gap([low, high]: [number, number], random: () => number): number {
  return low + random() * (high - low);
}

function leaseHolder(sim: SimCluster): string | undefined {
  const lease = sim.store.get('coordination.k8s.io/v1/leases', CHAOS_NAMESPACE, 'fractale-operator') as
    | Obj
    | undefined;
  return lease?.spec?.['holderIdentity'] as string | undefined;
}

/** With a leader, kill it two times in three (the interesting case); otherwise any replica. */
function chooseVictim(
  replicas: Replica[],
  holder: string | undefined,
  random: () => number,
): Replica | undefined {
  if (replicas.length === 0) return undefined;
  const leader = holder ? replicas.find((r) => holder.endsWith(`-${r.process.pid}`)) : undefined;
  if (leader && random() < 2 / 3) return leader;
  return replicas[Math.floor(random() * replicas.length)];
}

function stepWaitingForModel(sim: SimCluster, plan: string): boolean {
  const steps = sim.store.list('fractale.dev/v1alpha1/agentsteps', CHAOS_NAMESPACE, {
    labelSelector: `${LABELS.plan}=${plan}`,
  }).items as Obj[];
  return steps.some(
    (s) =>
      s.status?.['reason'] === 'WaitingForModel' &&
      /500/.test(String(s.status?.['message'] ?? '')) &&
      ((s.status?.['history'] as unknown[] | undefined) ?? []).length === 0,
  );
}

/** What is left in the namespace once the plans are deleted (the operator's own Lease and Events aside). */
async function waitForEmpty(sim: SimCluster, timeoutMs: number): Promise<Record<string, number>> {
  const resources = [
    'fractale.dev/v1alpha1/agentplans',
    'fractale.dev/v1alpha1/agentsteps',
    'batch/v1/jobs',
    'v1/pods',
    'v1/configmaps',
    'flux-framework.org/v1alpha2/miniclusters',
  ];
  const left = () => {
    const counts: Record<string, number> = {};
    for (const resource of resources) {
      const items = sim.store
        .listRaw(resource, CHAOS_NAMESPACE)
        .items.filter((o) => o.metadata.name !== 'kube-root-ca.crt');
      if (items.length > 0) counts[resource.split('/').at(-1)!] = items.length;
    }
    return counts;
  };
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && Object.keys(left()).length > 0) await sleep(250);
  return left();
}
