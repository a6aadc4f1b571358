// `fractale operator`: the operator out of cluster, against the current kubeconfig, until SIGINT or
// SIGTERM. `fractale sim`: the simulated cluster in the foreground.
import type { Command } from 'commander';
import { ConfigError, ENV, loadConfig } from '../../runtime/config.ts';
import { EndpointPortError } from '../../runtime/health.ts';
import { type CommandContext, EXIT } from '../command.ts';
import { UserError } from '../errors.ts';
import { aborted, println } from '../io.ts';
import { connect } from '../kube.ts';

/** One flag per configuration key (camelCase in code, --kebab-case on the command line). */
const OPERATOR_FLAGS: [flag: string, description: string][] = [
  ['--namespaces <list>', 'namespaces to watch, comma-separated (default: all)'],
  ['--concurrency <n>', 'steps and plans reconciled at once'],
  ['--provider <provider>', 'model provider: gemini, openai or scripted'],
  ['--model <name>', 'model name'],
  ['--script <file>', 'answers file for the scripted provider'],
  ['--api-key-secret <secret[:key]>', 'Secret with the model API key'],
  ['--model-base-url <url>', "the model API's base URL"],
  ['--kaniko-image <image>', 'the Kaniko executor image'],
  ['--registry <host[/path]>', 'where builds push their images'],
  ['--insecure-registry [bool]', 'push over plain HTTP'],
  ['--push-secret <secret>', 'docker-config Secret with push credentials'],
  ['--run-service-account <name>', 'the service account runs use'],
  ['--flux-validator-image <image>', 'image that validates Flux batch scripts'],
  ['--default-max-attempts <n>', 'attempts of a step that sets none'],
  ['--default-max-runtime <seconds>', 'runtime limit of a run that sets none'],
  [
    '--log-budget <tokens>',
    "most tokens of a failure's log the model reads (a step's context.logBudget wins)",
  ],
  ['--max-cpu-request <quantity>', "most CPU a generated run's pod may request (a Kubernetes quantity)"],
  ['--max-memory-request <quantity>', "most memory a generated run's pod may request (e.g. 256Gi)"],
  ['--run-as-non-root [bool]', 'refuse runs that ask for root and run their pods as non-root'],
  ['--metrics-port <port>', 'port of /metrics (0: any free port)'],
  ['--health-port <port>', 'port of /healthz and /readyz (0: any free port)'],
  ['--leader-elect [bool]', 'hold a Lease so that only one replica works'],
  ['--lease-namespace <namespace>', 'namespace of the Lease'],
  ['--lease-name <name>', 'name of the Lease'],
  ['--lease-duration <seconds>', 'how long a Lease holds without renewal before another replica takes it'],
  ['--renew-deadline <seconds>', 'how long the leader tries to renew before it stops working'],
  ['--retry-period <seconds>', 'seconds between Lease renewals and takeover tries'],
  ['--model-timeout <seconds>', 'how long one model request may take before it is retried'],
  ['--model-concurrency <n>', 'most model calls of one provider in flight at once; the others queue'],
  [
    '--model-tokens-per-minute <n>',
    'most tokens the model calls of one provider started in a minute may use (0: no budget)',
  ],
  ['--log-level <level>', 'trace, debug, info, warn, error, fatal or silent'],
  ['--resync-seconds <seconds>', 'how often every object is reconciled again (0: never)'],
];

export interface OperatorCommandOptions {
  kubeconfig?: string;
  [key: string]: unknown;
}

export function registerOperator(program: Command, ctx: CommandContext): void {
  const command = program
    .command('operator')
    .description('Run the operator out of cluster against the current kubeconfig (Ctrl-C stops it)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)');
  for (const [flag, description] of OPERATOR_FLAGS)
    command.option(flag, `${description} (env ${envName(flag)})`);
  command.action(async (options: OperatorCommandOptions) => {
    const { io } = ctx;
    const { kubeconfig, modelBaseUrl, ...flags } = options;
    if (modelBaseUrl !== undefined) flags['baseUrl'] = modelBaseUrl;
    // A bare boolean flag means true.
    for (const key of ['insecureRegistry', 'leaderElect']) if (flags[key] === true) flags[key] = 'true';
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(flags, io.env);
    } catch (error) {
      if (error instanceof ConfigError) throw new UserError(error.message);
      throw error;
    }
    const conn = await connect({ ...(kubeconfig ? { kubeconfig } : {}), component: 'operator' }, io);
    let registryNote: string | undefined;
    if (!config.registry) {
      const { advertisedRegistry, REGISTRY_HOSTING } = await import('../../kube/registry-hosting.ts');
      const registry = await advertisedRegistry(conn.client);
      if (registry) config = { ...config, registry };
      // Said once the operator runs, after any error that stops it from starting.
      registryNote = registry
        ? `Builds push to ${registry}, the registry the cluster advertises in ${REGISTRY_HOSTING.namespace}/${REGISTRY_HOSTING.name} (--registry overrides it)`
        : 'No registry for builds: build steps will fail until you give --registry <host[/path]> (or FRACTALE_REGISTRY)';
    }
    // Loaded here, so that the other commands start without the operator's modules.
    const { createOperator } = await import('../../operator/index.ts');
    const { createLogger } = await import('../../runtime/logger.ts');
    // Logs go to stderr: pretty on a terminal, JSON lines otherwise.
    const logger = createLogger({
      level: config.logLevel,
      pretty: Boolean(io.stderr.isTTY),
      destination: { write: (line: string) => io.stderr.write(line) },
    });
    let lostLeadership!: () => void;
    const lost = new Promise<'lost'>((resolve) => {
      lostLeadership = () => resolve('lost');
    });
    const manager = createOperator({
      kubeConfig: conn.kubeConfig,
      config,
      logger,
      serveEndpoints: true,
      onLostLeadership: lostLeadership,
    });
    try {
      await manager.start();
    } catch (error) {
      if (!(error instanceof EndpointPortError)) throw error;
      const flag = error.endpoint === 'health' ? '--health-port' : '--metrics-port';
      const env = error.endpoint === 'health' ? ENV.healthPort : ENV.metricsPort;
      throw new UserError(`${error.message}: choose another with ${flag} or ${env} (0: any free port)`);
    }
    println(io.stderr, `fractale operator running against ${conn.server}; Ctrl-C stops it`);
    if (registryNote) println(io.stderr, registryNote);
    const why = await Promise.race([aborted(io.signal).then(() => 'interrupted' as const), lost]);
    println(
      io.stderr,
      why === 'lost' ? 'Lost the leader lease; stopping (start the operator again)' : 'Stopping the operator',
    );
    await manager.stop();
    if (why === 'lost') ctx.exit(EXIT.failed);
  });
}

const envName = (flag: string) => {
  const kebab = (flag.split(' ')[0] ?? '').replace(/^--/, '');
  const key =
    kebab === 'model-base-url' ? 'baseUrl' : kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return ENV[key as keyof typeof ENV];
};

export function registerSim(program: Command, ctx: CommandContext): void {
  program
    .command('sim')
    .description('Run a simulated Kubernetes cluster (API server and controllers) until Ctrl-C')
    .option('--behaviors <file>', 'behaviours of builds and pods (default: behaviors/default.yaml)')
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig (default: a temporary file)')
    .option('--port <n>', 'port of the API server (default: any free port)', (v) => Number(v))
    .option('--nodes <file>', 'the nodes (default: two 4-CPU nodes)')
    .option(
      '--speed <factor>',
      'multiplies simulated durations (default 1, real time: a LAMMPS build attempt takes about 45 s; 0.05 runs 20x faster, as the demo)',
      (v) => Number(v),
    )
    .action(
      async (options: {
        behaviors?: string;
        kubeconfigOut?: string;
        port?: number;
        nodes?: string;
        speed?: number;
      }) => {
        const { io } = ctx;
        const { runSimCommand } = await import('../../sim/cli.ts');
        await runSimCommand({
          ...options,
          print: (line) => println(io.stdout, line),
          until: aborted(io.signal),
        });
      },
    );
}
