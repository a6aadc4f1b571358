/**
 * A model of the Kaniko executor: where it finds the Dockerfile (through the pod's volumes), and
 * what it prints while it builds. The outcome comes from the behaviours file's `builds` rules.
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
}

interface PrintedLine {
  unit: number;
  text: string;
}

/** Stands for the `INFO[0012]` prefix until the line's time is known. */
const STAMP = '\u0000STAMP\u0000';

function stamp(seconds: number): string {
  return `INFO[${String(Math.floor(seconds)).padStart(4, '0')}]`;
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

/**
 * What the executor prints for a build whose outcome the rule decides. Without a rule the build
 * succeeds. The rule's log is printed by the RUN step its `step` regex names (the last RUN by default).
 */
export function kanikoTranscript(
  dockerfile: string,
  args: KanikoArgs,
  rule: BuildRule | undefined,
): BuildTranscript {
  const instructions = parseDockerfile(dockerfile);
  const succeeded = rule?.outcome !== 'Failed';
  const totalSeconds = Math.max(rule?.runSeconds ?? 3, 1);
  const runs = instructions.filter((instruction) => instruction.keyword === 'RUN');
  const stepPattern = rule?.step ? new RegExp(rule.step) : undefined;
  const logStep = (stepPattern && runs.find((run) => stepPattern.test(run.arguments))) ?? runs.at(-1);
  // Lines are collected against abstract work units, then spread over the rule's duration.
  const lines: PrintedLine[] = [];
  let clock = 0;
  const tick = () => {
    clock += 1;
  };
  const print = (text: string) => {
    lines.push({ unit: clock, text });
  };
  const finish = (exitCode: number, pushed: string[]): BuildTranscript => ({
    output: lines.map((line) => {
      const at = clock === 0 ? 0 : (line.unit / clock) * totalSeconds;
      return { at, text: `${line.text.replace(STAMP, stamp(at))}\n` };
    }),
    exitAt: clock === 0 ? 0 : totalSeconds,
    exitCode,
    pushed,
    digest: digestFor(dockerfile),
  });

  if (!args.noPush && args.destinations.length === 0) {
    print('Error: you must provide --destination, or use --no-push');
    return finish(1, []);
  }
  if (instructions.length === 0 || instructions[0]?.keyword !== 'FROM') {
    print('error building image: parsing dockerfile: file with no instructions');
    return finish(1, []);
  }
  const stages = instructions.filter((instruction) => instruction.keyword === 'FROM');
  for (const stage of stages) {
    const image = stage.arguments.split(/\s+/)[0] ?? '';
    print(`${STAMP} Retrieving image manifest ${image}`);
    print(`${STAMP} Retrieving image ${image} from registry ${registryHost(image)}`);
  }
  tick();
  print(`${STAMP} Built cross stage deps: map[]`);
  let stageIndex = -1;
  let failed = false;
  for (const instruction of instructions) {
    if (failed) break;
    const text = `${instruction.keyword} ${instruction.arguments}`;
    if (instruction.keyword === 'FROM') {
      stageIndex++;
      const image = instruction.arguments.split(/\s+/)[0] ?? '';
      print(`${STAMP} Retrieving image manifest ${image}`);
      print(`${STAMP} Returning cached image manifest`);
      print(`${STAMP} Executing 0 build triggers`);
      print(`${STAMP} Building stage '${image}' [idx: '${stageIndex}', base-idx: '-1']`);
      const firstRun = instructions
        .slice(instructions.indexOf(instruction) + 1)
        .find((next) => next.keyword === 'RUN');
      if (firstRun) print(`${STAMP} Unpacking rootfs as cmd RUN ${firstRun.arguments} requires it.`);
      continue;
    }
    tick();
    if (args.cache && instruction.keyword === 'RUN') {
      const repository =
        args.cacheRepo ?? `${(args.destinations[0] ?? 'cache').replace(/:[^/:]*$/, '')}/cache`;
      print(`${STAMP} Checking for cached layer ${repository}:${digestFor(text).slice(7, 71)}...`);
      print(`${STAMP} No cached layer found for cmd ${text}`);
    }
    print(`${STAMP} ${text}`);
    if (instruction.keyword === 'RUN') {
      const command = shellForm(instruction.arguments);
      print(`${STAMP} Initializing snapshotter ...`);
      print(`${STAMP} Taking snapshot of full filesystem...`);
      print(`${STAMP} Cmd: ${command[0]}`);
      print(`${STAMP} Args: [${command.slice(1).join(' ')}]`);
      print(`${STAMP} Running: [${command.join(' ')}]`);
      if (instruction === logStep && rule?.log) {
        for (const line of rule.log.replace(/\n$/, '').split('\n')) print(line);
      }
      if (instruction === logStep && !succeeded) {
        failed = true;
        break;
      }
      tick();
      print(`${STAMP} Taking snapshot of full filesystem...`);
    } else if (instruction.keyword === 'WORKDIR') {
      print(`${STAMP} Cmd: workdir`);
      print(`${STAMP} Changed working directory to ${instruction.arguments}`);
      print(`${STAMP} Creating directory ${instruction.arguments} with uid -1 and gid -1`);
      print(`${STAMP} Taking snapshot of files...`);
    } else if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      print(`${STAMP} Taking snapshot of files...`);
    } else {
      print(`${STAMP} No files changed in this command, skipping snapshotting.`);
    }
  }
  if (!succeeded) {
    if (!failed && rule?.log) {
      // A failing rule with no RUN step to fail in: the error still shows its log.
      for (const line of rule.log.replace(/\n$/, '').split('\n')) print(line);
    }
    tick();
    print(
      'error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1',
    );
    return finish(1, []);
  }
  tick();
  if (args.noPush) {
    print(`${STAMP} Skipping push to container registry due to --no-push flag`);
    return finish(0, []);
  }
  for (const destination of args.destinations) {
    print(`${STAMP} Pushing image to ${destination}`);
    tick();
    const repository = destination.replace(/(:[^/:]*)?(@.*)?$/, '');
    print(`${STAMP} Pushed ${repository}@${digestFor(dockerfile)}`);
  }
  return finish(0, [...args.destinations]);
}

function registryHost(image: string): string {
  const { domain } = parseImageReference(image);
  return domain === 'docker.io' ? 'index.docker.io' : domain;
}
