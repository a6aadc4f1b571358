// `fractale demo` on the command line; the demo itself (sim, operator, model) loads only when it runs.
import type { Command } from 'commander';
import type { CommandContext } from '../command.ts';
import { UserError } from '../errors.ts';
import type { DemoOptions } from './demo.ts';

export function registerDemo(program: Command, ctx: CommandContext): void {
  program
    .command('demo')
    .description(
      'Run plans/run-lammps.yaml on a simulated cluster (scripted model unless GEMINI_API_KEY is set); `optimize`: build, run and make LAMMPS faster; `experiment`: a small experiment and its report',
    )
    .argument('[which]', 'lammps (the default), optimize or experiment', 'lammps')
    .option('--keep', 'keep the simulated cluster running after the plan, until Ctrl-C, for kubectl')
    .option(
      '--results <dir>',
      'where to write the results JSON, or the experiment report (default: a temporary folder)',
    )
    .option('--speed <factor>', 'multiplies simulated durations', (v) => Number(v))
    .action(async (which: string, options: DemoOptions) => {
      if (which === 'experiment') {
        const { runExperimentDemo } = await import('./demo-experiment.ts');
        await runExperimentDemo(options, ctx);
        return;
      }
      if (which !== 'lammps' && which !== 'optimize')
        throw new UserError(`unknown demo "${which}": choose lammps, optimize or experiment`);
      const { runDemo, LAMMPS_DEMO, OPTIMIZE_DEMO } = await import('./demo.ts');
      await runDemo(options, ctx, which === 'optimize' ? OPTIMIZE_DEMO : LAMMPS_DEMO);
    });
}
