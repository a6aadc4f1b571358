// Secret values never leave the operator through text it reads from the cluster. Pod logs, events and
// pod statuses are the cluster's text, and the operator stores them (attempt ConfigMaps, status,
// events, results) and sends them to the model (debug and manager prompts): a run that prints its
// environment, or a build whose RUN prints the executor's registry config, would carry a secret into
// all of those. So that text is redacted where it is gathered, and every log line where it is written:
//  - by value: the values of the Secrets the operator itself read (the model's API key), as written,
//    in base64, JSON-escaped and URL-encoded;
//  - by shape, for credentials the operator never reads (the Kaniko push Secret is mounted into the
//    build pod, not read): a docker config's auth/password/identitytoken, an Authorization header, the
//    password of a URL, NAME=value where the name says PASSWORD, TOKEN, SECRET or API_KEY, and Google
//    API keys.
// A value encoded some other way (base64 of a whole file, split across lines) is not found: the
// redaction is a second line of defence, not a reason to give pods secrets they do not need.

export const REDACTED = '[redacted]';
/** Shorter values are not secrets worth the damage of redacting them everywhere they occur. */
export const MIN_SECRET_LENGTH = 8;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a value takes in text: as written, base64 (both alphabets), JSON-escaped, URL-encoded. */
export function secretForms(value: string): string[] {
  const base64 = Buffer.from(value).toString('base64');
  const forms = [
    value,
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
    JSON.stringify(value).slice(1, -1),
    encodeURIComponent(value),
  ];
  return [...new Set(forms)].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/** Credentials recognised by their shape; each keeps its label and replaces the value. */
const SHAPES: { pattern: RegExp; replace: string }[] = [
  // A docker config (config.json, .dockerconfigjson) or any JSON with these fields.
  {
    pattern: /("(?:auth|password|identitytoken|registrytoken)"\s*:\s*")(?:[^"\\]|\\.)*(")/gi,
    replace: `$1${REDACTED}$2`,
  },
  // Authorization and Proxy-Authorization headers, in request dumps and curl -v output.
  {
    pattern:
      /(\b(?:proxy-)?authorization"?\s*[:=]\s*"?(?:basic|bearer|token)?\s*)(?!\[redacted\])[^\s"',;]+/gi,
    replace: `$1${REDACTED}`,
  },
  { pattern: /(\bx-goog-api-key"?\s*[:=]\s*"?)(?!\[redacted\])[^\s"',;]+/gi, replace: `$1${REDACTED}` },
  // https://user:password@host
  { pattern: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+(@)/gi, replace: `$1${REDACTED}$2` },
  // printenv and `export` output: GEMINI_API_KEY=..., REGISTRY_PASSWORD=..., GITHUB_TOKEN=...
  {
    pattern:
      /\b([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=)(?!\[redacted\])\S+/g,
    replace: `$1${REDACTED}`,
  },
  // Google API keys.
  { pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: REDACTED },
];

/**
 * Redacts known secret values and credential shapes from text. Values are added as the operator
 * reads them; a value once added stays for the life of the process (a rotated key's old value is
 * still a secret).
 */
export class SecretRedactor {
  readonly #forms = new Set<string>();
  #pattern: RegExp | undefined;

  /** Adds a secret value (trimmed; shorter than MIN_SECRET_LENGTH is ignored). */
  add(value: string | undefined): void {
    const trimmed = value?.trim();
    if (!trimmed || trimmed.length < MIN_SECRET_LENGTH) return;
    const before = this.#forms.size;
    for (const form of secretForms(trimmed)) this.#forms.add(form);
    if (this.#forms.size !== before) this.#pattern = undefined;
  }

  /** How many forms of known values are redacted (for tests). */
  get size(): number {
    return this.#forms.size;
  }

  /** The text without known values (replaced by [redacted]) and without recognised credentials. */
  redact(text: string): string;
  redact(text: string | undefined): string | undefined;
  redact(text: string | undefined): string | undefined {
    if (!text) return text;
    let out = this.redactValues(text);
    for (const shape of SHAPES) out = out.replace(shape.pattern, shape.replace);
    return out;
  }

  /** Only the known values: for text whose shapes are the operator's own (its JSON log lines). */
  redactValues(text: string): string {
    if (this.#forms.size === 0 || !text) return text;
    // Longest first, so a value's base64 is not half-replaced by a shorter value inside it.
    this.#pattern ??= new RegExp(
      [...this.#forms]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return text.replace(this.#pattern, REDACTED);
  }
}

/**
 * The process's redactor: the model resolver adds the keys it reads, diagnostics and the logger
 * redact with it. One per process, because a secret read for one step must not show in another's.
 */
export const SECRETS = new SecretRedactor();

/** Redacts with the process's redactor. */
export const redactSecrets = (text: string): string => SECRETS.redact(text);
