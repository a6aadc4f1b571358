# The fractale operator image: `docker build -t fractale:0.1.0 .` (any builder: no BuildKit-only syntax).
#
# Base images are pinned by major version (Node 24, Debian 12) so rebuilds pick up security fixes
# without changing the runtime; pin a digest in your own release pipeline for reproducible builds.

# Build: the TypeScript compiler and the rest of the dev dependencies live only in this stage.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only: --omit=dev leaves out the compiler, the test tools and the `node`
# devDependency (a second Node 24 from npm, needed on developer machines, not here). Install scripts
# are not run: no production dependency needs one, and none gets to run code at build time.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Run: distroless Node 24 rather than node:24-bookworm-slim, because it has no shell, no package
# manager and no npm, so there is far less to patch and to exploit; `:nonroot` runs as uid 65532.
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS run
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="fractale" \
      org.opencontainers.image.description="Kubernetes operator: LLM agents build containers and run HPC applications until they work" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The sample plans and the CRDs, as in the npm package, for the CLI commands that read them.
COPY plans ./plans
COPY crds ./crds
# Numeric, so Kubernetes can verify runAsNonRoot. The image writes nothing outside /tmp, so it runs
# with a read-only root filesystem (the chart mounts an emptyDir at /tmp).
USER 65532:65532
EXPOSE 8080 8081
# Node is PID 1 with no init: the operator's own SIGTERM and SIGINT handlers stop it gracefully.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/main.js", "operator"]
