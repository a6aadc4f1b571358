// What the model reads when a build fails: for every real failure log in test/fixtures/build-logs
// (and the cascades built from them), the tokens of the raw log, of the filtered failure context, and
// of the whole debug prompt and the regeneration prompt that follows it. Writes
// bench/results/failure-context.json. Token counts are estimates (4 characters a token), as the
// operator's own budget uses; they are counts, not timings, so one run suffices.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnosticsBundle } from '../src/kube/diagnostics.ts';
import { estimateTokens, filterLog, rootCause } from '../src/kube/logfilter.ts';
import { BUILD_RULES, buildRegeneratePrompt } from '../src/prompts/build.ts';
import { debugPrompt } from '../src/prompts/debug.ts';
import { failureCases, readCaseLog, SYNTHETIC_CASCADES } from '../test/fixtures/build-logs/cases.ts';

const DOCKERFILE = `FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git build-essential libopenmpi-dev
RUN git clone --depth 1 https://github.com/hypre-space/hypre.git /opt/hypre && cd /opt/hypre/src && ./configure && make -j4
RUN git clone --depth 1 https://github.com/LLNL/AMG2023.git /opt/AMG2023 && cd /opt/AMG2023 && make HYPRE_DIR=/opt/hypre/src
`;
const ADVICE =
  'The compiler cannot find HYPRE_config.h because HYPRE_DIR points at the hypre sources; point it at the installed tree (HYPRE_DIR=/opt/hypre/src/hypre).';

const failedKanikoPod = {
  metadata: { name: 'amg-build-1-x7k2p', namespace: 'default' },
  status: {
    phase: 'Failed',
    containerStatuses: [
      { name: 'kaniko', state: { terminated: { exitCode: 1, reason: 'Error' } }, restartCount: 0 },
    ],
  },
};

interface Row {
  name: string;
  rawTokens: number;
  contextTokens: number;
  debugPromptTokens: number;
  regeneratePromptTokens: number;
  rootCauseKept: boolean;
  summary: string;
}

const rows: Row[] = [];
const all = [
  ...failureCases().map((c) => ({ name: c.file, log: readCaseLog(c.file), rootCause: c.rootCause })),
  ...SYNTHETIC_CASCADES.map((c) => ({ name: c.name, log: c.log(), rootCause: c.rootCause })),
];
for (const c of all) {
  const context = filterLog(c.log);
  const summary = `the build failed: ${rootCause(c.log) ?? '(no error line)'}`;
  const error = `${summary}\n\n${diagnosticsBundle({ pods: [failedKanikoPod] as never, log: c.log })}`;
  const debug = debugPrompt({
    artifactKind: 'Dockerfile',
    artifactLanguage: 'dockerfile',
    artifact: DOCKERFILE,
    error,
    rules: BUILD_RULES,
    fixed: { application: 'amg2023', environment: 'google cloud CPU instance in Kubernetes' },
    allowReturnToManager: true,
    allowReturnToHuman: false,
  });
  const regenerate = buildRegeneratePrompt({
    application: 'amg2023',
    environment: 'google cloud CPU instance in Kubernetes',
    dockerfile: DOCKERFILE,
    advice: ADVICE,
    avoid: [],
  });
  rows.push({
    name: c.name,
    rawTokens: estimateTokens(c.log),
    contextTokens: estimateTokens(context),
    debugPromptTokens: estimateTokens(debug),
    regeneratePromptTokens: estimateTokens(regenerate),
    rootCauseKept: context.includes(c.rootCause) && summary.includes(c.rootCause),
    summary: summary.slice(0, 100),
  });
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(
  `${'log'.padEnd(44)} ${pad('raw', 7)} ${pad('context', 8)} ${pad('debug', 6)} ${pad('regen', 6)}  root cause kept`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(44)} ${pad(r.rawTokens, 7)} ${pad(r.contextTokens, 8)} ${pad(r.debugPromptTokens, 6)} ${pad(r.regeneratePromptTokens, 6)}  ${r.rootCauseKept ? 'yes' : 'NO'}`,
  );
}
const out = join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'failure-context.json'),
  `${JSON.stringify({ tokensPerChar: 0.25, rows }, null, 2)}\n`,
);
if (rows.some((r) => !r.rootCauseKept)) process.exitCode = 1;
