// The build agent: a Dockerfile from the model, built and pushed by a Kaniko Job.
import type { BuildContext } from '../../api/context.ts';
import { BUILD_RULES, buildGeneratePrompt, buildRegeneratePrompt } from '../../prompts/build.ts';
import type { AgentDriver, AttemptInput } from '../../step/driver.ts';
import { imageName, imageReference, readDockerfileAnswer } from './dockerfile.ts';
import { dockerfileConfigMap, kanikoJob } from './manifests.ts';

/** Builds take longer than runs: their deadline is at least an hour. */
export const MIN_BUILD_SECONDS = 3600;

function registryOf(input: AttemptInput): string | undefined {
  return (input.context as BuildContext).registry ?? input.settings.registry;
}

function imageOf(input: AttemptInput, dockerfile: string): string {
  const context = input.context as BuildContext;
  return imageReference(
    registryOf(input) ?? '',
    context.container ?? imageName(context.application),
    dockerfile,
  );
}

export const buildDriver: AgentDriver = {
  agent: 'build',
  trial: 'build',
  artifactName: 'Dockerfile',
  debug: { artifactKind: 'Dockerfile', artifactLanguage: 'dockerfile', rules: BUILD_RULES },

  fixedContext(input) {
    const context = input.context as BuildContext;
    return { application: context.application, environment: context.environment };
  },

  preflight(input) {
    const context = input.context as BuildContext;
    if (context.push !== false && !registryOf(input)) {
      return "no registry to push the image to: set the operator's --registry (FRACTALE_REGISTRY, or the chart's registry value), or context.registry, or context.push: false for a build that is not pushed";
    }
    return undefined;
  },

  prompt(input) {
    const context = input.context as BuildContext;
    const base = {
      application: context.application,
      ...(context.environment ? { environment: context.environment } : {}),
      ...(context.details ? { details: context.details } : {}),
      ...(context.platforms?.[0] ? { platform: context.platforms[0] } : {}),
      ...(input.instruction ? { managerInstruction: input.instruction } : {}),
      avoid: input.avoid,
    };
    const previous = input.previous;
    if (previous?.artifact) {
      return buildRegeneratePrompt({
        ...base,
        dockerfile: previous.artifact,
        advice: previous.advice ?? previous.error,
      });
    }
    if (previous)
      return buildGeneratePrompt({ ...base, avoid: [...input.avoid, previous.advice ?? previous.error] });
    return buildGeneratePrompt(base);
  },

  accept(answer, input) {
    const checked = readDockerfileAnswer(answer);
    if (!checked.ok) return { ok: false, reason: 'InvalidArtifact', error: checked.explanation };
    const context = input.context as BuildContext;
    const build = {
      name: input.objectName,
      namespace: input.namespace,
      dockerfile: checked.dockerfile,
      image: imageOf(input, checked.dockerfile),
      labels: input.labels,
      ownerReference: input.ownerReference,
      activeDeadlineSeconds: Math.max(MIN_BUILD_SECONDS, input.maxRuntimeSeconds),
      kanikoImage: input.settings.kanikoImage,
      insecureRegistry: context.insecureRegistry ?? input.settings.insecureRegistry,
      ...(context.pushSecret || input.settings.pushSecret
        ? { pushSecret: context.pushSecret ?? input.settings.pushSecret }
        : {}),
      push: context.push !== false,
      // Builds run as the run service account, which carries the registry identity (e.g. Workload Identity on GKE).
      serviceAccountName: input.settings.runServiceAccount,
    };
    return {
      ok: true,
      artifact: checked.dockerfile,
      objects: [dockerfileConfigMap(build) as never, kanikoJob(build) as never],
    };
  },

  succeed(artifact, input) {
    return { result: artifact, outputs: { container: imageOf(input, artifact), dockerfile: artifact } };
  },
};
