// The live view of an experiment: a line per cell with a mark per repetition (✓ succeeded, ✗ failed,
// ▸ running, · not started), the cell's counts, and the step a running plan is on. Redrawn in place
// on a TTY; elsewhere a cell's line is printed again only when it changed.
import type { AgentExperiment } from '../api/agentexperiment.ts';
import type { AgentPlan } from '../api/agentplan.ts';
import { LABELS } from '../api/names.ts';
import type { KubeObject } from '../kube/client.ts';
import type { OutputStream } from './io.ts';

type Experiment = AgentExperiment & KubeObject;
type Plan = AgentPlan & KubeObject;

export const MARKS = { Succeeded: '✓', Failed: '✗', running: '▸', pending: '·' } as const;

export interface GridLine {
  cell: string;
  text: string;
}

/** The grid's lines: a header, then a line per cell in matrix order (the experiment's status cells). */
export function experimentGrid(experiment: Experiment, plans: readonly Plan[]): GridLine[] {
  const status = experiment.status ?? {};
  const repetitions = experiment.spec.matrix.repetitions;
  const cells = status.cells ?? [];
  const byCell = new Map<string, Map<number, Plan>>();
  for (const plan of plans) {
    const labels = plan.metadata.labels ?? {};
    if (labels[LABELS.experiment] !== experiment.metadata.name) continue;
    const cell = labels[LABELS.cell];
    const repetition = Number(labels[LABELS.repetition]);
    if (!cell || !Number.isInteger(repetition)) continue;
    const map = byCell.get(cell) ?? new Map<number, Plan>();
    map.set(repetition, plan);
    byCell.set(cell, map);
  }
  const width = Math.max(4, ...cells.map((c) => c.name.length));
  const lines: GridLine[] = [
    {
      cell: '',
      text: `${'CELL'.padEnd(width)}  ${'RUNS'.padEnd(Math.max(4, repetitions))}  DONE   FAILED  NOW`,
    },
  ];
  for (const cell of cells) {
    const runs = byCell.get(cell.name) ?? new Map<number, Plan>();
    let marks = '';
    const now: string[] = [];
    for (let r = 1; r <= repetitions; r++) {
      const plan = runs.get(r);
      const phase = plan?.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') marks += MARKS[phase];
      else if (plan) {
        marks += MARKS.running;
        now.push(`r${r} ${plan.status?.currentStep ?? 'starting'}`);
      } else marks += MARKS.pending;
    }
    const done = (cell.succeeded ?? 0) + (cell.failed ?? 0);
    lines.push({
      cell: cell.name,
      text: `${cell.name.padEnd(width)}  ${marks.padEnd(Math.max(4, repetitions))}  ${`${done}/${repetitions}`.padEnd(5)}  ${String(cell.failed ?? 0).padEnd(6)}  ${now.join(', ')}`.trimEnd(),
    });
  }
  return lines;
}

/** The headline under the grid: the experiment's counts and message. */
export function experimentHeadline(experiment: Experiment): string {
  const s = experiment.status ?? {};
  return `AgentExperiment ${experiment.metadata.name}: ${s.phase ?? 'Pending'}, ${s.done ?? 0}/${s.plans ?? '?'} plans ended (${s.succeeded ?? 0} succeeded, ${s.failed ?? 0} failed), ${s.running ?? 0} running`;
}

export interface GridView {
  update(experiment: Experiment, plans: readonly Plan[]): void;
  close(): void;
}

export function createGridView(stream: OutputStream): GridView {
  if (!stream.isTTY) {
    // A line per change: a cell's line when its marks move, the headline when the counts do.
    const last = new Map<string, string>();
    return {
      update(experiment, plans) {
        for (const line of [
          ...experimentGrid(experiment, plans),
          { cell: '\u0000headline', text: experimentHeadline(experiment) },
        ]) {
          if (last.get(line.cell) === line.text) continue;
          last.set(line.cell, line.text);
          stream.write(`${line.text}\n`);
        }
      },
      close() {},
    };
  }
  let drawn = 0;
  return {
    update(experiment, plans) {
      if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`);
      const columns = stream.columns || 120;
      const lines = [...experimentGrid(experiment, plans).map((l) => l.text), experimentHeadline(experiment)];
      for (const line of lines) stream.write(`${line.slice(0, columns - 1)}\n`);
      drawn = lines.length;
    },
    close() {},
  };
}
