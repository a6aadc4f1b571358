// Filtering of build and run logs before a model reads them. A failed build log is mostly noise
// (package managers, compiler command lines, progress) and, after the real error, a cascade of
// consequences (hundreds of further compiler errors, `make: *** … Error 2` from every directory,
// Kaniko's "error building image"). What the model needs is the root cause and a little of what led
// to it. The filter ranks lines instead of only matching them: it finds the root-cause candidates
// (the first error of each kind), keeps the best one with context whatever follows it, keeps the
// last failing line, collapses cascades into counts, and adds only a small share of tail. The
// result never exceeds its token budget, omission marks included.

/** Lines that never help a model: package managers, downloads, progress, Kaniko and CMake routine. */
export const NOISE_PATTERNS: readonly RegExp[] = [
  // apt and dpkg
  /^(Get|Hit|Ign):\d+\s/,
  /^Fetched [\d.,]+ [kMG]?B in /,
  /^(Reading package lists|Building dependency tree|Reading state information)\.\.\./,
  /^\(Reading database \.\.\./,
  /^Selecting previously unselected package /,
  /^Preparing to unpack /,
  /^Unpacking /,
  /^Setting up /,
  /^Processing triggers for /,
  /^update-alternatives: /,
  /^invoke-rc\.d: /,
  /^debconf: (delaying|unable to initialize|falling back)/,
  /^(Need to get|After this operation|Updating certificates in|Running hooks in|done\.$)/,
  /^\d+ (upgraded|added), \d+ (newly installed|removed)/,
  /^The following (additional |NEW )?packages (will be|have been) /,
  /^(Suggested|Recommended) packages:$/,
  // package name lists printed under the apt headings above
  /^ {2}[a-z0-9][a-z0-9.+:~-]*( +(\| )?[a-z0-9][a-z0-9.+:~-]*)* *$/,
  // pip and conda
  /^\s*(Collecting|Downloading|Using cached|Requirement already satisfied|Obtaining|Saved) /,
  // progress bars and percentage-only lines (curl's meter, wget's dots, pip's bars)
  /^\s*%\s+Total\s+%\s+Received/,
  /^\s+Dload\s+Upload/,
  /^\s*\d{1,3}(\.\d+)?%(\s|$)/,
  /^\s*\d{1,3}\s+[\d.]+[kMG]?\s+\d{1,3}\s+[\d.]+[kMG]?\s+\d+\s+\d+\s+[\d.]+[kMG]?\s+\d+\s+[-\d:]+/,
  /^\s*\d+K( \.{10}){1,}/,
  /[━█▇▆▅▄▃▂▁=#>-]{10,}.*\d+%/,
  // Kaniko's routine INFO lines (keeps the RUN/ENV/WORKDIR lines that say which step ran)
  /^INFO\[\d+\] (Retrieving image|Returning cached image|Built cross stage deps|Executing \d+ build triggers|Building stage|Unpacking rootfs|Taking snapshot|Checking for cached layer|No cached layer found|Using caching version|Found cached layer|Pushing layer|Pushed layer|Pushing image|Pushed |Initializing snapshotter|Resolved base name|Using dockerignore|Skipping unpacking|Saving file|Deleting filesystem|Cmd: |Args: |Util\.Lookup|Running: \[|Changed working directory|Creating directory|Ignoring socket|Setting up|Image manifest|Retrieving image manifest|Storing source image|Applying label|Adding exposed port|No files changed in this command|Skipping push to container registry)/,
  /^(time="[^"]*" )?level=info msg="(Retrieving image|Taking snapshot|Unpacking rootfs|Checking for cached layer|Pushing|Pushed|Using caching version|No cached layer found)/,
  // CMake and make routine
  /^\[\s*\d{1,3}%\] (Building|Linking|Built target|Scanning|Generating|Automatic MOC|Automatic UIC)\b/,
  /^-- (The [A-Z+]+ compiler identification|Detecting|Check for working|Looking for|Performing Test|Checking for|Configuring done|Generating done|Build files have been written)/,
  /^make(\[\d+\])?: (Entering|Leaving) directory /,
  /^(\/usr\/bin\/)?cmake (-E cmake_|-P CMakeFiles|-S.* --check-build-system)/,
  /^cd \S+ && \/usr\/bin\/cmake -E cmake_depends /,
  /^make +-f CMakeFiles\//,
  /^Consolidate compiler generated dependencies of target /,
  // autoconf probes
  /^checking (for |whether |if |how |the |build system|host system)/,
];

/**
 * Command lines a build echoes (compilers, archivers, libtool): routine, and never errors themselves
 * even when a file is called error.c. The last one before the root cause is kept as context.
 */
export const COMMAND_PATTERN =
  /^\s*(\+ )?(\S*\/)?((x86_64|aarch64)-linux-gnu-)?(gcc|g\+\+|cc|c\+\+|clang|clang\+\+|mpicc|mpicxx|mpic\+\+|mpiCC|mpif77|mpif90|mpifort|gfortran|icc|icpc|icx|icpx|ifort|ifx|nvcc|nvc|nvc\+\+|hipcc|ar|ranlib|ld|ld\.gold|ld\.lld|strip|libtool|install)(-\d+)?( |$)|^\s*libtool: (compile|link|install): /;

/** Lines that read like errors but are not (notes, warnings, successful probes). */
const NOT_AN_ERROR = [
  /^\S*configure: NOTE: /,
  /\bNOTE: /,
  /: warning: /i,
  /^warning: /i,
  /\b(0|no) errors?\b/i,
  /^-- Found /,
  /^ERROR: Ignored the following (yanked )?versions/,
  /^(checking|-- Looking for|-- Performing Test) .*(no|not found|failed|Failed)$/,
];

/** Kinds of root cause, most specific first; the first line of each kind is a candidate. */
const ROOT_KINDS: readonly { kind: string; pattern: RegExp }[] = [
  {
    kind: 'compiler',
    // gcc and clang (file:line:col: error:), rustc (error[E0308]:), Go (file.go:line:col: …), tsc
    pattern:
      /^\S+?:\d+(:\d+)?: (fatal )?error: |^(\S+: )?(fatal )?error: .*(No such file or directory|unknown type name|was not declared|undeclared)|^error\[E\d+\]: |^\S+\.go:\d+:\d+: |^\S+\(\d+,\d+\): error TS\d+: |^The Open MPI wrapper compiler was unable to find/,
  },
  {
    kind: 'cmake',
    pattern: /^CMake Error\b|\bCould NOT find \S+|^\s*Could not find a package configuration file/,
  },
  {
    kind: 'linker',
    pattern: /undefined reference to\b|\bcannot find -l\S+|\bld(\.\w+)?: cannot find\b|undefined symbol: /,
  },
  { kind: 'apt', pattern: /^E: (?!Sub-process|Failed to fetch .*\bIgnore)/ },
  {
    kind: 'pip',
    pattern:
      /^ERROR: (Could not find a version|No matching distribution|Could not install|Invalid requirement|Cannot install|ResolutionImpossible)|^ModuleNotFoundError: /,
  },
  {
    kind: 'python',
    pattern: /^([A-Za-z_][\w.]*)?(Error|Exception)(: .*)?$|^\w+(\.\w+)*(Error|Exception|Exit): /,
  },
  {
    kind: 'git',
    pattern:
      /^(fatal|error): (unable to access|repository .* not found|could not read|Remote branch|destination path|couldn't find remote ref|not a git repository)/i,
  },
  {
    kind: 'mpi',
    pattern:
      /There (are|were) not enough slots|MPI_ABORT was invoked|mpirun (noticed|has exited|was unable|detected)|MPI_Init\w* failed|(PMIx?|ORTE|PRTE)\S* (was unable|has lost|failed)|prterun (was unable|noticed|has exited)|Primary job +terminated normally, but|An MPI communication peer process has unexpectedly disconnected|ompi_mpi_init: /,
  },
  { kind: 'missing-file', pattern: /\bNo such file or directory\b/ },
  {
    kind: 'runtime',
    pattern:
      /^terminate called after throwing|^\S+: .*Assertion .* failed\.$|^Fatal error in \w+: |^forrtl: severe /,
  },
  // A program's own message (an MPI rank, a solver) that says ERROR: or FATAL: in capitals.
  { kind: 'program', pattern: /(^|\s|: )(ERROR|FATAL)(: | - )/ },
  {
    kind: 'shell',
    pattern:
      /: (command )?not found$|: Permission denied$|\bPermission denied\b|\bSegmentation fault\b|\bcore dumped\b|^Killed$|\bOut of memory\b|\bOOMKilled\b|^panic: |\bAborted\b/,
  },
];

/** Consequences of an earlier failure: collapsed into a count, the last one kept. */
const CASCADE_PATTERNS: readonly RegExp[] = [
  /^(g?make|ninja)(\[\d+\])?: \*\*\* /,
  /^ninja: build stopped/,
  /\bcollect2: error: ld returned\b/,
  /^compilation terminated\.$/,
  /\berror building image\b/,
  /\breturned a non-zero code\b/,
  /^error: command '.*' failed with exit code/,
  /^error: subprocess-exited-with-error$/,
  /^ERROR: (Failed building wheel|Could not build wheels|Failed to build)\b/,
  /^note: This error originates from a subprocess/,
  /^(exit code|Exit code|exit status): ?\d+$/,
  /^Error: Process completed with exit code/,
  /^Makefile:\d+: recipe for target .* failed$/,
];

/** Lines that signal an error of some kind; matched after the kinds above, as a fallback. */
export const ERROR_PATTERNS: readonly RegExp[] = [
  /\b(error|errors|fatal|failed|failure|fail|cannot|can't|could not|couldn't|unable to)\b/i,
  /\bundefined (reference|symbol)\b/i,
  /\bno such file\b/i,
  /\bnot found\b/i,
  /\bpermission denied\b/i,
  /\bexit (code|status)\b/i,
  /\breturned a non-zero\b/i,
  /\bkilled\b/i,
  /\bsegmentation fault\b/i,
  /\bcore dumped\b/i,
  /\bout of memory\b|\boom/i,
  /\btraceback\b|\bexception\b|\bpanic:/i,
  /\babort(ed)?\b/i,
  /\bno rule to make target\b/i,
  /\bunmet dependencies\b/i,
  /\b(denied|refused|timed out|invalid)\b/i,
  /^E: /,
  /\*\*\*/,
];

export interface LogFilterOptions {
  /** Most tokens the filtered log may take, omission marks included (default 4,000). */
  budgetTokens?: number;
  /** Characters per token for the estimate (default 4). */
  charsPerToken?: number;
  /** Lines of context kept before and after the root cause (default 3 before, 2 after). */
  context?: number;
  /** Longest line kept whole; longer lines are cut in the middle (default 400 characters). */
  maxLineLength?: number;
  /** The share of the budget the tail of the log may take after the errors (default 0.15; all of it when the log has no error). */
  tailShare?: number;
}

export const DEFAULT_LOG_BUDGET_TOKENS = 4000;
/** The smallest budget a step may set: room for a root cause with a line of context. */
export const MIN_LOG_BUDGET_TOKENS = 200;
const DEFAULT_CHARS_PER_TOKEN = 4;
/** Lines of one kind kept after its first, before the rest of that kind is counted, not shown. */
const EXAMPLES_PER_KIND = 2;
/** How far from the end (in useful lines) the tail may reach. */
const TAIL_WINDOW = 40;

/** A rough token count: characters divided by `charsPerToken`. */
export const estimateTokens = (text: string, charsPerToken = DEFAULT_CHARS_PER_TOKEN) =>
  Math.ceil(text.length / charsPerToken);

// Colours, cursor moves and the like, which terminals draw and models only read as noise.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

/** What a terminal would show of a line: the part after the last carriage return, without escapes. */
function visible(line: string): string {
  const cleaned = line.replace(ANSI, '');
  const parts = cleaned.split('\r').filter((p) => p.trim() !== '');
  return (parts.at(-1) ?? '').trimEnd();
}

export const isNoise = (line: string) => line.trim() === '' || NOISE_PATTERNS.some((p) => p.test(line));
export const isCommand = (line: string) => COMMAND_PATTERN.test(line);
const isCascade = (line: string) => CASCADE_PATTERNS.some((p) => p.test(line));

/** The root-cause kind of a line, or undefined. Commands and notes are never root causes. */
export function rootKind(line: string): string | undefined {
  if (isCommand(line) || NOT_AN_ERROR.some((p) => p.test(line)) || isCascade(line)) return undefined;
  return ROOT_KINDS.find((k) => k.pattern.test(line.trim()))?.kind;
}

/** Whether a line signals an error at all (a root cause, a consequence, or a generic match). */
export function isErrorLine(line: string): boolean {
  if (isCommand(line) || NOT_AN_ERROR.some((p) => p.test(line))) return false;
  return isCascade(line) || rootKind(line) !== undefined || ERROR_PATTERNS.some((p) => p.test(line));
}

type Class = 'root' | 'cascade' | 'error' | 'command' | 'plain';

interface Line {
  /** First and last raw line numbers (repeats of one line are merged). */
  n: number;
  end: number;
  text: string;
  repeats: number;
  cls: Class;
  kind?: string;
}

function classify(text: string): { cls: Class; kind?: string } {
  if (isCommand(text)) return { cls: 'command' };
  if (NOT_AN_ERROR.some((p) => p.test(text))) return { cls: 'plain' };
  if (isCascade(text)) return { cls: 'cascade', kind: 'cascade' };
  const kind = rootKind(text);
  if (kind) return { cls: 'root', kind };
  if (ERROR_PATTERNS.some((p) => p.test(text))) return { cls: 'error', kind: 'error' };
  return { cls: 'plain' };
}

/** The log as the lines a model could use: visible text, noise dropped, repeats merged. */
function usefulLines(text: string): { lines: Line[]; total: number } {
  const lines: Line[] = [];
  const raw = text.replace(/\r\n/g, '\n').split('\n');
  if (raw.at(-1) === '') raw.pop();
  let inTraceback = false;
  raw.forEach((line, n) => {
    const shown = visible(line);
    if (isNoise(shown)) return;
    const last = lines.at(-1);
    if (last && last.text === shown) {
      last.repeats++;
      last.end = n;
      return;
    }
    let { cls, kind } = classify(shown);
    // In a Python traceback only its last line (the exception) is the cause; frames are context.
    if (/^Traceback \(most recent call last\):/.test(shown)) {
      inTraceback = true;
      cls = 'plain';
      kind = undefined;
    } else if (inTraceback && /^\s/.test(line)) {
      cls = 'plain';
      kind = undefined;
    } else if (inTraceback) {
      inTraceback = false;
      if (cls !== 'root') {
        cls = 'root';
        kind = 'python';
      }
    }
    lines.push({ n, end: n, text: shown, repeats: 1, cls, ...(kind ? { kind } : {}) });
  });
  return { lines, total: raw.length };
}

/** The index of the best root cause: the first line of a root kind, else the first error-like line. */
function bestRootIndex(lines: Line[]): number | undefined {
  const first = (cls: Class) => {
    const i = lines.findIndex((l) => l.cls === cls);
    return i < 0 ? undefined : i;
  };
  return first('root') ?? first('error') ?? first('cascade');
}

const cut = (line: string, max: number) =>
  line.length <= max ? line : `${line.slice(0, Math.max(0, max - 60))} … ${line.slice(-50)}`;

/**
 * The best root-cause line of a log (for a step's status message and the first line of the debug
 * prompt), or undefined when nothing in it reads like an error.
 */
export function rootCause(text: string, maxLength = 400): string | undefined {
  const { lines } = usefulLines(text);
  const i = bestRootIndex(lines);
  return i === undefined ? undefined : cut(lines[i]!.text.trim(), maxLength);
}

/**
 * Filters a log for a model, within `budgetTokens` (omission marks included):
 * 1. the best root cause, with the command that produced it and a few lines around it;
 * 2. the last failing line (the end of the cascade: what finally failed);
 * 3. the first line of every other kind of root cause;
 * 4. a couple more lines of each kind, the rest of each cascade counted in the omission marks;
 * 5. the tail of the log, up to a small share of the budget.
 * Nothing is added once the budget is reached, and nothing pads the output to it.
 */
export function filterLog(text: string, options: LogFilterOptions = {}): string {
  const charsPerToken = options.charsPerToken ?? DEFAULT_CHARS_PER_TOKEN;
  const budgetChars = (options.budgetTokens ?? DEFAULT_LOG_BUDGET_TOKENS) * charsPerToken;
  const before = options.context ?? 3;
  const after = Math.min(options.context ?? 2, 2);
  const maxLine = options.maxLineLength ?? 400;
  const { lines, total } = usefulLines(text);
  if (lines.length === 0) return total > 0 ? omittedMark(total, 0) : '';

  const render = (i: number, max = maxLine) => {
    const line = lines[i]!;
    const body = cut(line.text, max);
    return line.repeats > 1 ? `${body} (×${line.repeats})` : body;
  };
  const keep = new Set<number>();
  const output = () => assemble(lines, keep, total, render);
  /** Adds lines if the whole output still fits; returns whether it did. */
  const tryAdd = (indices: number[]) => {
    const added = indices.filter((i) => i >= 0 && i < lines.length && !keep.has(i));
    if (added.length === 0) return true;
    for (const i of added) keep.add(i);
    if (output().length <= budgetChars) return true;
    for (const i of added) keep.delete(i);
    return false;
  };

  // 1. The root cause, its command and context, shrinking the context until it fits.
  const root = bestRootIndex(lines);
  // With no error to show (a hang, a timeout), the latest lines are all there is: they get it all.
  const tailChars = root === undefined ? budgetChars : budgetChars * (options.tailShare ?? 0.15);
  if (root !== undefined) {
    let command = -1;
    for (let i = root - 1; i >= 0 && i >= root - 50; i--) {
      if (lines[i]!.cls === 'command') {
        command = i;
        break;
      }
    }
    // b lines before and a after, commands not counted (only the one that failed is shown).
    const around = (b: number, a: number) => {
      const out: number[] = [root];
      for (let i = root - 1, n = 0; i >= 0 && n < b; i--) {
        if (lines[i]!.cls === 'command') continue;
        out.push(i);
        n++;
      }
      for (let i = root + 1, n = 0; i < lines.length && n < a; i++) {
        if (lines[i]!.cls === 'command') continue;
        out.push(i);
        n++;
      }
      return out;
    };
    if (!tryAdd([...around(before, after), command]) && !tryAdd(around(1, 1)) && !tryAdd([root])) {
      // Not even the line fits whole: cut it to the budget.
      const marks = omittedMark(total, 0).length * 2 + 2;
      const room = Math.max(20, budgetChars - marks);
      return assemble(lines, new Set([root]), total, (i) => render(i, room)).slice(0, budgetChars);
    }
  }

  // 2. The last failing line: where the cascade ends.
  let lastFailure = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.cls !== 'plain' && lines[i]!.cls !== 'command') {
      lastFailure = i;
      break;
    }
  }
  if (lastFailure >= 0) tryAdd([lastFailure]);

  // 3. The first line of every other kind, with the line before it.
  const seenKinds = new Set<string>(root !== undefined && lines[root]!.kind ? [lines[root]!.kind!] : []);
  const perKind = new Map<string, number>();
  lines.forEach((line, i) => {
    if (line.cls !== 'root' || !line.kind || seenKinds.has(line.kind)) return;
    seenKinds.add(line.kind);
    const previous = i > 0 && lines[i - 1]!.cls === 'plain' ? [i - 1] : [];
    if (!tryAdd([...previous, i])) tryAdd([i]);
  });

  // 4. A few more lines of each kind (error lines and cascades); the rest shows only as a count.
  for (const [i, line] of lines.entries()) {
    if (line.cls === 'plain' || line.cls === 'command' || keep.has(i)) continue;
    const kind = line.kind ?? line.cls;
    const count = perKind.get(kind) ?? 0;
    if (count >= EXAMPLES_PER_KIND) continue;
    perKind.set(kind, count + 1);
    tryAdd([i]);
  }

  // 5. The tail: the latest state, up to a small share of the budget.
  // It runs back from the end to the previous kept line or error (past the last failing line);
  // commands and the cascade's lines are skipped, as the marks count them already.
  let tailUsed = 0;
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - TAIL_WINDOW); i--) {
    if (keep.has(i)) {
      if (i === lastFailure) continue;
      break;
    }
    const cls = lines[i]!.cls;
    if (cls === 'command' || cls === 'cascade') continue;
    // Errors belong to the sections above: the tail does not reach into a run of them.
    if (root !== undefined && cls !== 'plain') break;
    const cost = render(i).length + 1;
    if (tailUsed + cost > tailChars || !tryAdd([i])) break;
    tailUsed += cost;
  }
  return output();
}

function omittedMark(n: number, errors: number): string {
  const lines = `${n} line${n === 1 ? '' : 's'} omitted`;
  return errors > 0 ? `… ${lines}, ${errors} of them error lines …` : `… ${lines} …`;
}

/** Renders the kept lines in log order with a mark for each gap (and how many errors it holds). */
function assemble(lines: Line[], keep: Set<number>, total: number, render: (i: number) => string): string {
  const out: string[] = [];
  const sorted = [...keep].sort((a, b) => a - b);
  let previousEnd = -1;
  let cursor = 0;
  for (const i of sorted) {
    const gap = lines[i]!.n - previousEnd - 1;
    if (gap > 0) {
      let errors = 0;
      for (; cursor < i; cursor++) {
        const l = lines[cursor]!;
        if (l.cls === 'root' || l.cls === 'cascade' || l.cls === 'error') errors += l.repeats;
      }
      out.push(omittedMark(gap, errors));
    }
    cursor = i + 1;
    out.push(render(i));
    previousEnd = lines[i]!.end;
  }
  const trailing = total - 1 - previousEnd;
  if (trailing > 0) {
    let errors = 0;
    for (; cursor < lines.length; cursor++) {
      const l = lines[cursor]!;
      if (l.cls === 'root' || l.cls === 'cascade' || l.cls === 'error') errors += l.repeats;
    }
    out.push(omittedMark(trailing, errors));
  }
  return out.join('\n');
}
