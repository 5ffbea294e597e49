import * as pulumi from "@pulumi/pulumi";
import type { ContainerResources } from "../components/container-resources";
import type { GitLabAgentArgs } from "../components/gitlab-agent";
import type { EnvironmentProtection } from "../components/gitlab-environments";
import type { EnvironmentTier } from "../components/gitlab";
import type { FluxBootstrapArgs } from "../components/flux-bootstrap";
import type { AppDeploymentArgs, AppIngress } from "../components/app-deployment";
import type { AppDeployMethod } from "../components/app-namespace";
import type { CiVariableEntry } from "../components/ci-variables";
import type { GitLabRunnerArgs, RunnerCacheArgs } from "../components/gitlab-runner";
import type { NamespaceLimitRange, NamespaceQuota } from "../components/platform-namespace";
import type { RegistryAuthArgs } from "../components/registry-auth";
import type { RunnerToleration } from "../components/runner-values";

/**
 * The validated, defaulted configuration of one stack: what `index.ts` composes from. Produced only
 * by `parseEnvironmentConfig` (pure) and `loadEnvironmentConfig` (reads the stack's config); deeply
 * frozen. Credentials are secret `Output`s from here on.
 *
 * Where a setting is passed to a component as it is, its type is the component's argument type
 * (components never import `stacks/`; the dependency runs this way only), so the two cannot drift.
 */

export { AGENT_ACCESS_AS } from "../components/agent-config";
export { DEPLOY_METHODS } from "../components/app-namespace";
export { ENVIRONMENT_TIERS } from "../components/gitlab-environments";
export type { ContainerResources, RunnerToleration };

/** The environments a stack can be. Review stacks are short-lived, one per merge request. */
export const ENVIRONMENTS = ["dev", "staging", "production", "review"] as const;
/** One of {@link ENVIRONMENTS}. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** How an app reaches the cluster: one of `DEPLOY_METHODS`. */
export type DeployMethod = AppDeployMethod;

/** Which capabilities this stack deploys. */
export interface Features {
  /** GitLab Runner (Kubernetes executor) in the managed namespace. */
  readonly runner: boolean;
  /** Deploy token and `kubernetes.io/dockerconfigjson` pull secrets. */
  readonly registryAuth: boolean;
  /** Project/group CI/CD variables from config plus the per-environment ones the platform publishes. */
  readonly ciVariables: boolean;
  /** GitLab agent for Kubernetes. */
  readonly agent: boolean;
  /** Flux controllers and per-app OCIRepository + Kustomization. */
  readonly flux: boolean;
  /** App namespaces, ServiceAccounts and deploy RBAC for the apps in config. */
  readonly apps: boolean;
  /** GitLab environments (and, where configured, protected environments) in the app projects. */
  readonly environments: boolean;
}

/** The GitLab instance and the paths the platform serves. */
export interface GitLabSettings {
  /** GitLab base URL without `/api/v4`, e.g. `https://gitlab.com`. */
  readonly url: string;
  /** Host name of `url`. */
  readonly host: string;
  /** Full path of the platform project (holds the agent config, project runner and variables). */
  readonly projectPath: string;
  /** Numeric id of the platform project (the runner API needs ids, not paths). */
  readonly projectId: number | undefined;
  /** Full path of the group the platform serves, when group-scoped objects are used. */
  readonly groupPath: string | undefined;
  /** Numeric id of the group. */
  readonly groupId: number | undefined;
  /** Branch of the platform project the agent's config file is committed to. */
  readonly defaultBranch: string;
  /** GitLab environment scope of the variables the platform publishes to app projects. */
  readonly environmentScope: string;
  /** Whether the published deployer credentials (`KUBECONFIG`, `KUBE_TOKEN`) are protected. */
  readonly protectPublishedCredentials: boolean;
  /** Container registry host. */
  readonly registryHost: string;
}

/** The namespace for GitLab-managed cluster apps (runner, agent) and runner job pods. */
export interface NamespaceSettings {
  /** Namespace name. */
  readonly name: string;
  /** ResourceQuota hard limits. */
  readonly quota: NamespaceQuota;
  /** LimitRange defaults for containers that don't set their own. */
  readonly limitRange: NamespaceLimitRange;
}

/**
 * GitLab Runner settings: the runner's arguments that come from config, every default applied,
 * plus the reason a privileged runner must give in some environments.
 */
export interface RunnerSettings extends Required<
  Omit<GitLabRunnerArgs, "namespace" | "gitlabUrl" | "projectId" | "groupId" | "cache">
> {
  readonly cache: RunnerCacheArgs | undefined;
  /** Why the runner is privileged (production requires it with `privileged: true`). */
  readonly privilegedReason: string | undefined;
}

/** Registry pull-secret settings: the arguments of `RegistryAuth` that come from config. */
export interface RegistryAuthSettings extends Pick<RegistryAuthArgs, "scope" | "lifetimeDays"> {
  readonly secretName: string;
  /** Explicit expiry (`YYYY-MM-DD`); changing it rotates the token and every pull secret. */
  readonly expiresAt: string | undefined;
}

/** One CI/CD variable from config: the `CiVariables` entry, plus whether it is a credential. */
export interface CiVariableSettings extends Omit<CiVariableEntry, "value" | "description"> {
  /** Secret. */
  readonly value: pulumi.Output<string>;
  readonly description: string | undefined;
  /** Whether the value is a credential (production requires such variables masked and protected). */
  readonly credential: boolean;
}

/** GitLab agent for Kubernetes settings: the arguments of `GitLabAgent` that come from config. */
export interface AgentSettings extends Pick<
  GitLabAgentArgs,
  | "name"
  | "chartVersion"
  | "kasAddress"
  | "accessAs"
  | "projects"
  | "groups"
  | "replicas"
  | "rotation"
> {
  /** Namespace of agentk, apart from the runner's: job pods must not reach the agent's identity. */
  readonly namespace: string;
  /** agentk image tag; the chart's appVersion when undefined. */
  readonly imageTag: string | undefined;
}

/** The GitLab environment each app project gets for this stack. */
export interface EnvironmentsSettings {
  /** Environment name in every app project (a concrete name, not a wildcard scope). */
  readonly name: string;
  readonly tier: EnvironmentTier;
  /** Protect the environment (GitLab Premium): only `deployAccessLevel` and above may deploy. */
  readonly protected: boolean;
  readonly deployAccessLevel: EnvironmentProtection["deployAccessLevel"];
  /** Approvals a deployment needs (0 to 5), when protected. */
  readonly requiredApprovals: number;
}

/** Flux settings: the arguments of `FluxBootstrap` that come from config. */
export type FluxSettings = Required<
  Pick<FluxBootstrapArgs, "chartVersion" | "namespace" | "interval">
>;

/** One application the platform deploys. */
export interface AppSettings extends Pick<
  AppDeploymentArgs,
  "image" | "port" | "replicas" | "resources" | "podDisruptionBudget"
> {
  readonly name: string;
  readonly namespace: string;
  /** GitLab project path of the app's repository. */
  readonly project: string;
  readonly method: DeployMethod;
  readonly ingress: AppIngress | undefined;
}

/** The whole validated configuration of one stack. */
export interface EnvironmentConfig {
  readonly project: string;
  readonly stack: string;
  readonly environment: Environment;
  readonly kubeContext: string;
  /** API server URL written into the KUBECONFIG of `direct` apps; required when an app uses `direct`. */
  readonly kubeApiServer: string | undefined;
  readonly gitlab: GitLabSettings;
  readonly features: Features;
  readonly namespace: NamespaceSettings;
  readonly runner: RunnerSettings;
  readonly registryAuth: RegistryAuthSettings;
  readonly ciVariables: readonly CiVariableSettings[];
  readonly agent: AgentSettings;
  readonly flux: FluxSettings;
  readonly environments: EnvironmentsSettings;
  readonly apps: readonly AppSettings[];
}
