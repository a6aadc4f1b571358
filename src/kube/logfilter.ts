// Filtering of build and run logs before a model reads them. A build log is mostly package-manager
// and progress noise (hundreds of thousands of tokens); what matters is the error and a little of what
// led to it. The filter drops known noise, keeps every line that signals an error with some context,
// and fills what is left of a token budget with the tail of the log.

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

/** Lines that signal an error; they are always kept, with context. */
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
  /** Most tokens the filtered log may take (default 4,000). */
  budgetTokens?: number;
  /** Characters per token for the estimate (default 4). */
  charsPerToken?: number;
  /** Lines of context kept before and after each error line (default 2). */
  context?: number;
  /** Longest line kept whole; longer lines are cut in the middle (default 400 characters). */
  maxLineLength?: number;
}

export const DEFAULT_LOG_BUDGET_TOKENS = 4000;
const DEFAULT_CHARS_PER_TOKEN = 4;

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
export const isErrorLine = (line: string) => ERROR_PATTERNS.some((p) => p.test(line));

const cut = (line: string, max: number) =>
  line.length <= max ? line : `${line.slice(0, max - 60)} … ${line.slice(-50)}`;

const omitted = (n: number) => `… ${n} line${n === 1 ? '' : 's'} omitted …`;

/**
 * Filters a log for a model. Noise goes first (an apt line naming `libgpg-error0` is not an error);
 * then every error line is kept with `context` lines around it; then the remaining budget is filled
 * from the end of the log, where the latest state is. Consecutive repeats collapse into one line with
 * a count, and gaps are marked `… N lines omitted …` so the model knows the text is partial. When the
 * error lines alone exceed the budget, the first error block (often the root cause) and the last ones
 * are kept.
 */
export function filterLog(text: string, options: LogFilterOptions = {}): string {
  const budgetChars =
    (options.budgetTokens ?? DEFAULT_LOG_BUDGET_TOKENS) * (options.charsPerToken ?? DEFAULT_CHARS_PER_TOKEN);
  const context = options.context ?? 2;
  const maxLine = options.maxLineLength ?? 400;

  // Lines a model could use, with their original line numbers for the omission marks.
  const lines: { n: number; end: number; text: string; repeats: number }[] = [];
  const raw = text.replace(/\r\n/g, '\n').split('\n');
  if (raw.at(-1) === '') raw.pop();
  raw.forEach((line, n) => {
    const shown = visible(line);
    if (isNoise(shown)) return;
    const last = lines.at(-1);
    if (last && last.text === shown) {
      last.repeats++;
      last.end = n;
      return;
    }
    lines.push({ n, end: n, text: shown, repeats: 1 });
  });

  const render = (i: number) => {
    const line = lines[i]!;
    const body = cut(line.text, maxLine);
    return line.repeats > 1 ? `${body} (×${line.repeats})` : body;
  };
  const cost = (i: number) => render(i).length + 1;

  // Error blocks first, then the tail.
  const keep = new Set<number>();
  let used = 0;
  const take = (i: number) => {
    if (keep.has(i)) return true;
    if (used + cost(i) > budgetChars) return false;
    keep.add(i);
    used += cost(i);
    return true;
  };
  const errorLines = new Set<number>();
  let firstBlock: number[] = [];
  lines.forEach((line, i) => {
    if (!isErrorLine(line.text)) return;
    const from = Math.max(0, i - context);
    const to = Math.min(lines.length - 1, i + context);
    if (errorLines.size === 0) firstBlock = Array.from({ length: to - from + 1 }, (_, k) => from + k);
    for (let j = from; j <= to; j++) errorLines.add(j);
  });
  for (const i of firstBlock) take(i);
  const rest = [...errorLines].sort((a, b) => b - a);
  for (const i of rest) {
    if (!take(i)) break;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!take(i)) break;
  }

  const out: string[] = [];
  let previous = -1;
  const sorted = [...keep].sort((a, b) => a - b);
  for (const i of sorted) {
    const gap = lines[i]!.n - (previous >= 0 ? lines[previous]!.end : -1) - 1;
    if (gap > 0) out.push(omitted(gap));
    out.push(render(i));
    previous = i;
  }
  const trailing = raw.length - 1 - (previous >= 0 ? lines[previous]!.end : -1);
  if (trailing > 0) out.push(omitted(trailing));
  return out.join('\n');
}
