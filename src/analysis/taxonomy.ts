// A deterministic failure taxonomy: why one failed attempt failed, as one of a few categories a
// researcher can count across many plans ("why does it always forget ca-certificates?"), with the one
// line that decided. Pure and table-driven: rules on the attempt's end reason first, then one ordered
// table of line rules over its diagnostics, message and log.
//
// The order of the line rules is the whole design: it says which of several errors is the root cause
// and which are consequences.
//  1. What the platform decided (an image that cannot be pulled, an OOM kill, a Pod Security or
//     admission refusal): nothing the log says afterwards matters. An image pull is an image pull
//     whatever transport error the kubelet quotes (a DNS failure, an x509 error).
//  2. TLS before network: a certificate failure is reported as "unable to access" or a failed fetch.
//  3. Launch failures (the launcher's or the container runtime's "cannot execute that program") and
//     launcher errors (Open MPI, PMIx, a Flux broker) before network: a broker that cannot reach its
//     peers is the launcher's failure, and these lines never quote a build's download.
//  4. Network before missing packages: a failed download ends in "Unable to locate package" or "No
//     matching distribution", which are consequences.
//  5. Missing packages, then missing headers or libraries, then link errors, then compile errors: each
//     causes the ones after it (a missing header is also a compiler "error:"). `cannot find -lfoo` is
//     a missing library, not a link error; `undefined reference` is a link error. Link errors come
//     before compile errors because an undefined reference is never the consequence of a compile
//     error (an object that does not compile is never linked).
//  6. Compile errors before "command not found" and missing files: a binary that never built is then
//     not found.
//  7. A run's time limit: any specific error before it (a program that could not start and left the
//     job hanging) is the better cause. (The DeadlineExceeded reason still decides first.)
//  8. Any other line that reads like a root cause (a segfault, a Python exception, Permission denied,
//     via the log filter's root-cause kinds) is `other`, with that line as evidence.
//  9. MPI's reports of a rank that died (MPI_ABORT, "mpirun noticed that process rank 1 ...") come
//     last: they are consequences of what the rank printed, and only decide when nothing else did.
//
// Tie-break: the highest rule (in table order) that matches any line wins; among its matches, the
// first line of the text made of the diagnostics, then the message, then the log, in that order.
// Lines are compared as a terminal shows them (escape codes removed, the part after the last carriage
// return), trimmed. The patterns are specific enough not to fire on echoed command lines (which the
// log filter's root-cause kinds skip by themselves); `nvcc fatal : …` reads like a command to the log
// filter, so commands are not skipped here. Only the first 2,000 characters of a line are matched,
// and no pattern has an unanchored, unbounded `.*` before a literal, so none backtracks more than
// linearly.
import { rootKind } from '../kube/logfilter.ts';

export interface FailureEvidence {
  /** The attempt's end reason in CamelCase, from the step's history: BuildFailed, ImagePullBackOff, ErrImagePull, ErrImageNeverPull, PolicyRefused, InvalidArtifact, DeadlineExceeded, OOMKilled, PodSecurityRefused, RunFailed, CrashLoopBackOff, Timeout, ... (may be anything) */
  reason?: string;
  /** The error in short (≤ 2000 chars). */
  message?: string;
  /** The failure context the operator kept: filtered log lines, pod events ("Warning Failed ... kubelet ..."), etc. */
  diagnostics?: string;
  /** The log tail. */
  log?: string;
}

export const FAILURE_CATEGORIES = [
  'tls',
  'network',
  'missing-package',
  'missing-header-or-library',
  'compile-error',
  'link-error',
  'missing-file',
  'wrong-command',
  'mpi',
  'image-pull',
  'oom',
  'deadline',
  'policy',
  'unparsable-artifact',
  'other',
] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export const CATEGORY_LABELS: Record<FailureCategory, string> = {
  tls: 'TLS / CA certificates',
  network: 'Network / DNS',
  'missing-package': 'Missing package',
  'missing-header-or-library': 'Missing header or library',
  'compile-error': 'Compile error',
  'link-error': 'Link error',
  'missing-file': 'Wrong path or missing file',
  'wrong-command': 'Wrong command or entrypoint',
  mpi: 'MPI / launcher',
  'image-pull': 'Image pull',
  oom: 'Out of memory',
  deadline: 'Deadline',
  policy: 'Policy refusal',
  'unparsable-artifact': 'Unparsable artifact',
  other: 'Other',
};

export interface Classification {
  category: FailureCategory;
  /** The one line (trimmed, ≤ 300 chars) that decided, or the reason/message when no line did. */
  evidence: string;
  /** A short id of the rule that fired, for tests and docs. */
  rule: string;
}

interface Rule {
  id: string;
  category: FailureCategory;
  match: RegExp | ((line: string) => boolean);
}

/** End reasons that say what happened without any text (matched whole, case-insensitively). */
const REASON_RULES: readonly Rule[] = [
  {
    id: 'reason-image-pull',
    category: 'image-pull',
    match: /^(ImagePullFailed|ImagePullBackOff|ErrImagePull|ErrImageNeverPull|InvalidImageName)$/i,
  },
  { id: 'reason-oom', category: 'oom', match: /^OOMKilled$/i },
  { id: 'reason-deadline', category: 'deadline', match: /^(DeadlineExceeded|Timeout)$/i },
  { id: 'reason-policy', category: 'policy', match: /^(PolicyRefused|PodSecurityRefused)$/i },
  {
    id: 'reason-unparsable-artifact',
    category: 'unparsable-artifact',
    match: /^(InvalidArtifact|Unparse?able\w*)$/i,
  },
];

// Rank-death reports: consequences of what the rank printed (rule 9 above), so kept out of rule 8.
const MPI_CONSEQUENCE =
  /MPI_ABORT was invoked|\bmpirun noticed that\b|\b(mpirun|mpiexec|prterun) detected that one or more processes exited|Primary job +terminated normally|BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES|flux-shell\[\d+\]: FATAL: |exit-timeout=\S+ has expired/;

/** The line rules, highest priority first (the order is explained at the top of this file). */
const LINE_RULES: readonly Rule[] = [
  {
    // kubelet events and waiting reasons; a base image that does not exist in a build
    id: 'image-pull',
    category: 'image-pull',
    match:
      /failed to pull (and unpack )?image|Back-off pulling image|\b(ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName)\b|is not present with pull policy of Never|\bMANIFEST_UNKNOWN\b|manifest unknown|pull access denied/i,
  },
  {
    // the kubelet's verdict, the compiler killed by the OOM killer, allocation failures
    id: 'oom',
    category: 'oom',
    match:
      /\bOOMKilled\b|\boom[-_ ]?kill|Killed signal terminated program|internal compiler error: Killed \(program|std::bad_alloc|^MemoryError\b|\bout of memory\b|Cannot allocate memory|killed for running out of memory/i,
  },
  {
    id: 'policy',
    category: 'policy',
    match: /violates PodSecurity|admission webhook \S+ denied the request|\bexceeded quota\b/i,
  },
  {
    // git (GnuTLS and OpenSSL wordings), curl, wget, pip, Go's x509 errors
    id: 'tls',
    category: 'tls',
    match:
      /server certificate verification failed|SSL certificate problem|certificate[ _]verify[ _]failed|\bx509: |unable to get local issuer certificate|error setting certificate verify locations|Problem with the SSL CA cert|cannot verify \S+ certificate|problem confirming the ssl certificate|SSL module is not available|tls: failed to verify certificate/i,
  },
  {
    // the launcher or the container runtime could not execute the program it was given
    id: 'launch-not-executable',
    category: 'wrong-command',
    match:
      /unable to launch the specified application as it could not access|was unable to find the specified executable file|\bstart failed: \S+: (No such file or directory|Permission denied)|executable file not found in \$PATH|\bexec: \S+ stat \S+ no such file or directory|^exec \S+: no such file or directory$|exec format error/i,
  },
  {
    // Open MPI / PRRTE / PMIx launcher failures, MPICH's Hydra, a Flux broker's errors
    id: 'mpi-launcher',
    category: 'mpi',
    match:
      /There (are|were) not enough slots|\b(mpirun|mpiexec|prterun) (has detected an attempt to run as root|was unable to)|It looks like (MPI_INIT|pmix_init|orte_init|opal_init|ompi_mpi_init) failed|MPI_Init\w* failed|\bPMIX ERROR: |\bPRRTE ERROR: |ORTE_ERROR_LOG|\bORTE was unable to|An ORTE daemon has unexpectedly failed|\borted\b.{0,200}\b(error|failed|unable)\b|\bHYDU_\w+|\bbroker\.(err|crit|alert|emerg)\[\d+\]: /,
  },
  {
    id: 'network',
    category: 'network',
    match:
      /Could not resolve (host\b|'[^']*')|Temporary failure (in name resolution|resolving)|Name or service not known|No address associated with hostname|\bno such host\b|\bgetaddrinfo\b.{0,200}\b(failed|ENOTFOUND|EAI_AGAIN)\b|Failed to establish a new connection|\bConnection (timed out|refused)\b|Network is unreachable|No route to host|\bRead timed out\b|\bi\/o timeout\b|Failed to connect to \S+ port|\bCould not connect to\b/i,
  },
  {
    // apt, pip and Python imports, spack (unknown package, concretization), conda, dnf, apk, npm, cargo
    id: 'missing-package',
    category: 'missing-package',
    match:
      /^E: (Unable to locate package|Package '[^']+' has no installation candidate|Version '[^']+' for '[^']+' was not found|Couldn't find any package by)|No matching distribution found for|Could not find a version that satisfies the requirement|^(ModuleNotFoundError|ImportError): No module named|Error: Package '?[\w.+-]+'? not found|\bUnknownPackageError\b|concretization failed|errors occurred during concretization|unsatisfiable \w+ constraint|\bPackagesNotFoundError\b|Unable to find a match: |\(no such package\)|npm ERR! 404|no matching package named/,
  },
  {
    // gcc/clang/nvcc/gfortran headers and modules, CMake's find_package, pkg-config, the linker's
    // `cannot find -lfoo`, the dynamic loader
    id: 'missing-header-or-library',
    category: 'missing-header-or-library',
    match:
      /fatal error: \S+\.(h|hh|hpp|hxx|H|cuh|inc|mod): No such file or directory|fatal error: '[^']+' file not found|Cannot open module file|CMake Error at \S+ \(find_package\)|Could NOT find \S+|Could not find a package configuration file|\bcannot find -l\S+|\bld(\.\w+)?: cannot find \S*lib|error while loading shared libraries|cannot open shared object file|was not found in the pkg-config search path|No package '[^']+' found|Package '[^']+', required by '[^']*', not found/,
  },
  {
    id: 'link-error',
    category: 'link-error',
    match: /undefined reference to\b|\bundefined symbol: |multiple definition of\b/,
  },
  {
    // gcc/clang (file:line[:col]: error:), nvcc (file(line): error:), tsc (file(l,c): error TS…),
    // nvcc fatal, gfortran (Error: … at (1)), rustc (error[E…]), Go (file.go:line:col: …).
    // The file name must start a word and holds no colon or parenthesis, which keeps this linear.
    id: 'compile-error',
    category: 'compile-error',
    match:
      /(^|\s)[^\s:()]+((:\d+){1,2}: (fatal )?error: |\(\d+(,\d+)?\): error( TS\d+)?: )|\bnvcc fatal\s*: |^Error: .* at \(\d+\)|^error\[E\d+\]: |^error: could not compile |(^|\s)[^\s:()]+\.go:\d+:\d+: /,
  },
  {
    // shells (bash, dash), make without its compiler, MPI wrappers without theirs
    id: 'command-not-found',
    category: 'wrong-command',
    match:
      /\bcommand not found\b|: not found$|^make(\[\d+\])?: \S+: (No such file or directory|Command not found)$|cannot execute binary file|The Open MPI wrapper compiler was unable to find the specified compiler|no acceptable C compiler found|No CMAKE_\w+_COMPILER could be found/i,
  },
  {
    // a path that is not there: the shell, cd, make, Docker's and Kaniko's COPY, CMake, Python
    id: 'missing-file',
    category: 'missing-file',
    match:
      /No such file or directory|can't cd to|COPY failed|failed to get fileinfo for|No rule to make target|no makefile found|\b(file|directory|path)\b.{0,200} does not exist\b|\bcannot stat\b|can't open file|Cannot find source file|\b(cannot|can't|could not|couldn't|unable to|failed to) open\b.{0,100}\bfile\b|\bFileNotFoundError\b/i,
  },
  {
    // the Job's and the pod's active deadline, the operator's wording of it, Flux's time limit
    id: 'deadline',
    category: 'deadline',
    match:
      /active (on the node )?longer than (the )?specified deadline|exceeded its time limit|job\.exception .{0,100}type=timeout/i,
  },
  {
    id: 'other-error-line',
    category: 'other',
    match: (line) => rootKind(line) !== undefined && !MPI_CONSEQUENCE.test(line),
  },
  { id: 'mpi-consequence', category: 'mpi', match: MPI_CONSEQUENCE },
];

const MAX_EVIDENCE = 300;
const MAX_MATCHED = 2000;
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

/** At most 300 characters of a line; a long line is cut around where it matched (`at`). */
function clip(text: string, at = 0): string {
  if (text.length <= MAX_EVIDENCE) return text;
  if (at < MAX_EVIDENCE / 2) return `${text.slice(0, MAX_EVIDENCE - 1).trimEnd()}…`;
  // from the start of a word some 40 characters before the match
  const space = text.lastIndexOf(' ', at - 40);
  const start = Math.min(space > at - 80 ? space + 1 : at - 40, text.length - (MAX_EVIDENCE - 2));
  const end = start + MAX_EVIDENCE - 2;
  return `…${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}

/** A line as a terminal shows it: without escape codes, the part after the last carriage return. */
function visible(line: string): string {
  const parts = line
    .replace(ANSI, '')
    .split('\r')
    .filter((p) => p.trim() !== '');
  return (parts.at(-1) ?? '').trim();
}

/** Where a rule matches a line, or -1. */
const matchAt = (rule: Rule, line: string): number =>
  typeof rule.match === 'function' ? (rule.match(line) ? 0 : -1) : line.search(rule.match);

const firstLine = (text: string | undefined) =>
  text
    ?.split('\n')
    .map(visible)
    .find((l) => l !== '');

/** What to show when no line decided: the reason and the message's first line, else the text's last line. */
function summary(evidence: FailureEvidence, text: string[]): string {
  const said = [evidence.reason?.trim(), firstLine(evidence.message)].filter(Boolean).join(': ');
  if (said) return clip(said);
  const last = text.findLast((l) => l !== '');
  return last ? clip(last) : 'no reason, message or log was recorded';
}

/** The category of one failed attempt, with the line that decided it (see the rule order above). */
export function classifyFailure(evidence: FailureEvidence): Classification {
  const reason = evidence.reason?.trim() ?? '';
  const lines = [evidence.diagnostics, evidence.message, evidence.log]
    .flatMap((text) => (text ? text.split('\n') : []))
    .map(visible);
  for (const rule of REASON_RULES) {
    if (reason && matchAt(rule, reason) >= 0) {
      return { category: rule.category, evidence: summary(evidence, lines), rule: rule.id };
    }
  }
  // One pass: a line is only tested against rules above the best one found so far, so the result
  // is the earliest line of the highest rule that matches anywhere.
  let best: { index: number; line: string; at: number } | undefined;
  for (const line of lines) {
    if (line === '') continue;
    const candidate = line.slice(0, MAX_MATCHED);
    const limit = best?.index ?? LINE_RULES.length;
    for (let index = 0; index < limit; index++) {
      const at = matchAt(LINE_RULES[index]!, candidate);
      if (at >= 0) {
        best = { index, line, at };
        break;
      }
    }
    if (best?.index === 0) break;
  }
  if (best) {
    const rule = LINE_RULES[best.index]!;
    return { category: rule.category, evidence: clip(best.line, best.at), rule: rule.id };
  }
  return { category: 'other', evidence: summary(evidence, lines), rule: 'fallback' };
}

export interface FirstAttempt {
  /** A cell of an experiment (one model, prompt and application, say). */
  group: string;
  repetition: number;
  category: FailureCategory;
}

export interface RepeatedMistake {
  group: string;
  category: FailureCategory;
  /** In how many repetitions of the group the first attempt failed this way. */
  repetitions: number;
  /** The repetitions of the group present in the input. */
  of: number;
}

/**
 * The mistakes a group makes again and again: for each group, the categories its first attempts fell
 * into in at least 2 repetitions. Sorted by repetitions (most first), then category, then group (plain
 * string order), so the output is the same whatever the input order.
 */
export function repeatedMistakes(firstAttempts: readonly FirstAttempt[]): RepeatedMistake[] {
  const groups = new Map<
    string,
    { repetitions: Set<number>; byCategory: Map<FailureCategory, Set<number>> }
  >();
  for (const { group, repetition, category } of firstAttempts) {
    let g = groups.get(group);
    if (!g) {
      g = { repetitions: new Set(), byCategory: new Map() };
      groups.set(group, g);
    }
    g.repetitions.add(repetition);
    let reps = g.byCategory.get(category);
    if (!reps) {
      reps = new Set();
      g.byCategory.set(category, reps);
    }
    reps.add(repetition);
  }
  const out: RepeatedMistake[] = [];
  for (const [group, g] of groups) {
    for (const [category, reps] of g.byCategory) {
      if (reps.size >= 2) out.push({ group, category, repetitions: reps.size, of: g.repetitions.size });
    }
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort(
    (a, b) => b.repetitions - a.repetitions || order(a.category, b.category) || order(a.group, b.group),
  );
}
