export * from './agentplan.ts';
export * from './agentstep.ts';
export * from './common.ts';
export * from './context.ts';
export * from './convert.ts';
export * from './crd.ts';
export * from './names.ts';
export * from './validate.ts';
