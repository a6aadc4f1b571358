// A real Kubernetes control plane on loopback for the second test lane: kube-apiserver and
// kube-controller-manager v1.34.4 built from Kubernetes' own sources, and etcd 3.6, from the Go
// module in tools/control-plane (pinned by its go.sum). Go is used only here: it is how Kubernetes
// is built, and no prebuilt binary can be fetched on these machines.
//
//   npm run control-plane -- --kubeconfig-out FILE [--dir DIR]   start, print the kubeconfig, run until Ctrl-C
//   npm run control-plane -- --build-only                          build (or reuse) the binaries
//
// The binaries are built once into a cache folder keyed by go.mod, go.sum and the build flags
// ($FRACTALE_CONTROL_PLANE_CACHE, else ~/.cache/fractale/control-plane) and reused after that.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const moduleDir = join(root, 'tools', 'control-plane');
export const KUBERNETES_VERSION = 'v1.34.4';
const VERSION_FLAGS = [
  `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
  '-X k8s.io/component-base/version.gitMajor=1',
  '-X k8s.io/component-base/version.gitMinor=34',
  '-X k8s.io/component-base/version.gitTreeState=clean',
].join(' ');
const BINARIES: { name: string; pkg: string; ldflags: string }[] = [
  { name: 'kube-apiserver', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', ldflags: `-s -w ${VERSION_FLAGS}` },
  {
    name: 'kube-controller-manager',
    pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager',
    ldflags: `-s -w ${VERSION_FLAGS}`,
  },
  { name: 'etcd', pkg: './etcd', ldflags: '-s -w' },
];
/** The controllers the real lane needs from kube-controller-manager; the simulated world runs no other. */
export const CONTROLLERS = [
  'job-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
];

function cacheDir(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'etcd/main.go']) hash.update(readFileSync(join(moduleDir, file)));
  hash.update(JSON.stringify(BINARIES));
  const base =
    process.env['FRACTALE_CONTROL_PLANE_CACHE'] ?? join(homedir(), '.cache', 'fractale', 'control-plane');
  return join(base, `${KUBERNETES_VERSION}-${hash.digest('hex').slice(0, 12)}`);
}

/** Builds the three binaries unless the cache has them; returns the folder that holds them. */
export function buildControlPlane(log: (line: string) => void = console.error): string {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  for (const b of BINARIES) {
    const target = join(dir, b.name);
    if (existsSync(target)) continue;
    const started = Date.now();
    log(`Building ${b.name} (${b.pkg}); this takes several minutes the first time`);
    execFileSync('go', ['build', '-trimpath', '-ldflags', b.ldflags, '-o', `${target}.partial`, b.pkg], {
      cwd: moduleDir,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false' },
    });
    renameSync(`${target}.partial`, target);
    log(`Built ${b.name} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return dir;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, the API server's serving certificate for 127.0.0.1, and the service-account key pair. */
function makeCertificates(dir: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=fractale-test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  writeFileSync(
    join(dir, 'serving.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=kube-apiserver',
      '-keyout',
      'apiserver.key',
      '-out',
      'apiserver.csr',
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'apiserver.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      'serving.ext',
      '-out',
      'apiserver.crt',
    ],
    dir,
  );
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
}

export interface ControlPlane {
  /** The kubeconfig file of a cluster admin (a token in group system:masters). */
  kubeconfig: string;
  server: string;
  dir: string;
  stop(): Promise<void>;
}

function writeKubeconfig(
  path: string,
  server: string,
  ca: string,
  token: string,
  namespace = 'default',
): void {
  const caData = readFileSync(ca).toString('base64');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: real',
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority-data: ${caData}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: real',
      '  context:',
      '    cluster: real',
      '    user: admin',
      `    namespace: ${namespace}`,
      'current-context: real',
      '',
    ].join('\n'),
  );
}

async function waitReady(
  server: string,
  ca: string,
  token: string,
  children: ChildProcess[],
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  const { Agent, request } = await import('node:https');
  const agent = new Agent({ ca: readFileSync(ca) });
  let last = '';
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead)
      throw new Error(
        `${dead.spawnfile} exited with code ${dead.exitCode} before the control plane was ready`,
      );
    last = await new Promise<string>((resolve) => {
      const req = request(
        `${server}/readyz`,
        { agent, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () =>
            resolve(res.statusCode === 200 ? 'ok' : `${res.statusCode} ${body.slice(0, 200)}`),
          );
        },
      );
      req.on('error', (err) => resolve(err.message));
      req.end();
    });
    if (last === 'ok') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`The control plane was not ready in ${timeoutMs / 1000} s: ${last}`);
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on loopback ports in `dir` (a new temporary
 * folder by default), waits until the API server is ready and the default ServiceAccount exists,
 * and returns the admin kubeconfig. Logs go to `<dir>/<component>.log`.
 */
export async function startControlPlane(
  options: {
    dir?: string;
    log?: (line: string) => void;
    /** More kube-apiserver flags (an audit log, say), given the control plane's folder. */
    apiserverArgs?: (dir: string) => string[];
  } = {},
): Promise<ControlPlane> {
  const log = options.log ?? console.error;
  const bin = buildControlPlane(log);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fractale-control-plane-'));
  mkdirSync(dir, { recursive: true });
  makeCertificates(dir);
  const token = createHash('sha256').update(`${dir}${Date.now()}${Math.random()}`).digest('hex').slice(0, 32);
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`);
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const children: ChildProcess[] = [];
  const start = (name: string, args: string[]) => {
    const out = createWriteStream(join(dir, `${name}.log`));
    const child = spawn(join(bin, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    children.push(child);
    return child;
  };
  start('etcd', [
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  start('kube-apiserver', [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${dir}`,
    `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
    `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
    `--client-ca-file=${join(dir, 'ca.crt')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--authorization-mode=RBAC',
    // Allocated from, never contacted: Services get addresses, nothing routes to them here.
    '--service-cluster-ip-range=10.96.0.0/16',
    '--v=1',
    ...(options.apiserverArgs?.(dir) ?? []),
  ]);
  await waitReady(server, join(dir, 'ca.crt'), token, children, 120_000);
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, server, join(dir, 'ca.crt'), token);
  start('kube-controller-manager', [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
    `--controllers=${CONTROLLERS.join(',')}`,
    `--service-account-private-key-file=${join(dir, 'sa.key')}`,
    `--root-ca-file=${join(dir, 'ca.crt')}`,
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    '--v=1',
  ]);
  await waitForDefaultServiceAccount(kubeconfig, children);
  log(`Control plane ${KUBERNETES_VERSION} ready at ${server} (logs in ${dir})`);
  let stopped = false;
  return {
    kubeconfig,
    server,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const child of [...children].reverse()) {
        if (child.exitCode !== null) continue;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pods are refused until the ServiceAccount controller has made `default`; wait for it once. */
async function waitForDefaultServiceAccount(kubeconfig: string, children: ChildProcess[]): Promise<void> {
  const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`${dead.spawnfile} exited with code ${dead.exitCode}`);
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error('kube-controller-manager did not create the default ServiceAccount in 120 s');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'kubeconfig-out': { type: 'string' },
      dir: { type: 'string' },
      'build-only': { type: 'boolean' },
    },
  });
  if (values['build-only']) {
    console.log(buildControlPlane());
    return;
  }
  const started = Date.now();
  const plane = await startControlPlane(values.dir ? { dir: values.dir } : {});
  if (values['kubeconfig-out']) writeFileSync(values['kubeconfig-out'], readFileSync(plane.kubeconfig));
  console.log(
    `Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. kubectl --kubeconfig ${values['kubeconfig-out'] ?? plane.kubeconfig} get ns   (Ctrl-C stops it)`,
  );
  const stop = () => {
    void plane.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
