// GitLab resources as Pulumi dynamic resources, named like @pulumi/gitlab's. Type tokens are
// `pulumi-nodejs:dynamic/gitlab:<Class>`.
export {
  type ClientSettings,
  type ConfigSource,
  type Connection,
  DEFAULT_CLIENT_SETTINGS,
  DEFAULT_GITLAB_HOST,
  GitLabApiError,
  normalizeBaseUrl,
  resolveConnection,
} from "./client";
export { type Failure, MODULE, formatFailures } from "./resource";
export {
  type VariableArgs,
  type VariableType,
  validateEnvironmentScope,
  validateMaskedValue,
  validateVariable,
  validateVariableKey,
  validateVariableType,
} from "./variables";
export {
  ProjectVariable,
  type ProjectVariableArgs,
  ProjectVariableProvider,
  createProjectVariableProvider,
} from "./project-variable";
export {
  GroupVariable,
  type GroupVariableArgs,
  GroupVariableProvider,
  createGroupVariableProvider,
} from "./group-variable";
export {
  DEPLOY_TOKEN_SCOPES,
  type DeployTokenArgs,
  type DeployTokenScope,
  validateDeployTokenScopes,
  validateDeployTokenUsername,
  validateTimestamp,
} from "./deploy-tokens";
export {
  ProjectDeployToken,
  type ProjectDeployTokenArgs,
  ProjectDeployTokenProvider,
  createProjectDeployTokenProvider,
} from "./project-deploy-token";
export {
  GroupDeployToken,
  type GroupDeployTokenArgs,
  GroupDeployTokenProvider,
  createGroupDeployTokenProvider,
} from "./group-deploy-token";
export {
  type RunnerAccessLevel,
  type RunnerType,
  RUNNER_SETTINGS,
  UserRunner,
  type UserRunnerArgs,
  UserRunnerProvider,
  UserRunnerSettings,
  type UserRunnerSettingsArgs,
  UserRunnerSettingsProvider,
  createUserRunnerProvider,
  createUserRunnerSettingsProvider,
  validateRunnerTarget,
  validateRunnerType,
} from "./user-runner";
export {
  ClusterAgent,
  type ClusterAgentArgs,
  ClusterAgentProvider,
  createClusterAgentProvider,
  validateClusterAgentName,
} from "./cluster-agent";
export {
  ClusterAgentToken,
  type ClusterAgentTokenArgs,
  ClusterAgentTokenProvider,
  createClusterAgentTokenProvider,
} from "./cluster-agent-token";
export {
  type FileEncoding,
  RepositoryFile,
  type RepositoryFileArgs,
  RepositoryFileProvider,
  createRepositoryFileProvider,
  validateFilePath,
} from "./repository-file";
export {
  type EnvironmentTier,
  ProjectEnvironment,
  type ProjectEnvironmentArgs,
  ProjectEnvironmentProvider,
  createProjectEnvironmentProvider,
  validateEnvironmentName,
  validateKubernetesNamespace,
} from "./project-environment";
export {
  type ApprovalRule,
  type DeployAccessLevel,
  ProjectProtectedEnvironment,
  type ProjectProtectedEnvironmentArgs,
  ProjectProtectedEnvironmentProvider,
  createProjectProtectedEnvironmentProvider,
  validateDeployAccessLevel,
} from "./project-protected-environment";
export {
  ACCESS_LEVELS,
  ACCESS_LEVEL_VALUES,
  type AllowedTo,
  type ProtectedRefAccessLevel,
  validateAllowedTo,
} from "./protected-refs";
export {
  BranchProtection,
  type BranchProtectionArgs,
  BranchProtectionProvider,
  type UnprotectAccessLevel,
  createBranchProtectionProvider,
  validateBranchName,
} from "./branch-protection";
export {
  TagProtection,
  type TagProtectionArgs,
  TagProtectionProvider,
  createTagProtectionProvider,
  validateTagName,
} from "./tag-protection";
export {
  type ContainerTagAccessLevel,
  ProjectContainerTagProtection,
  type ProjectContainerTagProtectionArgs,
  ProjectContainerTagProtectionProvider,
  createProjectContainerTagProtectionProvider,
  validateTagNameRegex,
} from "./project-container-tag-protection";
