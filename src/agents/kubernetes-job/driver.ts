// The kubernetes-job agent: a Job manifest from the model, held to the policy, run, and watched.
import { JOB_RULES, jobGeneratePrompt, jobRegeneratePrompt } from '../../prompts/kubernetes-job.ts';
import type { AgentDriver } from '../../step/driver.ts';
import { acceptManifest, runFixedContext, runPreflight, runPromptInput } from '../run.ts';

export const kubernetesJobDriver: AgentDriver = {
  agent: 'kubernetes-job',
  trial: 'job',
  artifactName: 'job.yaml',
  debug: { artifactKind: 'Kubernetes Job', artifactLanguage: 'yaml', rules: JOB_RULES },
  fixedContext: runFixedContext,
  preflight: runPreflight,
  prompt(input) {
    const base = runPromptInput(input);
    const previous = input.previous;
    if (previous?.artifact) {
      return jobRegeneratePrompt({
        ...base,
        manifest: previous.artifact,
        advice: previous.advice ?? previous.error,
      });
    }
    if (previous)
      return jobGeneratePrompt({
        ...base,
        avoid: [...(base.avoid ?? []), previous.advice ?? previous.error],
      });
    return jobGeneratePrompt(base);
  },
  accept: (answer, input) => acceptManifest('Job', answer, input),
  // The run's log is the result, as the seed's Job agent reports it.
  succeed: (artifact, _input, log) => ({ result: log, outputs: { manifest: artifact } }),
};
