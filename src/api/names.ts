// Names shared by the API, the operator and the CLI: the API group, labels, annotations and agents.

export const GROUP = 'fractale.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The agents a step can name. Order is the order users read them in docs and errors. */
export const AGENT_NAMES = [
  'build',
  'kubernetes-job',
  'minicluster',
  'cost',
  'flux-batch',
  'optimize',
] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** Labels every object fractale creates carries, so informers and cleanup can select them. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  plan: `${GROUP}/plan`,
  step: `${GROUP}/step`,
  attempt: `${GROUP}/attempt`,
  agent: `${GROUP}/agent`,
  cache: `${GROUP}/cache`,
  experiment: `${GROUP}/experiment`,
  cell: `${GROUP}/cell`,
  repetition: `${GROUP}/repetition`,
  application: `${GROUP}/application`,
  variant: `${GROUP}/variant`,
  model: `${GROUP}/model`,
} as const;
export const MANAGED_BY = 'fractale';

export const ANNOTATIONS = {
  /** A person's answer to a step waiting in AwaitingHuman. */
  answer: `${GROUP}/answer`,
} as const;

export const FINALIZER = `${GROUP}/cleanup`;
