/**
 * The simulated Kaniko's layer cache: with --cache, a build reuses the layers of the longest prefix
 * of instructions already built into the same cache repository, and only the rest takes time.
 */
import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildRule } from '../../src/sim/behaviors.ts';
import {
  CACHED_FRACTION,
  KanikoLayerCache,
  kanikoTranscript,
  parseKanikoArgs,
  STEP_SHARE,
} from '../../src/sim/controllers/kaniko.ts';
import { scaledClock } from '../../src/sim/controllers/runtime.ts';
import { startSimControllers, waitFor } from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store } from '../../src/sim/store.ts';

const first = 'RUN apt-get update && apt-get install -y build-essential git';
const clone = 'RUN git clone --depth 1 https://example.org/app.git /opt/app';
const compile = 'RUN ./configure && make -j 4 && make install';
const last = 'RUN echo v1 > /etc/app-version';
const dockerfile = ['FROM ubuntu:22.04', first, clone, 'WORKDIR /opt/app', compile, last, ''].join('\n');
const lastChanged = dockerfile.replace('echo v1', 'echo v2');
const firstChanged = dockerfile.replace('build-essential git', 'build-essential git curl');
const broken = dockerfile.replace('make -j 4', 'make -j 4 BROKEN=1');

const compiles: BuildRule = {
  outcome: 'Succeeded',
  step: '(^|&&)\\s*make\\b',
  runSeconds: 100,
  log: 'compiling\n[100%] Built target app\n',
};
const failsToCompile: BuildRule = {
  outcome: 'Failed',
  step: '(^|&&)\\s*make\\b',
  runSeconds: 60,
  log: 'error: app.c:12: expected ;\nmake: *** [all] Error 1\n',
};
// The uncached shares of the 100 seconds: the named compile step 75 %, the three other RUNs the rest.
const light = (100 * (1 - STEP_SHARE)) / 3;
const heavy = 100 * STEP_SHARE;

const argv = (cacheRepo = 'registry.local/app-cache', tag = '1') => [
  '--dockerfile=Dockerfile',
  '--context=dir:///workspace',
  `--destination=registry.local/app:${tag}`,
  '--cache=true',
  `--cache-repo=${cacheRepo}`,
];
const text = (transcript: ReturnType<typeof kanikoTranscript>) =>
  transcript.output.map((piece) => piece.text).join('');

/** Builds in order into one layer cache, each recorded when it exits, as the kubelet's onExit does. */
function buildAll(builds: [string, string[], BuildRule][]) {
  const layers = new KanikoLayerCache();
  return builds.map(([file, args, rule]) => {
    const transcript = kanikoTranscript(file, parseKanikoArgs(args), rule, layers);
    layers.record(transcript);
    return transcript;
  });
}

describe('kanikoTranscript with a layer cache', () => {
  it('takes runSeconds uncached, and reruns only what follows the first changed RUN', () => {
    const [a1, a2] = buildAll([
      [dockerfile, argv(), compiles],
      [lastChanged, argv(), compiles],
    ]);
    const [b1, b2] = buildAll([
      [dockerfile, argv(), compiles],
      [firstChanged, argv(), compiles],
    ]);
    expect(a1?.exitAt).toBe(100);
    expect(b1?.exitAt).toBe(100);
    expect(b2?.exitAt).toBe(100);
    // Three cached RUNs at 2 % of their shares, then the changed last RUN.
    expect(a2?.exitAt).toBeCloseTo((2 * light + heavy) * CACHED_FRACTION + light, 6);
    expect(a2!.exitAt).toBeLessThan(b2!.exitAt / 5);
    expect(a1?.layersPushed).toHaveLength(4);
    expect(a2?.layersPushed).toHaveLength(1);
  });

  it('gives every RUN an equal share when the rule names no step', () => {
    const rule: BuildRule = { outcome: 'Succeeded', log: '', runSeconds: 100 };
    const [, second] = buildAll([
      [dockerfile, argv(), rule],
      [lastChanged, argv(), rule],
    ]);
    expect(second?.exitAt).toBeCloseTo(3 * 25 * CACHED_FRACTION + 25, 6);
  });

  it("prints Kaniko's lines for cached and uncached commands, and stops looking at the first miss", () => {
    const [, second] = buildAll([
      [dockerfile, argv(), compiles],
      [lastChanged, argv(), compiles],
    ]);
    const log = text(second!);
    for (const run of [first, clone, compile])
      expect(log).toContain(`INFO[0000] Using caching version of cmd: ${run}\n`);
    expect(log).toContain('INFO[0000] No cached layer found for cmd RUN echo v2 > /etc/app-version\n');
    expect(log).toMatch(
      /INFO\[0000\] Checking for cached layer registry\.local\/app-cache:[0-9a-f]{64}\.\.\.\n/,
    );
    expect(log).toContain(`${compile}\nINFO[0000] Found cached layer, extracting to filesystem\n`);
    expect(log).toContain('Unpacking rootfs as cmd RUN echo v2 > /etc/app-version requires it.');
    // A cached step does not run: no output of the compile.
    expect(log).not.toContain('Running: [/bin/sh -c ./configure');
    expect(log).not.toContain('Built target app');
    expect(log).toMatch(/INFO\[0010\] Pushing layer registry\.local\/app-cache:[0-9a-f]{64} to cache now\n/);

    const [, changedFirst] = buildAll([
      [dockerfile, argv(), compiles],
      [firstChanged, argv(), compiles],
    ]);
    const uncached = text(changedFirst!);
    expect(uncached).toContain(`INFO[0000] No cached layer found for cmd ${first} curl\n`);
    expect(uncached.match(/Checking for cached layer/g)).toHaveLength(1);
    expect(uncached).not.toContain('Using caching version of cmd');
    expect(uncached).toContain('Running: [/bin/sh -c ./configure && make -j 4 && make install]\ncompiling\n');
  });

  it('reuses nothing without --cache, from another cache repository, or after another base image', () => {
    const withoutCache = argv().filter((arg) => !arg.startsWith('--cache'));
    const [, uncached] = buildAll([
      [dockerfile, argv(), compiles],
      [dockerfile, withoutCache, compiles],
    ]);
    expect(uncached?.exitAt).toBe(100);
    expect(text(uncached!)).not.toMatch(/cached layer|caching version|to cache now/);
    expect(uncached?.layersPushed).toEqual([]);

    const [, otherRepo] = buildAll([
      [dockerfile, argv(), compiles],
      [dockerfile, argv('registry.local/other-cache'), compiles],
    ]);
    expect(otherRepo?.exitAt).toBe(100);
    expect(text(otherRepo!)).toContain(`No cached layer found for cmd ${first}\n`);

    const [, otherBase] = buildAll([
      [dockerfile, argv(), compiles],
      [dockerfile.replace('ubuntu:22.04', 'ubuntu:24.04'), argv(), compiles],
    ]);
    expect(otherBase?.exitAt).toBe(100);

    // --cache=false is no cache either; a fully cached rebuild of the same file is nearly free.
    const [, disabled, again] = buildAll([
      [dockerfile, argv(), compiles],
      [dockerfile, [...argv(), '--cache=false'], compiles],
      [dockerfile, argv(), compiles],
    ]);
    expect(disabled?.exitAt).toBe(100);
    expect(again?.exitAt).toBeCloseTo(100 * CACHED_FRACTION, 6);
  });

  it('infers the cache repository from the destination, as Kaniko does, and shares it across tags', () => {
    const inferred = (tag: string) => [
      '--dockerfile=Dockerfile',
      '--context=dir:///workspace',
      `--destination=registry.local/app:${tag}`,
      '--cache=true',
    ];
    const [one, two] = buildAll([
      [dockerfile, inferred('1'), compiles],
      [lastChanged, inferred('2'), compiles],
    ]);
    expect(one?.cacheRepository).toBe('registry.local/app/cache');
    expect(text(two!)).toContain('Checking for cached layer registry.local/app/cache:');
    expect(two?.exitAt).toBeLessThan(20);
  });

  it('looks layers up but pushes none with --no-push-cache', () => {
    const [pushless, next] = buildAll([
      [dockerfile, [...argv(), '--no-push', '--no-push-cache'], compiles],
      [dockerfile, argv(), compiles],
    ]);
    expect(text(pushless!)).toContain(`No cached layer found for cmd ${first}`);
    expect(text(pushless!)).not.toContain('to cache now');
    expect(pushless?.layersPushed).toEqual([]);
    expect(next?.exitAt).toBe(100);
  });

  it('caches the RUNs a failed build finished, never the failing one, and keeps its failure log', () => {
    const [failed, again, fixed] = buildAll([
      [broken, argv(), failsToCompile],
      [broken, argv(), failsToCompile],
      [dockerfile, argv(), compiles],
    ]);
    // 60 seconds over the RUNs that ran: the two before the compile share 25 %, the compile 75 %.
    expect(failed?.exitAt).toBe(60);
    expect(failed?.exitCode).toBe(1);
    expect(failed?.layersPushed).toHaveLength(2);
    const failedLog = text(failed!);
    expect(failedLog).toContain(
      'Running: [/bin/sh -c ./configure && make -j 4 BROKEN=1 && make install]\nerror: app.c:12: expected ;\n',
    );
    expect(failedLog).not.toContain('echo v1');
    expect(failedLog).toMatch(/error building image: error building stage: failed to execute command.*\n$/);

    // The same broken Dockerfile again: the two layers come from the cache, the compile fails again.
    const againLog = text(again!);
    expect(againLog).toContain(`Using caching version of cmd: ${clone}`);
    expect(againLog).toContain('No cached layer found for cmd RUN ./configure && make -j 4 BROKEN=1');
    expect(againLog).toContain('make: *** [all] Error 1');
    expect(again?.exitCode).toBe(1);
    expect(again?.exitAt).toBeCloseTo(60 * (1 - STEP_SHARE) * CACHED_FRACTION + 60 * STEP_SHARE, 6);

    // The fix of the compile step reuses what the failed build cached.
    expect(text(fixed!)).toContain(`Using caching version of cmd: ${clone}`);
    expect(fixed?.exitAt).toBeCloseTo(2 * light * CACHED_FRACTION + heavy + light, 6);
  });
});

// ---- Through Jobs on the simulated cluster ----

let stop: (() => void) | undefined;
afterEach(() => stop?.());

// 1 simulated second = 10 ms; the scaled clock stamps pods in simulated time.
const speed = 0.01;

function cluster() {
  const store = new Store();
  const logs = new LogStore();
  const sim = startSimControllers({
    store,
    logs,
    speed,
    clock: scaledClock(speed),
    behaviors: {
      pullable: ['gcr.io/kaniko-project/.*'],
      builds: [
        { match: 'BROKEN', ...failsToCompile },
        { match: 'make', ...compiles },
      ],
    },
  });
  stop = sim.stop;
  return { store, logs };
}

function buildJob(name: string, dockerfileText: string, args: string[]): [KubeObject, KubeObject] {
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { Dockerfile: dockerfileText },
  };
  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          volumes: [{ name: 'context', configMap: { name } }],
          containers: [
            {
              name: 'kaniko',
              image: 'gcr.io/kaniko-project/executor:v1.23.2',
              args,
              volumeMounts: [{ name: 'context', mountPath: '/workspace' }],
            },
          ],
        },
      },
    },
  };
  return [configMap, job];
}

const finished = (object: KubeObject | undefined) =>
  (
    (object?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
  ).some((entry) => (entry.type === 'Complete' || entry.type === 'Failed') && entry.status === 'True');

/** Runs a build Job to its end: the seconds its container ran (simulated time) and its log. */
async function build(
  sim: ReturnType<typeof cluster>,
  name: string,
  dockerfileText: string,
  args: string[],
): Promise<{ seconds: number; log: string; exitCode?: number }> {
  const [configMap, job] = buildJob(name, dockerfileText, args);
  sim.store.create('v1/configmaps', configMap);
  sim.store.create('batch/v1/jobs', job);
  await waitFor(sim.store, 'batch/v1/jobs', 'default', name, finished);
  const [object] = sim.store.list('v1/pods', 'default', { labelSelector: `job-name=${name}` }).items;
  const pod = object as unknown as IPod;
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  return {
    seconds: (Date.parse(terminated?.finishedAt ?? '') - Date.parse(terminated?.startedAt ?? '')) / 1000,
    log: sim.logs.read('default', pod.metadata?.name ?? '', 'kaniko'),
    exitCode: terminated?.exitCode,
  };
}

/** The simulated second of the log's last line, as the executor stamps it. */
const lastStamp = (log: string) => Number([...log.matchAll(/^INFO\[(\d{4})\]/gm)].at(-1)?.[1]);

describe('simulated Kaniko Jobs with --cache', () => {
  it('rebuild much faster into one cache repo when only the last RUN changed than when the first did', async () => {
    const sim = cluster();
    // Two pairs at once, each into its own cache repository.
    const [lastPair, firstPair] = await Promise.all([
      (async () => [
        await build(sim, 'last-1', dockerfile, argv('registry.local/last-cache')),
        await build(sim, 'last-2', lastChanged, argv('registry.local/last-cache', '2')),
      ])(),
      (async () => [
        await build(sim, 'first-1', dockerfile, argv('registry.local/first-cache')),
        await build(sim, 'first-2', firstChanged, argv('registry.local/first-cache', '2')),
      ])(),
    ]);
    const [last1, last2] = lastPair;
    const [first1, first2] = firstPair;
    // What the executor stamps does not depend on the machine: 100 s uncached, ~10 s reusing three layers.
    expect([last1, last2, first1, first2].map((result) => lastStamp(result!.log))).toEqual([
      100, 10, 100, 100,
    ]);
    expect(last2?.log).toContain(`INFO[0000] Using caching version of cmd: ${first}\n`);
    expect(last2?.log).toContain(`INFO[0000] Using caching version of cmd: ${compile}\n`);
    expect(last2?.log).toContain('INFO[0000] No cached layer found for cmd RUN echo v2 > /etc/app-version\n');
    expect(first2?.log).toContain(`INFO[0000] No cached layer found for cmd ${first} curl\n`);
    expect(first2?.log).not.toContain('Using caching version of cmd');

    // The pods' start and finish, in simulated time: an uncached build runs its 100 seconds at least.
    for (const result of [last1, first1, first2]) expect(result!.seconds).toBeGreaterThanOrEqual(99);
    expect(last2!.seconds).toBeLessThan(first2!.seconds / 2);
    expect(last1!.seconds + last2!.seconds).toBeLessThan(0.75 * (first1!.seconds + first2!.seconds));
  });

  it('reuse what a failed build cached, and nothing without --cache or from another cache repo', async () => {
    const sim = cluster();
    const failed = await build(sim, 'broken', broken, argv());
    expect(failed.exitCode).toBe(1);
    expect(failed.log).toContain('make: *** [all] Error 1');
    // The compile starts after the two light RUNs (25 % of 60 s) and fails at the end of the 60.
    expect(lastStamp(failed.log)).toBe(15);
    expect(failed.seconds).toBeGreaterThanOrEqual(59);

    const fixed = await build(sim, 'fixed', dockerfile, argv('registry.local/app-cache', '2'));
    expect(fixed.exitCode).toBe(0);
    expect(fixed.log).toContain(`Using caching version of cmd: ${first}\n`);
    expect(fixed.log).toContain(`Using caching version of cmd: ${clone}\n`);
    expect(fixed.log).toContain(`No cached layer found for cmd ${compile}\n`);
    expect(lastStamp(fixed.log)).toBe(Math.floor(2 * light * CACHED_FRACTION + heavy + light));

    const withoutCache = argv().filter((arg) => !arg.startsWith('--cache'));
    const [uncached, elsewhere] = await Promise.all([
      build(sim, 'no-cache', dockerfile, withoutCache),
      build(sim, 'elsewhere', dockerfile, argv('registry.local/other-cache', '3')),
    ]);
    expect(uncached.log).not.toMatch(/cached layer|caching version/);
    expect(elsewhere.log).toContain(`No cached layer found for cmd ${first}\n`);
    expect(elsewhere.log).not.toContain('Using caching version of cmd');
    expect([lastStamp(uncached.log), lastStamp(elsewhere.log)]).toEqual([100, 100]);
    expect(Math.min(uncached.seconds, elsewhere.seconds)).toBeGreaterThanOrEqual(99);
  });
});
