// Connecting to the current cluster, with errors a person can act on: no kubeconfig, no API server
// answering, the fractale CRDs missing.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../api/index.ts';
import { ApiError, identify, KubeClient } from '../kube/client.ts';
import { UserError } from './errors.ts';
import type { CliIO } from './io.ts';

export interface Connection {
  kubeConfig: KubeConfig;
  client: KubeClient;
  /** The namespace commands work in: --namespace, else the context's, else default. */
  namespace: string;
  server: string;
  /** The kubeconfig file used. */
  kubeconfigPath: string;
}

export interface ConnectOptions {
  kubeconfig?: string;
  namespace?: string;
  /** Check that the AgentPlan and AgentStep kinds are served (default true). */
  requireCrds?: boolean;
  /** Check that the AgentExperiment kind is served too. */
  requireExperiments?: boolean;
  /** Who the requests say they are from (User-Agent `fractale-<component>`); default "cli". */
  component?: string;
}

const SIM_HINT = 'check KUBECONFIG (or --kubeconfig), or start a simulated cluster with `fractale sim`';

/** The kubeconfig file to use: the flag, else the first existing file of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(flag: string | undefined, io: Pick<CliIO, 'env' | 'cwd'>): string {
  if (flag) {
    const path = resolve(io.cwd, flag);
    if (!existsSync(path)) throw new UserError(`kubeconfig ${path} does not exist`);
    return path;
  }
  const fromEnv = (io.env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean);
  const candidates = fromEnv.length > 0 ? fromEnv : [join(io.env['HOME'] ?? homedir(), '.kube', 'config')];
  const found = candidates.map((p) => resolve(io.cwd, p)).find((p) => existsSync(p));
  if (!found) throw new UserError(`no kubeconfig found (looked at ${candidates.join(', ')}): ${SIM_HINT}`);
  return found;
}

/** Loads the kubeconfig, checks that the API server answers and, by default, that the CRDs are installed. */
export async function connect(options: ConnectOptions, io: CliIO): Promise<Connection> {
  const path = kubeconfigPath(options.kubeconfig, io);
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(path);
  } catch (error) {
    throw new UserError(`cannot load kubeconfig ${path}: ${(error as Error).message}`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new UserError(`kubeconfig ${path} has no current cluster: ${SIM_HINT}`);
  identify(kubeConfig, options.component ?? 'cli');
  const client = new KubeClient(kubeConfig);
  const server = cluster.server;
  try {
    await client.request('GET', '/version');
  } catch (error) {
    if (error instanceof ApiError && error.code !== 404) {
      if (error.code === 401 || error.code === 403)
        throw new UserError(`the cluster at ${server} refused our credentials (${error.code}): ${SIM_HINT}`);
    } else if (!(error instanceof ApiError)) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new UserError(`no cluster reachable at ${server} (${code}): ${SIM_HINT}`);
    }
  }
  if (options.requireCrds ?? true) await requireCrds(client, server, options.requireExperiments);
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return {
    kubeConfig,
    client,
    namespace: options.namespace || contextNamespace || 'default',
    server,
    kubeconfigPath: path,
  };
}

async function requireCrds(client: KubeClient, server: string, experiments = false): Promise<void> {
  let resources: { name: string }[] = [];
  try {
    const list = await client.request<{ resources?: { name: string }[] }>('GET', `/apis/${GROUP}/${VERSION}`);
    resources = list?.resources ?? [];
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  }
  const served = new Set(resources.map((r) => r.name));
  const missing = ['agentsteps', 'agentplans', ...(experiments ? ['agentexperiments'] : [])].filter(
    (name) => !served.has(name),
  );
  if (missing.length > 0) {
    throw new UserError(
      `the fractale CRDs (${API_VERSION} ${experiments ? 'AgentExperiment, ' : ''}AgentPlan, AgentStep) are not installed in the cluster at ${server} (${missing.join(', ')} not served): install them with \`kubectl apply -f crds/\` (or the Helm chart in charts/fractale)`,
    );
  }
}
