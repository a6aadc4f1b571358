/**
 * Pod Security admission, as kube-apiserver's built-in PodSecurity plugin does it (the Pod Security
 * Standards, k8s.io/pod-security-admission `policy/check_*.go` and `admission/admission.go`, at the
 * checks a v1.34 server has). A namespace's `pod-security.kubernetes.io/<mode>[-version]` labels choose
 * a level (privileged, baseline, restricted) and a version per mode:
 *  - enforce: a Pod that violates it is refused (403 Forbidden, `violates PodSecurity
 *    "restricted:latest": ...`). Pods made by controllers are refused alike: the Job is admitted, its
 *    pods are not, and the Job controller records FailedCreate events.
 *  - warn: the request succeeds with a `would violate PodSecurity ...` warning. It applies to Pods
 *    and to the objects that hold a pod template (Jobs, CronJobs, Deployments, ...), and defaults
 *    to the enforce level when only enforce is set.
 *  - audit: annotations in the audit log, which the sim does not keep.
 * The messages are the real ones, reason and detail alike, in the real order (baseline checks, then
 * restricted, each sorted by check id). Not modelled: exemptions (the built-in plugin has none by
 * default), re-checks on pod updates (only an image change triggers one), and the warnings a namespace
 * label change lists for existing pods. The sim checks the fields only; whether the node enforces them
 * (seccomp, AppArmor, SELinux, a non-root user) is the kubelet's and the runtime's business.
 */

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** The minor version a v1.34 server's "latest" evaluates. */
export const LATEST_MINOR = 34;

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const MODES = ['enforce', 'audit', 'warn'] as const;
export type Mode = (typeof MODES)[number];

export interface LevelVersion {
  level: Level;
  /** A minor version of 1.x, or 'latest'. */
  version: number | 'latest';
}

export const levelVersionString = (lv: LevelVersion) =>
  `${lv.level}:${lv.version === 'latest' ? 'latest' : `v1.${lv.version}`}`;

export interface NamespacePolicy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

/** A label that does not parse, in the field-error shape the API server reports. */
export interface LabelError {
  field: string;
  value: string;
  message: string;
}

const PRIVILEGED_LATEST: LevelVersion = { level: 'privileged', version: 'latest' };
const compareLevels = (a: Level, b: Level) => LEVELS.indexOf(a) - LEVELS.indexOf(b);

/**
 * The policy a namespace's labels ask for (api.PolicyToEvaluate, with the built-in plugin's default of
 * privileged:latest for every mode). A bad enforce level fails closed (restricted); bad audit and
 * warn levels fail open (privileged); a bad version means latest.
 */
export function namespacePolicy(labels: Readonly<Record<string, string>> | undefined): {
  policy: NamespacePolicy;
  errors: LabelError[];
} {
  const policy: NamespacePolicy = {
    enforce: { ...PRIVILEGED_LATEST },
    audit: { ...PRIVILEGED_LATEST },
    warn: { ...PRIVILEGED_LATEST },
  };
  const errors: LabelError[] = [];
  const bad = (label: string, value: string, message: string) =>
    errors.push({ field: `metadata.labels[${label}]`, value, message });
  let enforceLevelSet = false;
  let warnLevelSet = false;
  let warnVersionSet = false;
  for (const mode of MODES) {
    const levelLabel = `${LABEL_PREFIX}${mode}`;
    const level = labels?.[levelLabel];
    if (level !== undefined) {
      if ((LEVELS as readonly string[]).includes(level)) {
        policy[mode].level = level as Level;
        if (mode === 'enforce') enforceLevelSet = true;
      } else {
        policy[mode].level = mode === 'enforce' ? 'restricted' : 'privileged';
        bad(levelLabel, level, `must be one of ${LEVELS.join(', ')}`);
      }
      if (mode === 'warn') warnLevelSet = true;
    }
    const versionLabel = `${LABEL_PREFIX}${mode}-version`;
    const version = labels?.[versionLabel];
    if (version !== undefined) {
      if (mode === 'warn') warnVersionSet = true;
      const match = /^v1\.(0|[1-9][0-9]*)$/.exec(version);
      if (version === 'latest') policy[mode].version = 'latest';
      else if (match) policy[mode].version = Number(match[1]);
      else {
        policy[mode].version = 'latest';
        bad(versionLabel, version, 'must be "latest" or "v1.x"');
      }
    }
  }
  // Warn defaults to the enforce level when enforce is explicitly the stricter.
  if (!warnLevelSet && enforceLevelSet && compareLevels(policy.enforce.level, policy.warn.level) > 0) {
    policy.warn.level = policy.enforce.level;
    if (!warnVersionSet) policy.warn.version = policy.enforce.version;
  }
  return { policy, errors };
}

// ---------------------------------------------------------------------------------------------------
// The checks, on pods as JSON.

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const has = (o: Obj | undefined, key: string) => o?.[key] !== undefined && o?.[key] !== null;

export interface PodMetadata {
  name?: string;
  annotations?: Record<string, string>;
}

interface Container {
  name: string;
  security: Obj | undefined;
  raw: Obj;
}

interface CheckResult {
  allowed: boolean;
  reason?: string;
  detail?: string;
}
type CheckFn = (metadata: PodMetadata, spec: Obj) => CheckResult;

const ALLOWED: CheckResult = { allowed: true };
const plural = (singular: string, pluralForm: string, count: number) => (count === 1 ? singular : pluralForm);
const joinQuote = (items: readonly string[]) => (items.length === 0 ? '' : `"${items.join('", "')}"`);
/** Go's sets.NewString(...).List(): unique and sorted. */
const sortedSet = (items: Iterable<string>) => [...new Set(items)].sort();
const containersOf = (what: number, names: string[]) =>
  `${plural('container', 'containers', what)} ${joinQuote(names)}`;

/** Init containers, containers, then ephemeral containers (visitContainers). */
function visit(spec: Obj): Container[] {
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((key) =>
    list(spec[key]).map((item) => {
      const raw = obj(item) ?? {};
      return { name: String(raw['name'] ?? ''), security: obj(raw['securityContext']), raw };
    }),
  );
}

const podSecurity = (spec: Obj) => obj(spec['securityContext']);
const isWindows = (spec: Obj) => obj(spec['os'])?.['name'] === 'windows';

function privileged(_: PodMetadata, spec: Obj): CheckResult {
  const bad = visit(spec)
    .filter((c) => c.security?.['privileged'] === true)
    .map((c) => c.name);
  if (bad.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'privileged',
    detail: `${containersOf(bad.length, bad)} must not set securityContext.privileged=true`,
  };
}

function hostNamespaces(_: PodMetadata, spec: Obj): CheckResult {
  const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((field) => spec[field] === true);
  if (set.length === 0) return ALLOWED;
  return { allowed: false, reason: 'host namespaces', detail: set.map((f) => `${f}=true`).join(', ') };
}

function hostPathVolumes(_: PodMetadata, spec: Obj): CheckResult {
  const bad = list(spec['volumes'])
    .map((v) => obj(v) ?? {})
    .filter((v) => has(v, 'hostPath'))
    .map((v) => String(v['name'] ?? ''));
  if (bad.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'hostPath volumes',
    detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)}`,
  };
}

function hostPorts(_: PodMetadata, spec: Obj): CheckResult {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of visit(spec)) {
    const used = list(c.raw['ports'])
      .map((p) => Number(obj(p)?.['hostPort'] ?? 0))
      .filter((port) => port !== 0);
    if (used.length > 0) {
      bad.push(c.name);
      ports.push(...used.map(String));
    }
  }
  if (bad.length === 0) return ALLOWED;
  const forbidden = sortedSet(ports);
  return {
    allowed: false,
    reason: 'hostPort',
    detail: `${containersOf(bad.length, bad)} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', forbidden.length)} ${forbidden.join(', ')}`,
  };
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

function capabilitiesBaseline(_: PodMetadata, spec: Obj): CheckResult {
  const bad: string[] = [];
  const added: string[] = [];
  for (const c of visit(spec)) {
    const capabilities = obj(c.security?.['capabilities']);
    if (!capabilities) continue;
    const forbidden = list(capabilities['add'])
      .map(String)
      .filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    if (forbidden.length > 0) {
      bad.push(c.name);
      added.push(...forbidden);
    }
  }
  if (bad.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'non-default capabilities',
    detail: `${containersOf(bad.length, bad)} must not include ${joinQuote(sortedSet(added))} in securityContext.capabilities.add`,
  };
}

function capabilitiesRestricted(_: PodMetadata, spec: Obj): CheckResult {
  if (isWindows(spec)) return ALLOWED;
  const missingDropAll: string[] = [];
  const adding: string[] = [];
  const forbidden: string[] = [];
  for (const c of visit(spec)) {
    const capabilities = obj(c.security?.['capabilities']);
    if (!capabilities) {
      missingDropAll.push(c.name);
      continue;
    }
    if (!list(capabilities['drop']).includes('ALL')) missingDropAll.push(c.name);
    const extra = list(capabilities['add'])
      .map(String)
      .filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length > 0) {
      adding.push(c.name);
      forbidden.push(...extra);
    }
  }
  const details: string[] = [];
  if (missingDropAll.length > 0) {
    details.push(
      `${containersOf(missingDropAll.length, missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`,
    );
  }
  if (adding.length > 0) {
    details.push(
      `${containersOf(adding.length, adding)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`,
    );
  }
  if (details.length === 0) return ALLOWED;
  return { allowed: false, reason: 'unrestricted capabilities', detail: details.join('; ') };
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorProfile(metadata: PodMetadata, spec: Obj): CheckResult {
  const allowedType = (type: unknown) => type === 'RuntimeDefault' || type === 'Localhost';
  const setters: string[] = [];
  const values: string[] = [];
  const podProfile = obj(podSecurity(spec)?.['appArmorProfile']);
  if (podProfile && !allowedType(podProfile['type'])) {
    setters.push('pod');
    values.push(String(podProfile['type'] ?? ''));
  }
  const bad: string[] = [];
  for (const c of visit(spec)) {
    const profile = obj(c.security?.['appArmorProfile']);
    if (profile && !allowedType(profile['type'])) {
      bad.push(c.name);
      values.push(String(profile['type'] ?? ''));
    }
  }
  if (bad.length > 0) setters.push(containersOf(bad.length, bad));
  const badValues = sortedSet(values);
  const annotations = Object.entries(metadata.annotations ?? {})
    .filter(
      ([key, value]) =>
        key.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
        !(value === '' || value === 'runtime/default' || value.startsWith('localhost/')),
    )
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .sort();
  if (annotations.length > 0) {
    badValues.push(...annotations);
    setters.push(plural('annotation', 'annotations', annotations.length));
  }
  if (setters.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', badValues.length),
    detail: `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(badValues)}`,
  };
}

const SELINUX_TYPES_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
const SELINUX_TYPES_1_31 = [...SELINUX_TYPES_1_0, 'container_engine_t'];

const seLinuxOptions =
  (allowedTypes: readonly string[]): CheckFn =>
  (_, spec) => {
    const setters: string[] = [];
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (options: Obj) => {
      let ok = true;
      const type = String(options['type'] ?? '');
      if (!allowedTypes.includes(type)) {
        ok = false;
        badTypes.push(type);
      }
      if (String(options['user'] ?? '').length > 0) {
        ok = false;
        setUser = true;
      }
      if (String(options['role'] ?? '').length > 0) {
        ok = false;
        setRole = true;
      }
      return ok;
    };
    const podOptions = obj(podSecurity(spec)?.['seLinuxOptions']);
    if (podOptions && !valid(podOptions)) setters.push('pod');
    const bad = visit(spec)
      .filter((c) => {
        const options = obj(c.security?.['seLinuxOptions']);
        return options !== undefined && !valid(options);
      })
      .map((c) => c.name);
    if (bad.length > 0) setters.push(containersOf(bad.length, bad));
    if (setters.length === 0) return ALLOWED;
    const data: string[] = [];
    const types = sortedSet(badTypes);
    if (types.length > 0) data.push(`${plural('type', 'types', types.length)} ${joinQuote(types)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return {
      allowed: false,
      reason: 'seLinuxOptions',
      detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
    };
  };

function procMount(_: PodMetadata, spec: Obj): CheckResult {
  const bad: string[] = [];
  const types: string[] = [];
  for (const c of visit(spec)) {
    const mount = c.security?.['procMount'];
    if (mount === undefined || mount === null || mount === 'Default') continue;
    bad.push(c.name);
    types.push(String(mount));
  }
  if (bad.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'procMount',
    detail: `${containersOf(bad.length, bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
  };
}

const validSeccomp = (type: unknown) => type === 'Localhost' || type === 'RuntimeDefault';

/** seccompProfile_baseline (1.19+): an explicitly set profile must not be Unconfined. */
function seccompBaseline(_: PodMetadata, spec: Obj): CheckResult {
  const setters: string[] = [];
  const values: string[] = [];
  const podProfile = obj(podSecurity(spec)?.['seccompProfile']);
  if (podProfile && !validSeccomp(podProfile['type'])) {
    setters.push('pod');
    values.push(String(podProfile['type'] ?? ''));
  }
  const bad: string[] = [];
  for (const c of visit(spec)) {
    const profile = obj(c.security?.['seccompProfile']);
    if (profile && !validSeccomp(profile['type'])) {
      bad.push(c.name);
      values.push(String(profile['type'] ?? ''));
    }
  }
  if (bad.length > 0) setters.push(containersOf(bad.length, bad));
  if (setters.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'seccompProfile',
    detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
  };
}

/** seccompProfile_restricted (1.19+, Windows pods exempt from 1.25): every container has a profile. */
function seccompRestricted(_: PodMetadata, spec: Obj): CheckResult {
  if (isWindows(spec)) return ALLOWED;
  const setters: string[] = [];
  const values: string[] = [];
  let podSet = false;
  const podProfile = obj(podSecurity(spec)?.['seccompProfile']);
  if (podProfile) {
    if (!validSeccomp(podProfile['type'])) {
      setters.push('pod');
      values.push(String(podProfile['type'] ?? ''));
    } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of visit(spec)) {
    const profile = obj(c.security?.['seccompProfile']);
    if (profile) {
      if (!validSeccomp(profile['type'])) {
        explicit.push(c.name);
        values.push(String(profile['type'] ?? ''));
      }
    } else if (!podSet) implicit.push(c.name);
  }
  if (explicit.length > 0) setters.push(containersOf(explicit.length, explicit));
  if (setters.length > 0) {
    return {
      allowed: false,
      reason: 'seccompProfile',
      detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
    };
  }
  if (implicit.length > 0) {
    return {
      allowed: false,
      reason: 'seccompProfile',
      detail: `pod or ${containersOf(implicit.length, implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    };
  }
  return ALLOWED;
}

const SYSCTLS_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

const sysctls =
  (allowed: readonly string[]): CheckFn =>
  (_, spec) => {
    const forbidden = list(podSecurity(spec)?.['sysctls'])
      .map((s) => String(obj(s)?.['name'] ?? ''))
      .filter((name) => !allowed.includes(name));
    if (forbidden.length === 0) return ALLOWED;
    return { allowed: false, reason: 'forbidden sysctls', detail: forbidden.join(', ') };
  };

function windowsHostProcess(_: PodMetadata, spec: Obj): CheckResult {
  const hostProcess = (security: Obj | undefined) =>
    obj(security?.['windowsOptions'])?.['hostProcess'] === true;
  const setters: string[] = [];
  if (hostProcess(podSecurity(spec))) setters.push('pod');
  const bad = visit(spec)
    .filter((c) => hostProcess(c.security))
    .map((c) => c.name);
  if (bad.length > 0) setters.push(containersOf(bad.length, bad));
  if (setters.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'hostProcess',
    detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
  };
}

function hostProbesAndHostLifecycle(_: PodMetadata, spec: Obj): CheckResult {
  const bad = new Set<string>();
  const hosts = new Set<string>();
  const hostsOf = (handler: unknown) =>
    ['httpGet', 'tcpSocket']
      .map((kind) => String(obj(obj(handler)?.[kind])?.['host'] ?? ''))
      .filter((host) => host !== '');
  for (const c of visit(spec)) {
    const lifecycle = obj(c.raw['lifecycle']);
    const found = [
      ...hostsOf(c.raw['livenessProbe']),
      ...hostsOf(c.raw['readinessProbe']),
      ...hostsOf(c.raw['startupProbe']),
      ...hostsOf(lifecycle?.['postStart']),
      ...hostsOf(lifecycle?.['preStop']),
    ];
    if (found.length > 0) {
      bad.add(c.name);
      for (const host of found) hosts.add(host);
    }
  }
  if (bad.size === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'probe or lifecycle host',
    detail: `${containersOf(bad.size, sortedSet(bad))} ${plural('uses', 'use', bad.size)} ${plural('probe or lifecycle host', 'probe or lifecycle hosts', hosts.size)} ${joinQuote(sortedSet(hosts))}`,
  };
}

function allowPrivilegeEscalation(_: PodMetadata, spec: Obj): CheckResult {
  if (isWindows(spec)) return ALLOWED;
  const bad = visit(spec)
    .filter((c) => c.security?.['allowPrivilegeEscalation'] !== false)
    .map((c) => c.name);
  if (bad.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'allowPrivilegeEscalation != false',
    detail: `${containersOf(bad.length, bad)} must set securityContext.allowPrivilegeEscalation=false`,
  };
}

/** The volume types restricted allows; anything else is named as Go's switch names it. */
const RESTRICTED_VOLUME_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
const OTHER_VOLUME_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

function restrictedVolumes(_: PodMetadata, spec: Obj): CheckResult {
  const bad: string[] = [];
  const types: string[] = [];
  for (const item of list(spec['volumes'])) {
    const volume = obj(item) ?? {};
    if (RESTRICTED_VOLUME_SOURCES.some((source) => has(volume, source))) continue;
    const other = OTHER_VOLUME_SOURCES.find((source) => has(volume, source));
    // A volume with no source at all is defaulted to an emptyDir by the API server.
    if (!other && Object.keys(volume).every((key) => key === 'name')) continue;
    bad.push(String(volume['name'] ?? ''));
    types.push(other ?? 'unknown');
  }
  if (bad.length === 0) return ALLOWED;
  const sorted = sortedSet(types);
  return {
    allowed: false,
    reason: 'restricted volume types',
    detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${plural('uses', 'use', bad.length)} ${plural('restricted volume type', 'restricted volume types', sorted.length)} ${joinQuote(sorted)}`,
  };
}

function runAsNonRoot(_: PodMetadata, spec: Obj): CheckResult {
  const setters: string[] = [];
  let podNonRoot = false;
  const podValue = podSecurity(spec)?.['runAsNonRoot'];
  if (podValue === false) setters.push('pod');
  else if (podValue === true) podNonRoot = true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of visit(spec)) {
    const value = c.security?.['runAsNonRoot'];
    if (value === true || value === false) {
      if (value === false) explicit.push(c.name);
    } else if (!podNonRoot) implicit.push(c.name);
  }
  if (explicit.length > 0) setters.push(containersOf(explicit.length, explicit));
  if (setters.length > 0) {
    return {
      allowed: false,
      reason: 'runAsNonRoot != true',
      detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
    };
  }
  if (implicit.length > 0) {
    return {
      allowed: false,
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containersOf(implicit.length, implicit)} must set securityContext.runAsNonRoot=true`,
    };
  }
  return ALLOWED;
}

function runAsUser(_: PodMetadata, spec: Obj): CheckResult {
  const setters: string[] = [];
  if (podSecurity(spec)?.['runAsUser'] === 0) setters.push('pod');
  const bad = visit(spec)
    .filter((c) => c.security?.['runAsUser'] === 0)
    .map((c) => c.name);
  if (bad.length > 0) setters.push(containersOf(bad.length, bad));
  if (setters.length === 0) return ALLOWED;
  return {
    allowed: false,
    reason: 'runAsUser=0',
    detail: `${setters.join(' and ')} must not set runAsUser=0`,
  };
}

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** Variants by the first minor version they apply to, oldest first. */
  versions: { since: number; check: CheckFn; overrides?: string[] }[];
}

/** The checks of a v1.34 server (the 1.35+ user-namespace relaxations and procMount_restricted are not in it). */
const CHECKS: Check[] = [
  { id: 'privileged', level: 'baseline', versions: [{ since: 0, check: privileged }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ since: 0, check: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ since: 0, check: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ since: 0, check: hostPorts }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ since: 0, check: capabilitiesBaseline }] },
  { id: 'appArmorProfile', level: 'baseline', versions: [{ since: 0, check: appArmorProfile }] },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [
      { since: 0, check: seLinuxOptions(SELINUX_TYPES_1_0) },
      { since: 31, check: seLinuxOptions(SELINUX_TYPES_1_31) },
    ],
  },
  { id: 'procMount', level: 'baseline', versions: [{ since: 0, check: procMount }] },
  // The 1.0 variant checked the alpha seccomp annotations, which 1.19 replaced with the field.
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    versions: [{ since: 19, check: seccompBaseline }],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: [
      { since: 0, check: sysctls(SYSCTLS_1_0) },
      { since: 27, check: sysctls(SYSCTLS_1_27) },
      { since: 29, check: sysctls(SYSCTLS_1_29) },
      { since: 32, check: sysctls(SYSCTLS_1_32) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ since: 0, check: windowsHostProcess }] },
  {
    id: 'hostProbesAndHostLifecycle',
    level: 'baseline',
    versions: [{ since: 34, check: hostProbesAndHostLifecycle }],
  },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    versions: [{ since: 8, check: allowPrivilegeEscalation }],
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [{ since: 22, check: capabilitiesRestricted, overrides: ['capabilities_baseline'] }],
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    versions: [{ since: 0, check: restrictedVolumes, overrides: ['hostPathVolumes'] }],
  },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ since: 0, check: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ since: 23, check: runAsUser }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [{ since: 19, check: seccompRestricted, overrides: ['seccompProfile_baseline'] }],
  },
];

const byId = (a: Check, b: Check) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ORDERED = [
  ...CHECKS.filter((c) => c.level === 'baseline').sort(byId),
  ...CHECKS.filter((c) => c.level === 'restricted').sort(byId),
];

/** The reasons a pod violates a level at a version, in the real order; empty when it is allowed. */
export function podViolations(
  lv: LevelVersion,
  metadata: PodMetadata,
  spec: Record<string, unknown>,
): { reason: string; detail: string }[] {
  if (lv.level === 'privileged') return [];
  const version = lv.version === 'latest' ? LATEST_MINOR : Math.min(lv.version, LATEST_MINOR);
  const variant = (check: Check) => check.versions.findLast((v) => v.since <= version);
  const overridden = new Set(
    lv.level === 'restricted'
      ? ORDERED.filter((c) => c.level === 'restricted').flatMap((c) => variant(c)?.overrides ?? [])
      : [],
  );
  const out: { reason: string; detail: string }[] = [];
  for (const check of ORDERED) {
    if (check.level === 'restricted' && lv.level !== 'restricted') continue;
    if (overridden.has(check.id)) continue;
    const result = variant(check)?.check(metadata, spec);
    if (result && !result.allowed)
      out.push({ reason: result.reason ?? 'unknown forbidden reason', detail: result.detail ?? '' });
  }
  return out;
}

/** "reason (detail), reason, ..." as AggregateCheckResult.ForbiddenDetail writes it. */
export function forbiddenDetail(violations: readonly { reason: string; detail: string }[]): string {
  return violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}

// ---------------------------------------------------------------------------------------------------
// Admission

/** The pod metadata and spec an object carries, by kind (DefaultPodSpecExtractor); undefined if none. */
export function podTemplateOf(
  kind: string,
  object: Record<string, unknown>,
): { metadata: PodMetadata; spec: Record<string, unknown> } | undefined {
  const spec = obj(object['spec']);
  let template: Obj | undefined;
  switch (kind) {
    case 'Pod':
      return { metadata: (obj(object['metadata']) ?? {}) as PodMetadata, spec: spec ?? {} };
    case 'PodTemplate':
      template = obj(object['template']);
      break;
    case 'ReplicationController':
    case 'ReplicaSet':
    case 'Deployment':
    case 'DaemonSet':
    case 'StatefulSet':
    case 'Job':
      template = obj(spec?.['template']);
      break;
    case 'CronJob':
      template = obj(obj(obj(spec?.['jobTemplate'])?.['spec'])?.['template']);
      break;
    default:
      return undefined;
  }
  if (!template) return undefined;
  return { metadata: (obj(template['metadata']) ?? {}) as PodMetadata, spec: obj(template['spec']) ?? {} };
}

export type AdmissionResult =
  | { allowed: true; warnings: string[] }
  /** `message` is what follows `pods "<name>" is forbidden: `. */
  | { allowed: false; message: string };

/**
 * Admits a create of `kind` in a namespace with `labels`: a Pod is held to enforce (and warned for
 * warn), a pod controller only warned, anything else passes. An object without a pod template passes.
 */
export function admit(
  kind: string,
  object: Record<string, unknown>,
  labels: Readonly<Record<string, string>> | undefined,
): AdmissionResult {
  const pod = podTemplateOf(kind, object);
  if (!pod) return { allowed: true, warnings: [] };
  const { policy } = namespacePolicy(labels);
  if (kind === 'Pod') {
    const violations = podViolations(policy.enforce, pod.metadata, pod.spec);
    if (violations.length > 0) {
      return {
        allowed: false,
        message: `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${forbiddenDetail(violations)}`,
      };
    }
  }
  const warn = podViolations(policy.warn, pod.metadata, pod.spec);
  return {
    allowed: true,
    warnings:
      warn.length > 0
        ? [
            `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.warn))}: ${forbiddenDetail(warn)}`,
          ]
        : [],
  };
}
