// The flux view images a MiniCluster may use: the Flux install the operator mounts beside the
// application. It must match the application image's OS and architecture, so only known views pass.

/** The known flux views: the seed's list, with its `arn-8` spelling corrected to `arm-8`. */
export const FLUX_VIEWS = [
  'ghcr.io/converged-computing/flux-view-rocky:arm-9',
  'ghcr.io/converged-computing/flux-view-rocky:arm-8',
  'ghcr.io/converged-computing/flux-view-rocky:tag-9',
  'ghcr.io/converged-computing/flux-view-rocky:tag-8',
  'ghcr.io/converged-computing/flux-view-ubuntu:tag-noble',
  'ghcr.io/converged-computing/flux-view-ubuntu:tag-jammy',
  'ghcr.io/converged-computing/flux-view-ubuntu:tag-focal',
  'ghcr.io/converged-computing/flux-view-ubuntu:arm-jammy',
  'ghcr.io/converged-computing/flux-view-ubuntu:arm-focal',
] as const;

export const MINICLUSTER_API_VERSION = 'flux-framework.org/v1alpha2';
export const MINICLUSTER_KIND = 'MiniCluster';
