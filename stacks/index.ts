export { loadEnvironmentConfig, readConfigSource } from "./load";
export { parseEnvironmentConfig } from "./resolve";
export type { ConfigSource } from "./resolve";
export { ConfigError } from "./errors";
export { ENVIRONMENT_DEFAULTS, PINNED } from "./defaults";
export * from "./model";
