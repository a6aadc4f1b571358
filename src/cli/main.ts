#!/usr/bin/env node
// The fractale command: the seed's commands on top of the operator, plus the operator and the sim.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { stringify } from 'yaml';
import { UserError } from './errors.ts';
import { convertPlanFile, validateFile } from './files.ts';

export function buildProgram(): Command {
  const program = new Command('fractale')
    .description('LLM agents that build containers and run HPC applications on Kubernetes until they work')
    .version(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('convert')
    .description("Convert a plan in the seed's format (name, description, plan: [...]) into an AgentPlan")
    .argument('<file>', 'the seed plan (YAML)')
    .option('--name <name>', "metadata.name of the AgentPlan (default: from the plan's name)")
    .option('-n, --namespace <namespace>', 'metadata.namespace of the AgentPlan')
    .action((file: string, options: { name?: string; namespace?: string }) => {
      process.stdout.write(stringify(convertPlanFile(file, options)));
    });

  program
    .command('validate')
    .description('Validate AgentPlan and AgentStep files (or seed plans) as the operator will')
    .argument('<files...>', 'YAML files')
    .action((files: string[]) => {
      for (const file of files) console.log(`${file}: ${validateFile(file)}`);
    });

  program
    .command('demo')
    .description('Run plans/run-lammps.yaml on a simulated cluster with a scripted model')
    .action(() => {
      console.log(
        'fractale demo: the simulated cluster, the operator and the scripted model are not built yet.',
      );
      console.log(
        'What works today: `fractale validate plans/*.yaml`, `fractale convert plans/seed/run-lammps.yaml`.',
      );
    });

  return program;
}

/** Errors a person can act on are printed as one message; anything else is a bug and keeps its stack. */
export async function main(argv = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof UserError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) process.exitCode = await main();
