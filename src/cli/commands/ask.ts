// `fractale ask "<prompt>"`: one model call, the answer on stdout and the token usage on stderr.
import type { Command } from 'commander';
import { MODEL_PROVIDERS, type ModelProvider } from '../../llm/index.ts';
import { isModelError } from '../../llm/types.ts';
import { ask } from '../ask.ts';
import type { CommandContext } from '../command.ts';
import { UserError } from '../errors.ts';
import { println } from '../io.ts';

export function registerAsk(program: Command, ctx: CommandContext): void {
  program
    .command('ask')
    .description('Send one prompt to the model and print its answer (token usage goes to stderr)')
    .argument('<prompt>', 'the prompt')
    .option('--provider <provider>', `${MODEL_PROVIDERS.join(', ')}`, 'gemini')
    .option('--model <name>', 'the model (default: the provider default)')
    .option('--script <file>', 'the answers file, for the scripted provider')
    .action(async (prompt: string, options: { provider: string; model?: string; script?: string }) => {
      if (!(MODEL_PROVIDERS as readonly string[]).includes(options.provider))
        throw new UserError(
          `unknown provider "${options.provider}": choose one of ${MODEL_PROVIDERS.join(', ')}`,
        );
      const { io } = ctx;
      try {
        const answer = await ask(prompt, {
          provider: options.provider as ModelProvider,
          ...(options.model ? { model: options.model } : {}),
          ...(options.script ? { script: options.script } : {}),
          env: io.env,
          signal: io.signal,
        });
        io.stdout.write(answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
        const u = answer.usage;
        println(
          io.stderr,
          `tokens: ${u.promptTokens} prompt + ${u.outputTokens} output = ${u.totalTokens} total, ${(answer.latencyMs / 1000).toFixed(1)}s`,
        );
      } catch (error) {
        if (isModelError(error)) throw new UserError(`the model call failed: ${error.message}`);
        throw error;
      }
    });
}
