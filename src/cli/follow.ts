// Following a step or a plan until it ends: informers (list, then watch) on AgentSteps and AgentPlans
// drive a live view, event by event. Ctrl-C stops following, never the work.
import type { AgentPlan, AgentStep } from '../api/index.ts';
import { TERMINAL_STEP_PHASES } from '../api/index.ts';
import { ApiError, type KubeObject } from '../kube/client.ts';
import { RESOURCES, type Resource } from '../kube/resources.ts';
import { Informer } from '../runtime/informer.ts';
import { UserError } from './errors.ts';
import type { CliIO } from './io.ts';
import type { Connection } from './kube.ts';
import { clip, createView, type LiveView, type StepRow, stepRow } from './view.ts';

type Step = AgentStep & KubeObject;
type Plan = AgentPlan & KubeObject;

export type FollowOutcome<T> = { kind: 'finished'; object: T } | { kind: 'interrupted' };

const TERMINAL: readonly string[] = TERMINAL_STEP_PHASES;

export function resumeHint(conn: Connection, what: 'steps' | 'plans' | 'experiments'): string {
  const ns = conn.namespace === 'default' ? '' : ` -n ${conn.namespace}`;
  if (what === 'experiments')
    return `Stopped following; the work goes on in the cluster. Check on it with \`fractale experiment get${ns}\` or \`kubectl get agentexperiments${ns}\``;
  return `Stopped following; the work goes on in the cluster. Check on it with \`fractale get ${what}${ns}\` or \`kubectl get agentsteps${ns} -w\``;
}

interface Following<T> {
  finish(value: FollowOutcome<T>): void;
  fail(error: Error): void;
  /** The operator has written status: stop counting down to "the operator is not running". */
  seen(): void;
}

/**
 * Runs the informers until `body` finishes or fails, Ctrl-C is pressed, or the object gets no status
 * within `io.operatorWaitMs`. A refused watch (401, 403, 404) fails at once instead of retrying.
 */
export async function follow<T>(
  io: CliIO,
  conn: Connection,
  target: { kind: string; name: string },
  resources: Resource[],
  body: (informers: Informer<KubeObject>[], following: Following<T>) => void,
): Promise<FollowOutcome<T>> {
  let finish!: (value: FollowOutcome<T>) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<FollowOutcome<T>>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const informers = resources.map(
    (resource) =>
      new Informer<KubeObject>(conn.kubeConfig, {
        resource,
        namespace: conn.namespace,
        onError: (error) => {
          if (error instanceof ApiError && [401, 403, 404].includes(error.code))
            fail(
              new UserError(
                `cannot watch ${resource.plural} in namespace ${conn.namespace}: ${error.message}`,
              ),
            );
        },
      }),
  );
  const watchdog = setTimeout(() => {
    fail(
      new UserError(
        `${target.kind} ${target.name} has no status after ${Math.round(io.operatorWaitMs / 1000)}s: the fractale operator does not seem to be running. Start it with \`fractale operator\` (against the current kubeconfig) or install the Helm chart (charts/fractale)`,
      ),
    );
  }, io.operatorWaitMs);
  const onAbort = () => finish({ kind: 'interrupted' });
  io.signal.addEventListener('abort', onAbort, { once: true });
  if (io.signal.aborted) onAbort();
  try {
    body(informers, { finish, fail, seen: () => clearTimeout(watchdog) });
    await Promise.race([Promise.all(informers.map((i) => i.start())), done]);
    return await done;
  } finally {
    clearTimeout(watchdog);
    io.signal.removeEventListener('abort', onAbort);
    for (const informer of informers) informer.stop();
  }
}

/** Prints a step's new debug advice (or question for a person) once, as it arrives. */
export function adviceNotes(view: LiveView) {
  const seen = new Map<string, string>();
  return (step: Step) => {
    const name = step.metadata.name ?? '';
    const status = step.status ?? {};
    const text = status.phase === 'AwaitingHuman' ? status.question : status.advice;
    if (!text || seen.get(name) === text) return;
    seen.set(name, text);
    const flat = text.replace(/\s+/g, ' ').trim();
    const shown = clip(flat, 240);
    view.note(
      status.phase === 'AwaitingHuman'
        ? `${name} asks: ${shown}\n  answer with: fractale answer ${name} "<text>"`
        : `${name} debug advice: ${shown}`,
    );
  };
}

/** Follows one AgentStep until it succeeds or fails, showing it live on stdout. */
export async function followStep(conn: Connection, name: string, io: CliIO): Promise<FollowOutcome<Step>> {
  const view = createView(io.stdout, io.now);
  const note = adviceNotes(view);
  try {
    return await follow<Step>(io, conn, { kind: 'AgentStep', name }, [RESOURCES.agentSteps], ([steps], f) => {
      steps!.on((event, object) => {
        const step = object as Step;
        if (step.metadata.name !== name) return;
        if (event === 'delete') return f.fail(new UserError(`AgentStep ${name} was deleted`));
        if (step.status?.phase) f.seen();
        note(step);
        view.update([stepRow(step)]);
        if (TERMINAL.includes(step.status?.phase ?? '')) f.finish({ kind: 'finished', object: step });
      });
    });
  } finally {
    view.close();
  }
}

/** The rows of a plan: its AgentSteps (recoveries add rows), then the steps not created yet. */
export function planRows(plan: Plan, steps: Step[]): StepRow[] {
  const planName = plan.metadata.name ?? '';
  const own = steps
    .filter((s) => s.spec.planRef?.name === planName)
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
  const rows = own.map(stepRow);
  const started = new Set(own.map((s) => s.spec.planRef?.step));
  for (const step of plan.spec.steps) {
    if (started.has(step.name)) continue;
    rows.push({
      name: `${planName}-${step.name}`,
      agent: step.agent,
      phase: 'Waiting',
      attempt: 0,
      tokens: 0,
    });
  }
  return rows;
}

/** Follows an AgentPlan until it succeeds or fails, with a line per step. */
export async function followPlan(conn: Connection, name: string, io: CliIO): Promise<FollowOutcome<Plan>> {
  const view = createView(io.stdout, io.now);
  const note = adviceNotes(view);
  let lastPlanMessage = '';
  const resources = [RESOURCES.agentPlans, RESOURCES.agentSteps];
  try {
    return await follow<Plan>(io, conn, { kind: 'AgentPlan', name }, resources, ([plans, steps], f) => {
      const redraw = () => {
        const plan = plans!.get(conn.namespace, name) as Plan | undefined;
        if (!plan) return;
        if (plan.status?.phase) f.seen();
        const message = plan.status?.message ?? '';
        if (plan.status?.phase === 'Recovering' && message && message !== lastPlanMessage) {
          lastPlanMessage = message;
          view.note(`Plan ${name}: ${message}`);
        }
        view.update(planRows(plan, steps!.list() as Step[]));
        if (TERMINAL.includes(plan.status?.phase ?? '')) f.finish({ kind: 'finished', object: plan });
      };
      plans!.on((event, plan) => {
        if (plan.metadata.name !== name) return;
        if (event === 'delete') return f.fail(new UserError(`AgentPlan ${name} was deleted`));
        redraw();
      });
      steps!.on((_event, object) => {
        const step = object as Step;
        if (step.spec.planRef?.name !== name) return;
        note(step);
        redraw();
      });
    });
  } finally {
    view.close();
  }
}
