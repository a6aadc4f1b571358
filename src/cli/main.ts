#!/usr/bin/env node
// The fractale command: the seed's commands on top of the operator, plus the operator and the sim.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { stringify } from 'yaml';
import type { CommandContext } from './command.ts';
import { registerAgent } from './commands/agent.ts';
import { registerAsk } from './commands/ask.ts';
import { registerDemo } from './commands/demo-command.ts';
import { registerExperiment } from './commands/experiment.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerOperator, registerSim } from './commands/operator.ts';
import { UserError } from './errors.ts';
import { convertPlanFile, validateFile } from './files.ts';
import { type CliIO, println, processIO } from './io.ts';

export function buildProgram(ctx: CommandContext): Command {
  const { io } = ctx;
  const program = new Command('fractale')
    .description('LLM agents that build containers and run HPC applications on Kubernetes until they work')
    .version(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
    .enablePositionalOptions()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  registerAgent(program, ctx);
  registerAsk(program, ctx);
  registerInspect(program, ctx);
  registerExperiment(program, ctx);

  program
    .command('convert')
    .description("Convert a plan in the seed's format (name, description, plan: [...]) into an AgentPlan")
    .argument('<file>', 'the seed plan (YAML)')
    .option('--name <name>', "metadata.name of the AgentPlan (default: from the plan's name)")
    .option('-n, --namespace <namespace>', 'metadata.namespace of the AgentPlan')
    .action((file: string, options: { name?: string; namespace?: string }) => {
      io.stdout.write(stringify(convertPlanFile(file, options)));
    });

  program
    .command('validate')
    .description(
      'Validate AgentPlan, AgentStep and AgentExperiment files (or seed plans) as the operator will',
    )
    .argument('<files...>', 'YAML files')
    .action((files: string[]) => {
      for (const file of files) println(io.stdout, `${file}: ${validateFile(file)}`);
    });

  registerOperator(program, ctx);
  registerSim(program, ctx);
  registerDemo(program, ctx);

  // Subcommands write help and errors through the same streams.
  const configure = (command: Command) => {
    for (const sub of command.commands) {
      sub.configureOutput({
        writeOut: (text) => io.stdout.write(text),
        writeErr: (text) => io.stderr.write(text),
      });
      sub.exitOverride();
      configure(sub);
    }
  };
  configure(program);
  return program;
}

/**
 * Runs the command line (`argv` without node and the script) with the given I/O and returns the
 * exit code. Errors a person can act on are printed as one message; anything else is a bug and keeps
 * its stack.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  let code = 0;
  const ctx: CommandContext = { io, exit: (c) => (code = Math.max(code, c)) };
  try {
    await buildProgram(ctx).parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof UserError) {
      println(io.stderr, `error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

export async function main(argv = process.argv): Promise<number> {
  return run(argv.slice(2), processIO());
}

if (import.meta.main) process.exitCode = await main();
