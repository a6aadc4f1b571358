// Prompt templates, kept apart from the agents' logic.
export * from './build.ts';
export * from './common.ts';
export * from './cost.ts';
export * from './debug.ts';
export * from './flux-batch.ts';
export * from './kubernetes.ts';
export * from './kubernetes-job.ts';
export * from './manager.ts';
export * from './minicluster.ts';
export * from './render.ts';
