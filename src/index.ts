// The fractale package: the API (schemas, types, validation, seed-plan conversion), the operator,
// its configuration, and `ask` for trying a prompt against the configured model.
export * from './api/index.ts';
export { type AskOptions, ask } from './cli/ask.ts';
export { createOperator, DRIVERS, type OperatorOptions } from './operator/index.ts';
export { loadConfig, type OperatorConfig, operatorConfig } from './runtime/config.ts';
