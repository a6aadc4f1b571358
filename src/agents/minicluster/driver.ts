// The minicluster agent: a Flux Operator MiniCluster from the model, held to the policy, and watched
// through the indexed Job of the same name; the lead broker's log is the result.
import {
  MINICLUSTER_RULES,
  miniclusterGeneratePrompt,
  miniclusterRegeneratePrompt,
} from '../../prompts/minicluster.ts';
import type { AgentDriver } from '../../step/driver.ts';
import { acceptManifest, runFixedContext, runPreflight, runPromptInput } from '../run.ts';

export const miniclusterDriver: AgentDriver = {
  agent: 'minicluster',
  trial: 'minicluster',
  artifactName: 'minicluster.yaml',
  debug: { artifactKind: 'MiniCluster', artifactLanguage: 'yaml', rules: MINICLUSTER_RULES },
  fixedContext: runFixedContext,
  preflight: runPreflight,
  prompt(input) {
    const base = {
      ...runPromptInput(input),
      ...(input.cluster.miniClusterSchema ? { schema: input.cluster.miniClusterSchema } : {}),
    };
    const previous = input.previous;
    if (previous?.artifact) {
      return miniclusterRegeneratePrompt({
        ...base,
        manifest: previous.artifact,
        advice: previous.advice ?? previous.error,
      });
    }
    if (previous)
      return miniclusterGeneratePrompt({
        ...base,
        avoid: [...(base.avoid ?? []), previous.advice ?? previous.error],
      });
    return miniclusterGeneratePrompt(base);
  },
  accept: (answer, input) => acceptManifest('MiniCluster', answer, input),
  succeed: (artifact, _input, log) => ({ result: log, outputs: { manifest: artifact } }),
};
