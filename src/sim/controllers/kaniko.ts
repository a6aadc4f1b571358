/**
 * A model of the Kaniko executor: where it finds the Dockerfile (through the pod's volumes), and
 * what it prints while it builds. The outcome comes from the behaviours file's `builds` rules; how
 * long it takes, from the rule's `runSeconds` and the layers found in its cache repository.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { BuildRule } from '../behaviors.ts';
import { parseImageReference } from './registry.ts';

export interface KanikoArgs {
  dockerfile: string;
  /** The build context directory (for `dir://` contexts). */
  contextDir: string;
  destinations: string[];
  noPush: boolean;
  cache: boolean;
  cacheRepo?: string;
  /** --no-push-cache: look layers up in the cache repository, but push none. */
  noPushCache: boolean;
  /** --digest-file: where the executor writes the digest of the image it built. */
  digestFile?: string;
}

function truthy(value: string | undefined): boolean {
  return value === undefined || value === '' || value === 'true';
}

/** Reads the executor's flags (`--flag=value`, `--flag value`, and the short forms -f, -c, -d). */
export function parseKanikoArgs(argv: readonly string[]): KanikoArgs {
  const aliases: Record<string, string> = { f: 'dockerfile', c: 'context', d: 'destination' };
  const booleans = new Set([
    'no-push',
    'no-push-cache',
    'cache',
    'cache-copy-layers',
    'cache-run-layers',
    'cleanup',
    'compressed-caching',
    'force',
    'ignore-var-run',
    'insecure',
    'insecure-pull',
    'log-timestamp',
    'reproducible',
    'single-snapshot',
    'skip-tls-verify',
    'skip-tls-verify-pull',
    'skip-unused-stages',
    'use-new-run',
  ]);
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const name = aliases[match[1]!] ?? match[1]!;
    let value = match[2];
    if (value === undefined && !booleans.has(name)) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        value = next;
        i++;
      }
    }
    values.set(name, [...(values.get(name) ?? []), value ?? '']);
  }
  const last = (name: string) => values.get(name)?.at(-1);
  const context = last('context') ?? 'dir:///workspace/';
  const contextDir = context.replace(/^dir:\/\//, '') || '/workspace/';
  const dockerfileArg = last('dockerfile') ?? 'Dockerfile';
  const dockerfile = posix.isAbsolute(dockerfileArg)
    ? posix.normalize(dockerfileArg)
    : posix.join(posix.isAbsolute(contextDir) ? contextDir : posix.join('/', contextDir), dockerfileArg);
  return {
    dockerfile,
    contextDir,
    destinations: (values.get('destination') ?? []).filter((destination) => destination !== ''),
    noPush: values.has('no-push') && truthy(last('no-push')),
    cache: values.has('cache') && truthy(last('cache')),
    cacheRepo: last('cache-repo'),
    noPushCache: values.has('no-push-cache') && truthy(last('no-push-cache')),
    digestFile: last('digest-file'),
  };
}

/** A file the executor reads from a ConfigMap mounted into its container. */
export type MountedFile =
  | { kind: 'configMap'; volume: string; configMap: string; key: string; optional: boolean }
  | { kind: 'notMounted'; path: string };

/**
 * Follows the container's volumeMounts and the pod's volumes to the ConfigMap key behind a path
 * (configMap volumes, with or without `items`, and projected configMap sources).
 */
export function locateMountedFile(spec: IPodSpec, container: IContainer, path: string): MountedFile {
  const mounts = [...(container.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const mount of mounts) {
    const mountPath = posix.normalize(mount.mountPath).replace(/\/$/, '');
    if (path !== mountPath && !path.startsWith(`${mountPath}/`)) continue;
    let relative = path === mountPath ? '' : path.slice(mountPath.length + 1);
    if (mount.subPath) relative = posix.join(mount.subPath, relative).replace(/\/$/, '');
    const volume = spec.volumes?.find((candidate) => candidate.name === mount.name);
    const sources = volume?.configMap
      ? [volume.configMap]
      : (volume?.projected?.sources ?? []).flatMap((source) => (source.configMap ? [source.configMap] : []));
    for (const source of sources) {
      const item = source.items?.find((candidate) => posix.normalize(candidate.path) === relative);
      if (source.items && !item) continue;
      return {
        kind: 'configMap',
        volume: mount.name,
        configMap: source.name ?? '',
        key: item?.key ?? relative,
        optional: source.optional ?? false,
      };
    }
    return { kind: 'notMounted', path };
  }
  return { kind: 'notMounted', path };
}

export interface Instruction {
  keyword: string;
  arguments: string;
}

/** Splits a Dockerfile into instructions, joining continuation lines and dropping comments. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole === '') continue;
    const space = whole.search(/\s/);
    instructions.push({
      keyword: (space < 0 ? whole : whole.slice(0, space)).toUpperCase(),
      arguments: space < 0 ? '' : whole.slice(space + 1).trim(),
    });
  }
  if (pending.trim() !== '') {
    const whole = pending.trim();
    const space = whole.search(/\s/);
    instructions.push({
      keyword: (space < 0 ? whole : whole.slice(0, space)).toUpperCase(),
      arguments: space < 0 ? '' : whole.slice(space + 1).trim(),
    });
  }
  return instructions;
}

/** A piece of output printed `at` simulated seconds after the container started. */
export interface TimedOutput {
  at: number;
  text: string;
}

export interface BuildTranscript {
  output: TimedOutput[];
  /** When the process exits, in simulated seconds after start. */
  exitAt: number;
  exitCode: number;
  /** Images pushed when the build succeeds. */
  pushed: string[];
  /** The built image's digest (`sha256:...`), the same for every destination. */
  digest: string;
  /** The layer cache repository the build reads and writes (`--cache-repo`, or `<destination>/cache`). */
  cacheRepository?: string;
  /** Cache keys of the RUN layers the build built and pushed to `cacheRepository`, in order. */
  layersPushed: string[];
}

/**
 * The time model of a build. A rule's `runSeconds` is the time of the build with nothing cached; it
 * is spent in the RUN instructions that execute (all of them, or those up to the failing step). The
 * RUN the rule's `step` names is the heavy one (the compile) and takes STEP_SHARE of it, the other
 * RUNs share the rest equally; without a named step every RUN gets an equal share. FROM, COPY, ENV,
 * WORKDIR and the rest take no time (unless the build has no RUN at all: they then share it).
 */
export const STEP_SHARE = 0.75;
/** A RUN whose layer comes from the cache takes this fraction of its share (pull and extract the layer). */
export const CACHED_FRACTION = 0.02;

/**
 * The layers that builds pushed to cache repositories, keyed by repository. Kaniko keeps them in
 * the registry; the sim keeps one of these per simulated registry, in memory.
 */
export class KanikoLayerCache {
  readonly #layers = new Map<string, Set<string>>();

  has(repository: string, key: string): boolean {
    return this.#layers.get(cacheRepositoryKey(repository))?.has(key) ?? false;
  }

  add(repository: string, keys: Iterable<string>): void {
    const name = cacheRepositoryKey(repository);
    const layers = this.#layers.get(name) ?? new Set<string>();
    for (const key of keys) layers.add(key);
    this.#layers.set(name, layers);
  }

  /** Records what a finished build pushed (successful or failed: Kaniko pushes each layer as it is built). */
  record(transcript: BuildTranscript): void {
    if (transcript.cacheRepository !== undefined && transcript.layersPushed.length > 0)
      this.add(transcript.cacheRepository, transcript.layersPushed);
  }
}

/** `registry.local/x-cache` and `registry.local/x-cache/` (or docker.io's short forms) name one repository. */
function cacheRepositoryKey(repository: string): string {
  const { domain, path } = parseImageReference(repository.replace(/\/+$/, ''));
  return `${domain}/${path}`;
}

/**
 * Where the executor caches layers: `--cache-repo`, or else `<first destination's repository>/cache`
 * as Kaniko infers it; none without either (Kaniko cannot cache then).
 */
export function kanikoCacheRepository(args: KanikoArgs): string | undefined {
  if (!args.cache) return undefined;
  if (args.cacheRepo) return args.cacheRepo.replace(/\/+$/, '');
  const destination = args.destinations[0];
  return destination === undefined ? undefined : `${destination.replace(/(:[^/:]*)?(@.*)?$/, '')}/cache`;
}

/**
 * A layer's cache key, composed as Kaniko composes it: the previous key (at first the base image)
 * and the instruction, so a key names the base image and every instruction up to its own.
 */
export function layerCacheKey(previous: string, instruction: Instruction): string {
  return createHash('sha256')
    .update(`${previous}\n${instruction.keyword} ${instruction.arguments}`)
    .digest('hex');
}

/** The key a stage starts from: a hash of its base image reference. */
export function baseCacheKey(image: string): string {
  return createHash('sha256').update(parseImageReference(image).normalized).digest('hex');
}

/** The image of `FROM [--platform=...] image [AS name]` and the stage name it gives. */
function fromImage(args: string): { image: string; name?: string } {
  const words = args.split(/\s+/).filter((word) => word !== '' && !word.startsWith('--'));
  const as = words.findIndex((word) => word.toUpperCase() === 'AS');
  return { image: words[0] ?? '', name: as > 0 ? words[as + 1]?.toLowerCase() : undefined };
}

/** Stands for the `INFO[0012]` prefix until the line's time is known. */
const STAMP = '\u0000STAMP\u0000';

function stamp(seconds: number): string {
  // The margin keeps float sums such as 99.999999999 from printing a second early.
  return `INFO[${String(Math.floor(seconds + 1e-6)).padStart(4, '0')}]`;
}

function shellForm(args: string): string[] {
  if (args.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(args);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // Not JSON: Docker treats it as shell form.
    }
  }
  return ['/bin/sh', '-c', args];
}

/** A stable digest: the same Dockerfile builds the same image, as a reproducible build would. */
export function digestFor(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Each executed RUN's uncached seconds (see STEP_SHARE). */
function runShares(
  executed: Instruction[],
  named: Instruction | undefined,
  total: number,
): Map<Instruction, number> {
  const shares = new Map<Instruction, number>();
  const heavy = named !== undefined && executed.includes(named) && executed.length > 1;
  for (const run of executed) {
    if (!heavy) shares.set(run, total / executed.length);
    else
      shares.set(
        run,
        run === named ? total * STEP_SHARE : (total * (1 - STEP_SHARE)) / (executed.length - 1),
      );
  }
  return shares;
}

/**
 * What the executor prints for a build whose outcome the rule decides, and when. Without a rule
 * the build succeeds. The rule's log is printed by the RUN step its `step` regex names (the last RUN
 * by default). With `--cache`, each stage first looks its RUN layers up in `layers` under the cache
 * repository, in order, until the first miss, as Kaniko does; those found are extracted instead of
 * run. The failing step of a failing rule always runs: the rule decides by the whole Dockerfile.
 */
export function kanikoTranscript(
  dockerfile: string,
  args: KanikoArgs,
  rule: BuildRule | undefined,
  layers?: KanikoLayerCache,
): BuildTranscript {
  const instructions = parseDockerfile(dockerfile);
  const succeeded = rule?.outcome !== 'Failed';
  const totalSeconds = Math.max(rule?.runSeconds ?? 3, 1);
  const runs = instructions.filter((instruction) => instruction.keyword === 'RUN');
  const stepPattern = rule?.step ? new RegExp(rule.step) : undefined;
  const namedStep = stepPattern && runs.find((run) => stepPattern.test(run.arguments));
  const logStep = namedStep ?? runs.at(-1);
  const failingStep = succeeded ? undefined : logStep;
  const executed = failingStep ? runs.slice(0, runs.indexOf(failingStep) + 1) : succeeded ? runs : [];
  const shares = runShares(executed, namedStep, totalSeconds);
  const repository = kanikoCacheRepository(args);
  const pushesLayers = repository !== undefined && !args.noPushCache;
  // Without any RUN to spend the build's time in, the other instructions share it.
  const others = instructions.filter((instruction) => instruction.keyword !== 'FROM');
  const otherSeconds = executed.length === 0 && others.length > 0 ? totalSeconds / others.length : 0;
  const lastSeconds = executed.length === 0 && others.length === 0 ? totalSeconds : 0;

  const lines: TimedOutput[] = [];
  let now = 0;
  const print = (text: string, at = now) => {
    lines.push({ at, text: `${text.replace(STAMP, stamp(at))}\n` });
  };
  const layersPushed: string[] = [];
  const finish = (exitCode: number, pushed: string[]): BuildTranscript => ({
    output: lines,
    // Rounded so that shares adding up to runSeconds end the build at runSeconds, not a hair before.
    exitAt: Math.round(now * 1e6) / 1e6,
    exitCode,
    pushed,
    digest: digestFor(dockerfile),
    ...(repository !== undefined ? { cacheRepository: repository } : {}),
    layersPushed,
  });

  if (!args.noPush && args.destinations.length === 0) {
    print('Error: you must provide --destination, or use --no-push');
    return finish(1, []);
  }
  if (instructions.length === 0 || instructions[0]?.keyword !== 'FROM') {
    print('error building image: parsing dockerfile: file with no instructions');
    return finish(1, []);
  }
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([instruction]);
    else stages.at(-1)?.push(instruction);
  }
  for (const [from] of stages) {
    const { image } = fromImage(from!.arguments);
    print(`${STAMP} Retrieving image manifest ${image}`);
    print(`${STAMP} Retrieving image ${image} from registry ${registryHost(image)}`);
  }
  print(`${STAMP} Built cross stage deps: map[]`);
  // A stage built FROM an earlier one continues that stage's keys, as Kaniko maps digests to keys.
  const stageKeys = new Map<string, string>();
  let failed = false;
  for (const [stageIndex, [from, ...body]] of stages.entries()) {
    if (failed) break;
    const { image, name } = fromImage(from!.arguments);
    print(`${STAMP} Retrieving image manifest ${image}`);
    print(`${STAMP} Returning cached image manifest`);
    print(`${STAMP} Executing 0 build triggers`);
    print(`${STAMP} Building stage '${image}' [idx: '${stageIndex}', base-idx: '-1']`);
    let key = stageKeys.get(image.toLowerCase()) ?? baseCacheKey(image);
    const keys = new Map<Instruction, string>();
    const cached = new Set<Instruction>();
    let looking = repository !== undefined;
    for (const instruction of body) {
      key = layerCacheKey(key, instruction);
      keys.set(instruction, key);
      if (!looking || instruction.keyword !== 'RUN') continue;
      const text = `${instruction.keyword} ${instruction.arguments}`;
      print(`${STAMP} Checking for cached layer ${repository}:${key}...`);
      if (instruction !== failingStep && layers?.has(repository!, key)) {
        print(`${STAMP} Using caching version of cmd: ${text}`);
        cached.add(instruction);
      } else {
        // Kaniko stops looking at the first miss: every later key depends on this layer.
        print(`${STAMP} No cached layer found for cmd ${text}`);
        looking = false;
      }
    }
    stageKeys.set(String(stageIndex), key);
    if (name) stageKeys.set(name, key);
    const firstRun = body.find((next) => next.keyword === 'RUN' && !cached.has(next));
    if (firstRun) print(`${STAMP} Unpacking rootfs as cmd RUN ${firstRun.arguments} requires it.`);
    else if (cached.size > 0) print(`${STAMP} Skipping unpacking as no commands require it.`);
    for (const instruction of body) {
      const text = `${instruction.keyword} ${instruction.arguments}`;
      print(`${STAMP} ${text}`);
      if (instruction.keyword === 'RUN') {
        const share = shares.get(instruction) ?? 0;
        if (cached.has(instruction)) {
          print(`${STAMP} Found cached layer, extracting to filesystem`);
          now += share * CACHED_FRACTION;
          continue;
        }
        const command = shellForm(instruction.arguments);
        print(`${STAMP} Initializing snapshotter ...`);
        print(`${STAMP} Taking snapshot of full filesystem...`);
        print(`${STAMP} Cmd: ${command[0]}`);
        print(`${STAMP} Args: [${command.slice(1).join(' ')}]`);
        print(`${STAMP} Running: [${command.join(' ')}]`);
        if (instruction === logStep && rule?.log) {
          // The step's output comes while it runs.
          const output = rule.log.replace(/\n$/, '').split('\n');
          for (const [index, line] of output.entries()) print(line, now + (share * index) / output.length);
        }
        now += share;
        if (instruction === failingStep) {
          failed = true;
          break;
        }
        print(`${STAMP} Taking snapshot of full filesystem...`);
        if (pushesLayers) {
          const layer = keys.get(instruction)!;
          print(`${STAMP} Pushing layer ${repository}:${layer} to cache now`);
          layersPushed.push(layer);
        }
      } else {
        if (instruction.keyword === 'WORKDIR') {
          print(`${STAMP} Cmd: workdir`);
          print(`${STAMP} Changed working directory to ${instruction.arguments}`);
          print(`${STAMP} Creating directory ${instruction.arguments} with uid -1 and gid -1`);
          print(`${STAMP} Taking snapshot of files...`);
        } else if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
          print(`${STAMP} Taking snapshot of files...`);
        } else {
          print(`${STAMP} No files changed in this command, skipping snapshotting.`);
        }
        now += otherSeconds;
      }
    }
  }
  now += lastSeconds;
  if (!succeeded) {
    if (!failed && rule?.log) {
      // A failing rule with no RUN step to fail in: the error still shows its log.
      for (const line of rule.log.replace(/\n$/, '').split('\n')) print(line);
    }
    print(
      'error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1',
    );
    return finish(1, []);
  }
  if (args.noPush) {
    print(`${STAMP} Skipping push to container registry due to --no-push flag`);
    return finish(0, []);
  }
  for (const destination of args.destinations) {
    print(`${STAMP} Pushing image to ${destination}`);
    const repository = destination.replace(/(:[^/:]*)?(@.*)?$/, '');
    print(`${STAMP} Pushed ${repository}@${digestFor(dockerfile)}`);
  }
  return finish(0, [...args.destinations]);
}

function registryHost(image: string): string {
  const { domain } = parseImageReference(image);
  return domain === 'docker.io' ? 'index.docker.io' : domain;
}
