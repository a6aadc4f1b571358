// Following a step or a plan until it ends: informers (list, then watch) on AgentSteps and AgentPlans
// drive a live view, event by event. Ctrl-C stops following, never the work.
import type { AgentPlan, AgentStep } from '../api/index.ts';
import { TERMINAL_STEP_PHASES } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { Informer } from '../runtime/informer.ts';
import { UserError } from './errors.ts';
import { aborted, type CliIO } from './io.ts';
import type { Connection } from './kube.ts';
import { createView, type LiveView, type StepRow, stepRow } from './view.ts';

type Step = AgentStep & KubeObject;
type Plan = AgentPlan & KubeObject;

export type FollowOutcome<T> = { kind: 'finished'; object: T } | { kind: 'interrupted' };

const TERMINAL: readonly string[] = TERMINAL_STEP_PHASES;

/** Says the operator is missing when the object still has no status after `io.operatorWaitMs`. */
function operatorWatchdog(kind: string, name: string, io: CliIO, fail: (error: Error) => void) {
  const timer = setTimeout(() => {
    fail(
      new UserError(
        `${kind} ${name} has no status after ${Math.round(io.operatorWaitMs / 1000)}s: the fractale operator does not seem to be running. Start it with \`fractale operator\` (against the current kubeconfig) or install the Helm chart (charts/fractale)`,
      ),
    );
  }, io.operatorWaitMs);
  return { clear: () => clearTimeout(timer) };
}

export function resumeHint(conn: Connection, what: 'steps' | 'plans'): string {
  const ns = conn.namespace === 'default' ? '' : ` -n ${conn.namespace}`;
  return `Stopped following; the work goes on in the cluster. Check on it with \`fractale get ${what}${ns}\` or \`kubectl get agentsteps${ns} -w\``;
}

async function race<T>(
  io: CliIO,
  informers: { start(): Promise<void>; stop(): void }[],
  body: (finish: (value: FollowOutcome<T>) => void, fail: (error: Error) => void) => void,
): Promise<FollowOutcome<T>> {
  let finish!: (value: FollowOutcome<T>) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<FollowOutcome<T>>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  void aborted(io.signal).then(() => finish({ kind: 'interrupted' }));
  try {
    body(finish, fail);
    await Promise.race([Promise.all(informers.map((i) => i.start())), done]);
    return await done;
  } finally {
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
    const shown = flat.length > 240 ? `${flat.slice(0, 239)}…` : flat;
    view.note(
      status.phase === 'AwaitingHuman'
        ? `${name} asks: ${shown}\n  answer with: fractale answer ${name} "<text>"`
        : `${name} debug advice: ${shown}`,
    );
  };
}

/** Follows one AgentStep until it succeeds or fails, showing it live on stdout. */
export async function followStep(conn: Connection, name: string, io: CliIO): Promise<FollowOutcome<Step>> {
  const steps = new Informer<Step>(conn.kubeConfig, {
    resource: RESOURCES.agentSteps,
    namespace: conn.namespace,
  });
  const view = createView(io.stdout, io.now);
  const note = adviceNotes(view);
  try {
    return await race<Step>(io, [steps], (finish, fail) => {
      const watchdog = operatorWatchdog('AgentStep', name, io, fail);
      steps.on((event, step) => {
        if (step.metadata.name !== name) return;
        if (event === 'delete') {
          watchdog.clear();
          fail(new UserError(`AgentStep ${name} was deleted`));
          return;
        }
        if (step.status?.phase) watchdog.clear();
        note(step);
        view.update([stepRow(step)]);
        if (TERMINAL.includes(step.status?.phase ?? '')) {
          watchdog.clear();
          finish({ kind: 'finished', object: step });
        }
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
  const plans = new Informer<Plan>(conn.kubeConfig, {
    resource: RESOURCES.agentPlans,
    namespace: conn.namespace,
  });
  const steps = new Informer<Step>(conn.kubeConfig, {
    resource: RESOURCES.agentSteps,
    namespace: conn.namespace,
  });
  const view = createView(io.stdout, io.now);
  const note = adviceNotes(view);
  let lastPlanMessage = '';
  try {
    return await race<Plan>(io, [plans, steps], (finish, fail) => {
      const watchdog = operatorWatchdog('AgentPlan', name, io, fail);
      const redraw = () => {
        const plan = plans.get(conn.namespace, name);
        if (!plan) return;
        if (plan.status?.phase) watchdog.clear();
        const recovering = plan.status?.phase === 'Recovering' && plan.status.message;
        if (recovering && plan.status?.message !== lastPlanMessage) {
          lastPlanMessage = plan.status?.message ?? '';
          view.note(`Plan ${name}: ${lastPlanMessage}`);
        }
        view.update(planRows(plan, steps.list()));
        if (TERMINAL.includes(plan.status?.phase ?? '')) {
          watchdog.clear();
          finish({ kind: 'finished', object: plan });
        }
      };
      plans.on((event, plan) => {
        if (plan.metadata.name !== name) return;
        if (event === 'delete') {
          watchdog.clear();
          fail(new UserError(`AgentPlan ${name} was deleted`));
          return;
        }
        redraw();
      });
      steps.on((_event, step) => {
        if (step.spec.planRef?.name !== name) return;
        note(step);
        redraw();
      });
    });
  } finally {
    view.close();
  }
}
