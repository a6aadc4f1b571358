/** An image reference split the way container runtimes read it. */
export interface ImageReference {
  /** Registry host, `docker.io` when none is written. */
  domain: string;
  /** Repository path within the registry, `library/<name>` for official Docker Hub images. */
  path: string;
  tag?: string;
  digest?: string;
  /** The fully qualified form, e.g. `docker.io/library/ubuntu:latest`. */
  normalized: string;
}

/** Parses an image reference, filling in Docker Hub and `:latest` the way containerd does. */
export function parseImageReference(image: string): ImageReference {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let domain = 'docker.io';
  let path = rest;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first === 'index.docker.io' ? 'docker.io' : first;
    path = rest.slice(slash + 1);
  }
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!tag && !digest) tag = 'latest';
  const normalized = `${domain}/${path}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return { domain, path, tag, digest, normalized };
}

/** The last path component of the repository (`executor` for `gcr.io/kaniko-project/executor:v1`). */
export function repositoryName(image: string): string {
  const { path } = parseImageReference(image);
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True when a pattern matches the whole reference, as written or normalised. */
export function matchesImagePattern(patterns: readonly string[], image: string): boolean {
  const normalized = parseImageReference(image).normalized;
  return patterns.some((source) => {
    const regex = new RegExp(`^(?:${source})$`);
    return regex.test(image) || regex.test(normalized);
  });
}

export interface PushedImage {
  reference: string;
  digest: string;
  pushedAt: Date;
}

/** The images that simulated builds pushed; they are pullable from every node. */
export class SimRegistry {
  readonly #images = new Map<string, PushedImage>();

  /** Records an image under a tag; `digest` is `sha256:<hex>`. */
  push(reference: string, digest: string, pushedAt: Date): PushedImage {
    const image = { reference: parseImageReference(reference).normalized, digest, pushedAt };
    this.#images.set(image.reference, image);
    return image;
  }

  /** Finds a pushed image by tag or by digest. */
  get(reference: string): PushedImage | undefined {
    const parsed = parseImageReference(reference);
    if (parsed.digest) {
      const repository = `${parsed.domain}/${parsed.path}`;
      return [...this.#images.values()].find(
        (image) => image.digest === parsed.digest && image.reference.startsWith(`${repository}:`),
      );
    }
    return this.#images.get(parsed.normalized);
  }

  has(reference: string): boolean {
    return this.get(reference) !== undefined;
  }

  list(): PushedImage[] {
    return [...this.#images.values()];
  }
}
