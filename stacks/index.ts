export { gitLabConnection, inspectGitLab, loadEnvironmentConfig, readConfigSource } from "./load";
export { GITLAB_FEATURES, agentkTagFor, instanceQuery, withInstance } from "./instance";
export { parseEnvironmentConfig } from "./resolve";
export type { ConfigSource } from "./resolve";
export { ConfigError } from "./errors";
export { ENVIRONMENT_DEFAULTS, PINNED } from "./defaults";
export * from "./model";
