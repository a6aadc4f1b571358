import { describe, expect, it } from 'vitest';
import { createLogger } from '../runtime/logger.ts';
import { diagnosticsBundle } from './diagnostics.ts';
import { REDACTED, SecretRedactor, secretForms } from './redact.ts';

const VALUE = 'v3ry-secret-value-1234';
const b64 = (text: string) => Buffer.from(text).toString('base64');

function redactor(...values: string[]): SecretRedactor {
  const r = new SecretRedactor();
  for (const value of values) r.add(value);
  return r;
}

describe('known values', () => {
  it.each([
    { name: 'as written', text: `error: key ${VALUE} refused`, want: `error: key ${REDACTED} refused` },
    { name: 'base64', text: `token ${b64(VALUE)}`, want: `token ${REDACTED}` },
    {
      name: 'base64 without padding',
      text: `x=${b64(VALUE).replace(/=+$/, '')}.`,
      want: `x=${REDACTED}.`,
    },
    { name: 'URL-encoded', text: `?k=${encodeURIComponent('a b/c+d-secret')}`, want: `?k=${REDACTED}` },
    { name: 'twice on a line', text: `${VALUE} and ${VALUE}`, want: `${REDACTED} and ${REDACTED}` },
    { name: 'inside a word', text: `prefix${VALUE}suffix`, want: `prefix${REDACTED}suffix` },
  ])('$name', ({ text, want }) => {
    expect(redactor(VALUE, 'a b/c+d-secret').redact(text)).toBe(want);
  });

  it('ignores values too short to be secrets, and blank ones', () => {
    const r = redactor('short', '   ', '');
    expect(r.size).toBe(0);
    expect(r.redact('a short line')).toBe('a short line');
  });

  it('trims what it is given (a key read from a file ends with a newline)', () => {
    expect(redactor(`${VALUE}\n`).redact(`key=${VALUE}`)).toBe(`key=${REDACTED}`);
  });

  it('replaces the longest form first, so no part of a longer one is left', () => {
    const inner = 'abcdefgh12';
    const outer = `${inner}-and-more`;
    expect(redactor(inner, outer).redact(`<${outer}>`)).toBe(`<${REDACTED}>`);
  });

  it('lists the forms it looks for', () => {
    expect(secretForms('p@ss word!')).toEqual(
      expect.arrayContaining(['p@ss word!', b64('p@ss word!'), 'p%40ss%20word!']),
    );
  });
});

describe('credential shapes', () => {
  const r = new SecretRedactor();
  it.each([
    {
      name: 'a docker config',
      text: '{"auths":{"r:5000":{"username":"robot","password":"hunter2hunter2","auth":"cm9ib3Q6aHVudGVyMg=="}}}',
      want: `{"auths":{"r:5000":{"username":"robot","password":"${REDACTED}","auth":"${REDACTED}"}}}`,
    },
    {
      name: 'a docker config, pretty',
      text: '  "auth": "cm9ib3Q6aHVudGVyMg==",\n  "identitytoken": "eyJhbGciOi"',
      want: `  "auth": "${REDACTED}",\n  "identitytoken": "${REDACTED}"`,
    },
    {
      name: 'an Authorization header',
      text: '> Authorization: Basic cm9ib3Q6aHVudGVyMg==\n> Accept: */*',
      want: `> Authorization: Basic ${REDACTED}\n> Accept: */*`,
    },
    {
      name: 'a bearer token',
      text: 'authorization=Bearer abc.def.ghi;',
      want: `authorization=Bearer ${REDACTED};`,
    },
    { name: 'the Gemini header', text: 'x-goog-api-key: abcdefgh', want: `x-goog-api-key: ${REDACTED}` },
    {
      name: 'a URL password',
      text: 'git clone https://robot:hunter2@github.com/x/y.git',
      want: `git clone https://robot:${REDACTED}@github.com/x/y.git`,
    },
    {
      name: 'printenv',
      text: 'HOME=/root\nGEMINI_API_KEY=xyz\nREGISTRY_PASSWORD=p4ss\nGITHUB_TOKEN=ghp_1\nAWS_SECRET_ACCESS_KEY=k',
      want: `HOME=/root\nGEMINI_API_KEY=${REDACTED}\nREGISTRY_PASSWORD=${REDACTED}\nGITHUB_TOKEN=${REDACTED}\nAWS_SECRET_ACCESS_KEY=${REDACTED}`,
    },
    {
      name: 'a Google API key',
      text: 'using key AIzaSyA1234567890abcdefghijklmnopqrstuv',
      want: `using key ${REDACTED}`,
    },
  ])('$name', ({ text, want }) => {
    expect(r.redact(text)).toBe(want);
  });

  it.each([
    'LAMMPS (2 Aug 2023)\nLoop time of 2.1 on 4 procs for 100 steps with 2432 atoms',
    "fatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed",
    'the log was cut to a budget of 2000 tokens',
    'Authorization failed for the registry',
    'ERROR: Cannot open input script in.reaxff: No such file or directory',
    'volumes: [{name: creds, secret: {secretName: registry-push}}]',
    '-- Found MPI_CXX: /usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi_cxx.so (found version "3.1")',
  ])('leaves ordinary text alone: %s', (text) => {
    expect(r.redact(text)).toBe(text);
  });

  it('does not redact a value twice', () => {
    expect(redactor('xyz-secret-1').redact('GEMINI_API_KEY=xyz-secret-1')).toBe(`GEMINI_API_KEY=${REDACTED}`);
  });
});

describe('where the operator redacts', () => {
  it('every log line: messages, fields and error stacks', () => {
    const lines: string[] = [];
    const r = redactor(VALUE);
    const logger = createLogger({
      level: 'debug',
      pretty: false,
      destination: { write: (line: string) => lines.push(line) },
      redactor: r,
    });
    logger.debug({ detail: `the key ${VALUE}` }, `Step failed: refused key ${VALUE}`);
    logger.warn({ err: new Error(`bad key ${VALUE}`) }, 'Reconcile failed; will retry');
    logger.info({ env: 'REGISTRY_PASSWORD=hunter2hunter2' }, 'Printed');
    expect(lines).toHaveLength(3);
    expect(lines.join('')).not.toContain(VALUE);
    expect(lines.join('')).not.toContain('hunter2hunter2');
    expect(lines[0]).toContain(`refused key ${REDACTED}`);
  });

  it('the pretty log too', () => {
    let out = '';
    const logger = createLogger({
      pretty: true,
      destination: { write: (chunk: string) => (out += chunk) } as never,
      redactor: redactor(VALUE),
    });
    logger.info(`key ${VALUE}`);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(VALUE);
  });

  it('diagnostics: termination messages and events quote pod output', () => {
    const text = diagnosticsBundle({
      pods: [
        {
          metadata: { name: 'run-1-abcde' },
          status: {
            phase: 'Failed',
            containerStatuses: [
              {
                name: 'main',
                state: {
                  terminated: { exitCode: 1, reason: 'Error', message: 'REGISTRY_PASSWORD=hunter2hunter2' },
                },
              },
            ],
          },
        },
      ],
      events: [
        {
          type: 'Warning',
          reason: 'Failed',
          message: 'pulling https://robot:hunter2hunter2@registry/x failed',
          involvedObject: { kind: 'Pod', name: 'run-1-abcde' },
        },
      ],
      log: 'GITHUB_TOKEN=ghp_abcdefgh\n',
    });
    expect(text).not.toContain('hunter2hunter2');
    expect(text).not.toContain('ghp_abcdefgh');
    expect(text).toContain(`REGISTRY_PASSWORD=${REDACTED}`);
  });
});
